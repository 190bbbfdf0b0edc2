import type { Edge, WorkflowDefinition } from "./definition.js";

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

/** The step and every step downstream of it (what a re-run from that step executes again). */
export function stepAndDescendants(graph: Graph, stepId: string): Set<string> {
  const out = outgoingEdges(graph);
  const seen = new Set<string>([stepId]);
  const queue = [stepId];
  while (queue.length) {
    for (const edge of out.get(queue.shift()!) ?? []) {
      if (!seen.has(edge.target)) {
        seen.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  return seen;
}
