import type { Edge, WorkflowDefinition } from "./definition.js";
import { isTriggerType } from "./step-types.js";

type Graph = Pick<WorkflowDefinition, "steps" | "edges">;

/** Edges grouped by source step id (edges to or from missing steps are ignored). */
export function outgoingEdges(graph: Graph): Map<string, Edge[]> {
  const ids = new Set(graph.steps.map((step) => step.id));
  const out = new Map<string, Edge[]>();
  for (const id of ids) out.set(id, []);
  for (const edge of graph.edges) {
    if (ids.has(edge.source) && ids.has(edge.target)) out.get(edge.source)!.push(edge);
  }
  return out;
}

/** Predecessor step ids of every step. */
export function predecessors(graph: Graph): Map<string, string[]> {
  const preds = new Map<string, string[]>(graph.steps.map((step) => [step.id, []]));
  for (const [source, edges] of outgoingEdges(graph)) {
    for (const edge of edges) preds.get(edge.target)!.push(source);
  }
  return preds;
}

/** Returns one cycle as a list of step ids, or null when the graph is acyclic. Iterative DFS: no recursion limit. */
export function findCycle(graph: Graph): string[] | null {
  const out = outgoingEdges(graph);
  const state = new Map<string, "visiting" | "done">();
  for (const start of out.keys()) {
    if (state.has(start)) continue;
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, "visiting");
    while (stack.length) {
      const frame = stack[stack.length - 1]!;
      const edges = out.get(frame.id)!;
      if (frame.next >= edges.length) {
        state.set(frame.id, "done");
        stack.pop();
        continue;
      }
      const target = edges[frame.next++]!.target;
      const seen = state.get(target);
      if (seen === "visiting") {
        const from = stack.findIndex((f) => f.id === target);
        return stack.slice(from).map((f) => f.id);
      }
      if (!seen) {
        state.set(target, "visiting");
        stack.push({ id: target, next: 0 });
      }
    }
  }
  return null;
}

/** Step ids in an order where every step comes after its predecessors (Kahn's algorithm). Throws on a cycle. */
export function topologicalOrder(graph: Graph): string[] {
  const preds = predecessors(graph);
  const remaining = new Map([...preds].map(([id, list]) => [id, list.length]));
  const out = outgoingEdges(graph);
  const ready = graph.steps.map((step) => step.id).filter((id) => remaining.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const edge of out.get(id)!) {
      const left = remaining.get(edge.target)! - 1;
      remaining.set(edge.target, left);
      if (left === 0) ready.push(edge.target);
    }
  }
  if (order.length !== remaining.size) throw new Error("The workflow graph has a cycle");
  return order;
}

/** The edge that enters a loop's body (its first one labelled `body`), or undefined. */
export function bodyEdge(graph: Graph, loopId: string): Edge | undefined {
  return graph.edges.find((edge) => edge.source === loopId && edge.label === "body");
}

/** Steps reachable from `start` (included), following every edge. */
function reachable(out: Map<string, Edge[]>, start: string, skip?: Edge): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    for (const edge of out.get(queue.shift()!) ?? []) {
      if (edge === skip || seen.has(edge.target)) continue;
      seen.add(edge.target);
      queue.push(edge.target);
    }
  }
  return seen;
}

/**
 * Each loop step's body: the steps reachable from the target of its `body` edge (docs/run-engine.md R25).
 * Loops without a body edge have none. validateDefinition checks that bodies are entered only through it.
 */
export function loopBodies(graph: Graph): Map<string, Set<string>> {
  const out = outgoingEdges(graph);
  const bodies = new Map<string, Set<string>>();
  for (const step of graph.steps) {
    if (step.type !== "loop") continue;
    const edge = bodyEdge(graph, step.id);
    if (edge && out.has(edge.target)) bodies.set(step.id, reachable(out, edge.target));
  }
  return bodies;
}

