/** The steps a run captured (names, types, configs, graph order): the workflow may have changed since. */
import { topologicalOrder } from "@algorythmos/domain";
import type { CapturedDefinition } from "~/lib/operations";
import type { CapturedStep } from "./types";

type CapturedGraph = CapturedDefinition & { edges?: { source: string; target: string }[] };

/**
 * Each captured step by id, with its place in the graph (predecessors first; triggers lead): the trace's tie
 * breaker when two attempts start in the same millisecond.
 */
export function capturedSteps(definition: CapturedDefinition): Record<string, CapturedStep> {
  const steps = definition.steps ?? [];
  let order: string[];
  try {
    order = topologicalOrder({ steps: steps as never, edges: ((definition as CapturedGraph).edges ?? []) as never });
  } catch {
    order = steps.map((step) => step.id); // a cycle never runs; keep the definition's order
  }
  const position = new Map(order.map((id, index) => [id, index]));
  const captured: Record<string, CapturedStep> = {};
  for (const step of steps) {
    captured[step.id] = { name: step.name || step.id, type: step.type, config: step.config ?? {}, order: position.get(step.id) ?? order.length };
  }
  return captured;
}
