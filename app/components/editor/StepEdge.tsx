import { BaseEdge, getBezierPath, useNodes, type Edge, type EdgeProps } from "@xyflow/react";
import { useMemo } from "react";

/** Where along the curve a label may sit, best first: the middle, then further and further out. */
const LABEL_SPOTS = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74];

function cubicAt(p: number[], t: number): { x: number; y: number } {
  const [x0, y0, x1, y1, x2, y2, x3, y3] = p as [number, number, number, number, number, number, number, number];
  const u = 1 - t;
  return {
    x: u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
    y: u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3,
  };
}

/**
 * An edge between two steps: a bezier with an arrowhead, and its label (true/false, a branch key, body,
 * error) on a solid pill so it reads on any background, placed at the first spot along the curve where it
 * covers no step (the middle when it can).
 */
export function StepEdge({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, label, markerEnd, style, interactionWidth }: EdgeProps<Edge>) {
  const [path, midX, midY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  const nodes = useNodes();
  const text = typeof label === "string" ? label : null;
  const spot = useMemo(() => {
    if (!text) return { x: midX, y: midY };
    const points = path.match(/-?\d+(\.\d+)?(e-?\d+)?/g)?.map(Number) ?? [];
    if (points.length !== 8) return { x: midX, y: midY };
    const width = text.length * 7.2 + 14;
    const height = 22;
    const boxes = nodes
      .filter((n) => n.type === "step" && !n.hidden)
      .map((n) => ({ x: n.position.x, y: n.position.y, width: n.measured?.width ?? 180, height: n.measured?.height ?? 64 }));
    for (const t of LABEL_SPOTS) {
      const at = cubicAt(points, t);
      const clear = boxes.every((b) => at.x + width / 2 + 4 < b.x || at.x - width / 2 - 4 > b.x + b.width || at.y + height / 2 + 4 < b.y || at.y - height / 2 - 4 > b.y + b.height);
      if (clear) return at;
    }
    return { x: midX, y: midY };
  }, [text, path, midX, midY, nodes]);
  return (
    <BaseEdge
      id={id}
      path={path}
      markerEnd={markerEnd}
      style={style}
      interactionWidth={interactionWidth ?? 24}
      label={text ?? undefined}
      labelX={spot.x}
      labelY={spot.y}
      labelShowBg
      labelBgPadding={[6, 3]}
      labelBgBorderRadius={4}
      labelStyle={{ fontSize: 12, fontWeight: 600 }}
    />
  );
}
