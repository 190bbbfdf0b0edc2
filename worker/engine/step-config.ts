import { parseStepConfig, type Step, type StepType } from "@algorythmos/domain";
import { errorMessage } from "../errors.js";
import type { RunState } from "./types.js";

/** The step's config: the re-run's edited input for its `fromStepId` (R21), else the definition's. */
export function stepConfig(run: RunState, step: Step): { config: unknown; error?: undefined } | { config?: undefined; error: string; raw: unknown } {
  const raw = step.id === run.fromStepId && run.stepInputOverride !== null && run.stepInputOverride !== undefined ? run.stepInputOverride : step.config;
  try {
    return { config: parseStepConfig(step.type as StepType, raw) };
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const message = issues
      ? issues.map((issue) => `${issue.path.map(String).join(".") || "config"}: ${issue.message}`).join("; ")
      : errorMessage(error);
    return { error: `Invalid config: ${message}`, raw };
  }
}
