/**
 * Canvas geometry: where a new or pasted step goes so it does not land on another one, and the auto-layout
 * command. Pure functions over positions and sizes; the Y.Doc writes are in ~/lib/doc-edits.ts.
 *
 * Auto-layout uses dagre (@dagrejs/dagre) rather than elkjs: a workflow is a small layered graph that reads
 * left to right, which is exactly dagre's algorithm; it is synchronous (the new positions are written in the
 * same tick, as one Yjs transaction, so one Ctrl+Z reverts them) and about 50 KB, where elkjs is asynchronous
 * (a web worker or a promise) and over 1 MB, for port and orthogonal-routing features we do not use.
 */
import { graphlib, layout as dagreLayout } from "@dagrejs/dagre";

export interface Point {
  x: number;
  y: number;
}
export interface Size {
  width: number;
  height: number;
}
export interface Rect extends Point, Size {}

/** A step node's size before React Flow has measured it (its CSS min-width and a typical height). */
export const DEFAULT_NODE_SIZE: Size = { width: 180, height: 64 };
/** Gaps kept between steps: beside each other (a step and the one it leads to) and stacked. */
export const GAP_X = 80;
export const GAP_Y = 40;

function overlaps(a: Rect, b: Rect, margin: number): boolean {
  return a.x < b.x + b.width + margin && b.x < a.x + a.width + margin && a.y < b.y + b.height + margin && b.y < a.y + a.height + margin;
}

/**
 * The free spot nearest `desired` (top-left) for a node of `size`: `desired` itself when nothing is there,
 * else the first free one going down then up from it in steps of a node's height plus a gap, then the same
 * one column further right, and so on. Never returns a spot that overlaps `occupied`.
 */
export function freePosition(desired: Point, occupied: Rect[], size: Size = DEFAULT_NODE_SIZE, margin = 16): Point {
  const stepY = size.height + GAP_Y;
  const stepX = size.width + GAP_X;
  for (let column = 0; column < 50; column++) {
    for (let row = 0; row < 12; row++) {
      for (const sign of row === 0 ? [1] : [1, -1]) {
        const candidate = { x: Math.round(desired.x + column * stepX), y: Math.round(desired.y + sign * row * stepY) };
        if (!occupied.some((rect) => overlaps({ ...candidate, ...size }, rect, margin))) return candidate;
      }
    }
  }
  return { x: Math.round(desired.x), y: Math.round(desired.y) };
}

/** Beside `anchor`: to its right, level with it (the next step of a left-to-right flow), moved down when taken. */
export function besidePosition(anchor: Rect, occupied: Rect[], size: Size = DEFAULT_NODE_SIZE): Point {
  return freePosition({ x: anchor.x + anchor.width + GAP_X, y: anchor.y + (anchor.height - size.height) / 2 }, occupied, size);
}

/** `size` centred on `centre` (a point in flow coordinates, e.g. the viewport's centre or a drop point). */
export function centredAt(centre: Point, size: Size = DEFAULT_NODE_SIZE): Point {
  return { x: Math.round(centre.x - size.width / 2), y: Math.round(centre.y - size.height / 2) };
}

/** The bounding box of some rectangles (null for none). */
export function boundsOf(rects: Rect[]): Rect | null {
  if (!rects.length) return null;
  const x = Math.min(...rects.map((r) => r.x));
  const y = Math.min(...rects.map((r) => r.y));
  return { x, y, width: Math.max(...rects.map((r) => r.x + r.width)) - x, height: Math.max(...rects.map((r) => r.y + r.height)) - y };
}

/**
 * Where a group of pasted steps goes: its bounding box centred on `centre`, then moved by one grid step
 * (40, 40) at a time until none of them lands on an existing step. Returns the offset to add to each position.
 */
export function pasteOffset(group: Rect[], occupied: Rect[], centre: Point | null): Point {
  const box = boundsOf(group);
  if (!box) return { x: 0, y: 0 };
  let dx = centre ? Math.round(centre.x - (box.x + box.width / 2)) : 0;
  let dy = centre ? Math.round(centre.y - (box.y + box.height / 2)) : 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    if (!group.some((r) => occupied.some((o) => overlaps({ ...r, x: r.x + dx, y: r.y + dy }, o, 8)))) break;
    dx += 40;
    dy += 40;
  }
  return { x: dx, y: dy };
}

export interface LayoutInput {
  nodes: { id: string; width: number; height: number }[];
  edges: { source: string; target: string; label?: string }[];
}

/**
 * Left-to-right layered layout (dagre): steps in columns by their distance from the triggers, edges crossing
 * as little as dagre manages, room for edge labels. Returns each step's new top-left position, kept near the
 * graph's old top-left corner so the view does not jump far.
 */
export function autoLayout({ nodes, edges }: LayoutInput, origin: Point = { x: 0, y: 0 }): Map<string, Point> {
  const graph = new graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "LR", nodesep: 48, ranksep: 96, edgesep: 24, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const node of nodes) graph.setNode(node.id, { width: node.width, height: node.height });
  edges.forEach((edge, index) => {
    if (!ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) return;
    // A labelled edge gets room for its label between the columns.
    graph.setEdge(edge.source, edge.target, edge.label ? { width: edge.label.length * 7 + 16, height: 18, labelpos: "c" } : {}, `e${index}`);
  });
  dagreLayout(graph);
  const placed = nodes.map((node) => {
    const laid = graph.node(node.id) as { x: number; y: number };
    return { id: node.id, x: laid.x - node.width / 2, y: laid.y - node.height / 2 };
  });
  const minX = Math.min(...placed.map((p) => p.x));
  const minY = Math.min(...placed.map((p) => p.y));
  return new Map(placed.map((p) => [p.id, { x: Math.round(p.x - minX + origin.x), y: Math.round(p.y - minY + origin.y) }]));
}
