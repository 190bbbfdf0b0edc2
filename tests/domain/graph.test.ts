import { describe, expect, it } from "vitest";
import { findCycle, outgoingEdges, predecessors, topologicalOrder, type Edge } from "@algorythmos/domain";

const step = (id: string) => ({ id, type: "delay", name: "", config: {}, position: { x: 0, y: 0 } });
const edge = (source: string, target: string, label?: "true" | "false"): Edge =>
  label ? { id: `${source}-${target}`, source, target, label } : { id: `${source}-${target}`, source, target };
const graph = (ids: string[], edges: Edge[]) => ({ steps: ids.map(step), edges });

/** Diamond plus a tail: a → b, a → c, b → d, c → d, d → e; steps listed out of order. */
const diamond = graph(["e", "d", "c", "b", "a"], [edge("d", "e"), edge("c", "d"), edge("b", "d"), edge("a", "c"), edge("a", "b")]);

function expectRespectsEdges(order: string[], edges: Edge[]) {
  for (const { source, target } of edges) {
    expect(order.indexOf(source), `${source} before ${target} in ${order.join(",")}`).toBeLessThan(order.indexOf(target));
  }
}

describe("topologicalOrder", () => {
  it("puts every step after its predecessors, even when steps are listed backwards", () => {
    const order = topologicalOrder(diamond);
    expect([...order].sort()).toEqual(["a", "b", "c", "d", "e"]);
    expectRespectsEdges(order, diamond.edges);
  });

  it("respects edges on a long chain listed in reverse and includes unconnected steps", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
    const edges = ids.slice(1).map((id, i) => edge(ids[i]!, id));
    const order = topologicalOrder(graph([...ids].reverse().concat("lonely"), edges));
    expect(order).toHaveLength(201);
    expect(order).toContain("lonely");
    expectRespectsEdges(order, edges);
  });

  it("ignores edges to missing steps", () => {
    expect(topologicalOrder(graph(["a", "b"], [edge("a", "b"), edge("ghost", "a"), edge("b", "ghost")]))).toEqual(["a", "b"]);
  });

  it("throws on a cycle", () => {
    expect(() => topologicalOrder(graph(["a", "b", "c"], [edge("a", "b"), edge("b", "c"), edge("c", "b")]))).toThrow(/cycle/);
  });
});

describe("findCycle", () => {
  it("returns null for an acyclic graph (a diamond is not a cycle)", () => {
    expect(findCycle(diamond)).toBeNull();
    expect(findCycle(graph([], []))).toBeNull();
  });

  it("returns exactly the steps of the cycle, each followed by its successor", () => {
    const g = graph(["t", "a", "b", "c", "z"], [edge("t", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "z")]);
    const cycle = findCycle(g)!;
    expect([...cycle].sort()).toEqual(["a", "b", "c"]);
    for (let i = 0; i < cycle.length; i++) {
      const from = cycle[i]!;
      const to = cycle[(i + 1) % cycle.length]!;
      expect(g.edges.some((e) => e.source === from && e.target === to), `${from} → ${to}`).toBe(true);
    }
  });

  it("finds a self-loop and a cycle not reachable from the first step", () => {
    expect(findCycle(graph(["a"], [edge("a", "a")]))).toEqual(["a"]);
    const cycle = findCycle(graph(["a", "b", "x", "y"], [edge("a", "b"), edge("x", "y"), edge("y", "x")]));
    expect([...(cycle ?? [])].sort()).toEqual(["x", "y"]);
  });

  it("handles a 20 000-step chain without overflowing the stack", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `s${i}`);
    const edges = ids.slice(1).map((id, i) => edge(ids[i]!, id));
    expect(findCycle(graph(ids, edges))).toBeNull();
    expect(findCycle(graph(ids, [...edges, edge(ids[ids.length - 1]!, "s0")]))).toHaveLength(20_000);
  });
});

describe("predecessors and outgoingEdges", () => {
  it("list each step's predecessors and outgoing edges, with an entry for every step", () => {
    const preds = predecessors(diamond);
    expect(preds.get("a")).toEqual([]);
    expect(preds.get("b")).toEqual(["a"]);
    expect([...preds.get("d")!].sort()).toEqual(["b", "c"]);
    expect(preds.get("e")).toEqual(["d"]);

    const out = outgoingEdges(diamond);
    expect([...out.keys()].sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(out.get("a")!.map((e) => e.target).sort()).toEqual(["b", "c"]);
    expect(out.get("e")).toEqual([]);
  });

  it("keep edge labels and drop edges touching missing steps", () => {
    const g = graph(["c", "yes", "no"], [edge("c", "yes", "true"), edge("c", "no", "false"), edge("c", "ghost"), edge("ghost", "no")]);
    expect(outgoingEdges(g).get("c")).toEqual([edge("c", "yes", "true"), edge("c", "no", "false")]);
    expect(outgoingEdges(g).has("ghost")).toBe(false);
    expect(predecessors(g).get("no")).toEqual(["c"]);
  });
});
