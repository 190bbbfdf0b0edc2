import { parseStepConfig, validateDefinition, WorkflowDefinition, type Problem, type Step, type StepType } from "@algorythmos/domain";
import { errorMessage } from "../errors.js";
import type { RunState } from "./types.js";

/*
 * R58: what a run parses of its captured definition — the definition itself (R3) and each step's config — is
 * parsed once per definition and kept, not once per run and step (it was ~5% of a webhook run's CPU: zod, and
 * the JSONata parse of every expression the config schemas check). Runs of one published version capture the
 * same definition, so they share one parsed, deeply frozen copy: nothing a run does can change what another
 * reads (a write to it throws). A re-run's edited step input (R21) is parsed on its own, every time.
 */

type ParsedDefinition = ReturnType<typeof WorkflowDefinition.safeParse>;
/** Per definition (its JSON text): the parse, and (once asked) its problems. */
const definitions = new Map<string, { parsed: ParsedDefinition; problems?: Problem[] }>();
const DEFINITIONS_KEPT = 200;
/** The parsed definition (a cached one) → its entry, so definitionProblems finds it without the text. */
const entryOf = new WeakMap<object, { parsed: ParsedDefinition; problems?: Problem[] }>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** R3: `WorkflowDefinition.safeParse` of a captured definition, once per distinct definition. */
export function parseCapturedDefinition(raw: unknown): ParsedDefinition {
  let key: string | undefined;
  try {
    key = JSON.stringify(raw);
  } catch {
    key = undefined; // not JSON (cannot come from the database): parsed, not kept
  }
  if (key === undefined) return WorkflowDefinition.safeParse(raw);
  const hit = definitions.get(key);
  if (hit) {
    definitions.delete(key);
    definitions.set(key, hit); // least recently used goes first
    return hit.parsed;
  }
  const parsed = WorkflowDefinition.safeParse(raw);
  if (parsed.success) deepFreeze(parsed.data);
  const entry = { parsed };
  if (definitions.size >= DEFINITIONS_KEPT) definitions.delete(definitions.keys().next().value!);
  definitions.set(key, entry);
  if (parsed.success) entryOf.set(parsed.data, entry);
  return parsed;
}

/** R3: `validateDefinition` of a parsed definition, once per cached definition. */
export function definitionProblems(definition: WorkflowDefinition): Problem[] {
  const entry = entryOf.get(definition);
  if (!entry) return validateDefinition(definition);
  entry.problems ??= deepFreeze(validateDefinition(definition));
  return entry.problems;
}

type Resolved = { config: unknown; error?: undefined } | { config?: undefined; error: string; raw: unknown };
/** Per step object of a cached (frozen) definition: its parsed config. Steps of other definitions are parsed each time. */
const configs = new WeakMap<Step, Resolved>();

/** The step's config: the re-run's edited input for its `fromStepId` (R21), else the definition's. */
export function stepConfig(run: RunState, step: Step): Resolved {
  const overridden = step.id === run.fromStepId && run.stepInputOverride !== null && run.stepInputOverride !== undefined;
  if (!overridden && Object.isFrozen(step)) {
    const hit = configs.get(step);
    if (hit) return hit;
    const resolved = deepFreeze(parse(step.type, step.config));
    configs.set(step, resolved);
    return resolved;
  }
  return parse(step.type, overridden ? run.stepInputOverride : step.config);
}

function parse(type: string, raw: unknown): Resolved {
  try {
    return { config: parseStepConfig(type as StepType, raw) };
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const message = issues
      ? issues.map((issue) => `${issue.path.map(String).join(".") || "config"}: ${issue.message}`).join("; ")
      : errorMessage(error);
    return { error: `Invalid config: ${message}`, raw };
  }
}
