import type { WorkflowDefinition } from "./definition.js";
import { bodyEdge, findCycle, loopBodies } from "./graph.js";
import { stepKeyProblems } from "./step-keys.js";
import { credentialProblems, urlProblems, type ValidationContext } from "./static-checks.js";
import { isStepType, isTriggerType, stepTypes } from "./step-types.js";
import type { Problem, ProblemCode } from "./problem.js";

export type { Problem, ProblemCode } from "./problem.js";

/**
 * What keeps a definition from running (blocking problems only; warnings are static-checks' reachabilityWarnings).
 * With `context.credentials`, credential references are checked too (R52).
 */
export function validateDefinition(definition: WorkflowDefinition, context: ValidationContext = {}): Problem[] {
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

  problems.push(...stepKeyProblems(definition.steps));

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

  problems.push(...edgeLabelProblems(definition, steps), ...loopProblems(definition, steps));
  problems.push(...urlProblems(definition), ...(context.credentials ? credentialProblems(definition, context.credentials) : []));

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

type Steps = Map<string, WorkflowDefinition["steps"][number]>;

/**
 * Which labels fit which source (R26, R27): a condition's edges are true / false, a switch's its case keys or
 * default, a loop's body (one) or none; `error` only from a step with onError "branch", `body` only from a loop.
 * Other labels on a plain step's edges carry no meaning and are left alone.
 */
function edgeLabelProblems(definition: WorkflowDefinition, steps: Steps): Problem[] {
  const problems: Problem[] = [];
  for (const edge of definition.edges) {
    const source = steps.get(edge.source);
    if (!source || !steps.has(edge.target) || !edge.label) continue; // dangling, or unlabelled (checked above)
    const name = source.name || source.id;
    const bad = (code: ProblemCode, message: string) => problems.push({ code, edgeId: edge.id, stepId: source.id, message });
    if (edge.label === "error") {
      if (source.onError !== "branch") bad("ERROR_EDGE_WITHOUT_BRANCH", `Edge "${edge.id}" is labelled error, but step "${name}" does not branch on errors (set its onError to "branch")`);
      continue;
    }
    if (source.type === "condition") {
      if (edge.label !== "true" && edge.label !== "false") bad("UNLABELLED_CONDITION_EDGE", `Edges leaving condition "${name}" must be labelled true or false`);
    } else if (source.type === "switch") {
      const keys = switchKeys(source.config);
      if (!keys.includes(edge.label) && edge.label !== "default") {
        bad("INVALID_EDGE_LABEL", `Edge "${edge.id}" leaving switch "${name}" is labelled "${edge.label}"; use one of its case keys (${keys.join(", ") || "none yet"}) or default`);
      }
    } else if (edge.label === "body") {
      if (source.type !== "loop") bad("INVALID_EDGE_LABEL", `Edge "${edge.id}" is labelled body, but only a loop has a body ("${name}" is a ${source.type})`);
    } else if (source.type === "loop") {
      bad("INVALID_EDGE_LABEL", `Edge "${edge.id}" leaving loop "${name}" is labelled "${edge.label}"; a loop's edges are its body (labelled body) and unlabelled ones, taken after it`);
    }
  }
  for (const edge of definition.edges) {
    const source = steps.get(edge.source);
    if (source?.type === "switch" && !edge.label && steps.has(edge.target)) {
      problems.push({ code: "INVALID_EDGE_LABEL", edgeId: edge.id, stepId: source.id, message: `Edges leaving switch "${source.name || source.id}" must be labelled with a case key or default` });
    }
  }
  return problems;
}

function switchKeys(config: unknown): string[] {
  const cases = (config as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(cases)) return [];
  return cases.map((entry) => (entry as { key?: unknown } | null)?.key).filter((key): key is string => typeof key === "string");
}

/**
 * R25: a loop has exactly one body edge; its body (the steps reachable from it) is entered only through that
 * edge — no edge from outside the body into it (nested loops are bodies inside bodies, which this keeps nested).
 */
function loopProblems(definition: WorkflowDefinition, steps: Steps): Problem[] {
  const problems: Problem[] = [];
  for (const step of steps.values()) {
    if (step.type !== "loop") continue;
    const count = definition.edges.filter((edge) => edge.source === step.id && edge.label === "body" && steps.has(edge.target)).length;
    if (count === 0) problems.push({ code: "LOOP_WITHOUT_BODY", stepId: step.id, message: `Loop "${step.name || step.id}" needs an edge labelled body to the first step of its body` });
    if (count > 1) problems.push({ code: "LOOP_WITHOUT_BODY", stepId: step.id, message: `Loop "${step.name || step.id}" has ${count} body edges; its body starts at one step` });
  }
  if (findCycle(definition)) return problems; // bodies of a cyclic graph mean nothing (the cycle is reported)
  for (const [loopId, body] of loopBodies(definition)) {
    const entry = bodyEdge(definition, loopId)!;
    const loopName = steps.get(loopId)?.name || loopId;
    for (const edge of definition.edges) {
      if (edge === entry || !body.has(edge.target) || body.has(edge.source) || !steps.has(edge.source)) continue;
      const target = steps.get(edge.target)!;
      problems.push({
        code: "LOOP_BODY_ENTERED",
        edgeId: edge.id,
        stepId: target.id,
        message: `Step "${target.name || target.id}" is in the body of loop "${loopName}", so it can only be reached through the loop's body edge (edge "${edge.id}" comes from "${steps.get(edge.source)!.name || edge.source}")`,
      });
    }
  }
  return problems;
}