/** The innermost loop whose body holds each step (null: the step is at the top level). */
export function loopOwners(graph: Graph, bodies: Map<string, Set<string>> = loopBodies(graph)): Map<string, string | null> {
  const owners = new Map<string, string | null>();
  for (const step of graph.steps) {
    let owner: string | null = null;
    let size = Infinity;
    for (const [loopId, body] of bodies) {
      if (body.has(step.id) && body.size < size) {
        owner = loopId;
        size = body.size;
      }
    }
    owners.set(step.id, owner);
  }
  return owners;
}

/**
 * The step and every step downstream of it: what a re-run from that step executes again (R21). For a step
 * inside a loop body (R29) that is also every enclosing loop and what follows each loop — not the body steps
 * before it, which each iteration reuses.
 */
export function stepAndDescendants(graph: Graph, stepId: string): Set<string> {
  const out = outgoingEdges(graph);
  const owners = loopOwners(graph);
  const result = reachable(out, stepId);
  for (let loopId = owners.get(stepId) ?? null; loopId !== null; loopId = owners.get(loopId) ?? null) {
    for (const id of reachable(out, loopId, bodyEdge(graph, loopId))) result.add(id);
  }
  return result;
}

/** The trigger step type a run's `trigger` kind starts at (R4); other kinds (call, test, error, retry) have none. */
const TRIGGER_TYPE_OF_KIND: Record<string, string> = { manual: "trigger.manual", webhook: "trigger.webhook", cron: "trigger.cron" };

/**
 * R4: the trigger steps a run starts at. `triggerStepId` (set when the run was created) names one; without it the
 * run's kind decides: the triggers of its type (a run of another kind — a child run, a test case — starts at the
 * manual triggers); a workflow without any of those starts at every trigger, as before triggers were chosen.
 * `error` when `triggerStepId` names no trigger of the definition.
 */
export function runStartTriggers(graph: Pick<WorkflowDefinition, "steps">, trigger: string, triggerStepId: string | null): { ids: Set<string>; error?: string } {
  const triggers = graph.steps.filter((step) => isTriggerType(step.type));
  if (triggerStepId !== null) {
    const chosen = triggers.find((step) => step.id === triggerStepId);
    return chosen ? { ids: new Set([chosen.id]) } : { ids: new Set(), error: `The run starts at step "${triggerStepId}", which is not a trigger of this definition` };
  }
  const type = TRIGGER_TYPE_OF_KIND[trigger] ?? "trigger.manual";
  const ofKind = triggers.filter((step) => step.type === type);
  return { ids: new Set((ofKind.length ? ofKind : triggers).map((step) => step.id)) };
}

/**
 * The trigger a new run of `trigger` kind starts at when none was chosen (R4): the only trigger of that kind's type,
 * else — for a manual run of a workflow with no manual trigger — its only trigger. An `error` (for people) when that
 * is ambiguous or there is none, naming the candidates.
 */
export function defaultStartTrigger(graph: Pick<WorkflowDefinition, "steps">, trigger: string): { stepId: string; error?: undefined } | { stepId?: undefined; error: string } {
  const triggers = graph.steps.filter((step) => isTriggerType(step.type));
  const type = TRIGGER_TYPE_OF_KIND[trigger] ?? "trigger.manual";
  const ofKind = triggers.filter((step) => step.type === type);
  const names = (steps: typeof triggers) => steps.map((step) => `"${step.name || step.id}"`).join(", ");
  if (ofKind.length === 1) return { stepId: ofKind[0]!.id };
  if (ofKind.length > 1) return { error: `The workflow has ${ofKind.length} ${type} triggers (${names(ofKind)}): choose the one that starts the run (triggerStepId)` };
  if (trigger === "manual" && triggers.length === 1) return { stepId: triggers[0]!.id };
  if (trigger === "manual" && triggers.length > 1) return { error: `The workflow has no manual trigger: choose the trigger the run starts at (triggerStepId), one of ${names(triggers)}` };
  return { error: `The workflow has no ${type} trigger` };
}
