import type { WorkflowDefinition } from "./definition.js";
import { findCycle } from "./graph.js";
import { isStepType, isTriggerType, stepTypes } from "./step-types.js";

/** A problem found in a definition. Problems never block editing; they block running. */
export type ProblemCode =
  | "DUPLICATE_STEP_ID"
  | "DUPLICATE_EDGE_ID"
  | "UNKNOWN_STEP_TYPE"
  | "INVALID_CONFIG"
  | "DANGLING_EDGE"
  | "CYCLE"
  | "MISSING_TRIGGER"
  | "TRIGGER_HAS_INCOMING_EDGE"
  | "UNLABELLED_CONDITION_EDGE"
  | "INVALID_DEFINITION";

export interface Problem {
  code: ProblemCode;
  message: string;
  stepId?: string;
  edgeId?: string;
  /** Config field path for INVALID_CONFIG, e.g. ["url"]. */
  path?: (string | number)[];
}

export function validateDefinition(definition: WorkflowDefinition): Problem[] {
  const problems: Problem[] = [];
  const steps = new Map<string, WorkflowDefinition["steps"][number]>();

  for (const step of definition.steps) {
    if (steps.has(step.id)) {
      problems.push({ code: "DUPLICATE_STEP_ID", stepId: step.id, message: `Two steps share the id "${step.id}"` });
      continue;
    }
    steps.set(step.id, step);
    const label = step.name || step.id;
    if (!isStepType(step.type)) {
      problems.push({ code: "UNKNOWN_STEP_TYPE", stepId: step.id, message: `Step "${label}" has unknown type "${step.type}"` });
      continue;
    }
    const parsed = stepTypes[step.type].configSchema.safeParse(step.config);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.filter((part): part is string | number => typeof part !== "symbol");
        const field = path.length ? `${path.join(".")}: ` : "";
        problems.push({ code: "INVALID_CONFIG", stepId: step.id, path, message: `Step "${label}": ${field}${issue.message}` });
      }
    }
  }

  const edgeIds = new Set<string>();
  for (const edge of definition.edges) {
    if (edgeIds.has(edge.id)) {
      problems.push({ code: "DUPLICATE_EDGE_ID", edgeId: edge.id, message: `Two edges share the id "${edge.id}"` });
    }
    edgeIds.add(edge.id);
    for (const end of [edge.source, edge.target]) {
      if (!steps.has(end)) {
        problems.push({ code: "DANGLING_EDGE", edgeId: edge.id, stepId: end, message: `Edge "${edge.id}" points to missing step "${end}"` });
      }
    }
    const target = steps.get(edge.target);
    if (target && isTriggerType(target.type)) {
      problems.push({
        code: "TRIGGER_HAS_INCOMING_EDGE",
        edgeId: edge.id,
        stepId: target.id,
        message: `Trigger "${target.name || target.id}" cannot have incoming edges`,
      });
    }
    const source = steps.get(edge.source);
    if (source?.type === "condition" && !edge.label) {
      problems.push({
        code: "UNLABELLED_CONDITION_EDGE",
        edgeId: edge.id,
        stepId: source.id,
        message: `Edges leaving condition "${source.name || source.id}" must be labelled true or false`,
      });
    }
  }

  if (![...steps.values()].some((step) => isTriggerType(step.type))) {
    problems.push({ code: "MISSING_TRIGGER", message: "The workflow needs a trigger step" });
  }

  const cycle = findCycle(definition);
  if (cycle) {
    const names = cycle.map((id) => steps.get(id)?.name || id);
    problems.push({ code: "CYCLE", stepId: cycle[0], message: `Steps form a cycle: ${names.join(" → ")} → ${names[0]}` });
  }
  return problems;
}
