import { Panel, useNodes, useOnViewportChange, useReactFlow, useStore, ViewportPortal, type Viewport } from "@xyflow/react";
import { createContext, useContext, useEffect, useMemo, useRef } from "react";
import type { WebsocketProvider } from "y-websocket";
import { labelTextColor, type Peer } from "~/lib/collab";

/**
 * What the canvas overlays need from the editor around them, without threading props through Canvas: the
 * awareness (our viewport is published in it, for the others' follow mode) and whom we follow.
 */
export interface CanvasCollab {
  awareness: WebsocketProvider["awareness"] | null;
  /** The user id whose viewport ours follows, or null. */
  following: string | null;
  stopFollowing(): void;
}
export const CanvasCollabContext = createContext<CanvasCollab>({ awareness: null, following: null, stopFollowing: () => {} });

/** Height of a step node's type and name rows (flow units): a pointer label never covers them. */
const NODE_HEADER = 50;
const LABEL_HEIGHT = 18;
/** A generous estimate of a label's width (0.7rem bold text, 0.35rem padding each side): better too wide than over a name. */
const labelWidth = (name: string) => Math.ceil(name.length * 7.4) + 16;

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
const overlaps = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

export type LabelPlacement = { mode: "label"; dx: number; dy: number } | { mode: "dot" };

/**
 * Where a pointer's name label goes (offsets from the pointer's tip, flow units): below-right as usual,
 * else flipped left and/or above, else further down; when every place covers a step's name, a dot.
 */
export function placeLabel(cursor: { x: number; y: number }, name: string, headers: Rect[]): LabelPlacement {
  const width = labelWidth(name);
  const candidates = [
    { dx: 12, dy: 14 },
    { dx: -width - 4, dy: 14 },
    { dx: 12, dy: -LABEL_HEIGHT - 4 },
    { dx: -width - 4, dy: -LABEL_HEIGHT - 4 },
    { dx: 12, dy: 34 },
  ];
  for (const c of candidates) {
    const rect = { left: cursor.x + c.dx, top: cursor.y + c.dy, right: cursor.x + c.dx + width, bottom: cursor.y + c.dy + LABEL_HEIGHT };
    if (!headers.some((h) => overlaps(rect, h))) return { mode: "label", ...c };
  }
  return { mode: "dot" };
}

/**
 * The other editors' pointers on the canvas (inside React Flow), with name labels that keep off the steps'
 * names; publishes our own view (its centre in flow coordinates and the zoom) and, in follow mode, keeps our
 * view on the followed person's until we pan or zoom ourselves.
 */
export function PeerCursors({ peers }: { peers: Peer[] }) {
  const { awareness, following, stopFollowing } = useContext(CanvasCollabContext);
  const nodes = useNodes();
  const flow = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const domNode = useStore((s) => s.domNode);

  const headers = useMemo(
    () =>
      nodes
        .filter((n) => n.type === "step")
        .map((n) => {
          const w = n.measured?.width ?? 180;
          const h = Math.min(n.measured?.height ?? 64, NODE_HEADER);
          return { left: n.position.x, top: n.position.y, right: n.position.x + w, bottom: n.position.y + h };
        }),
    [nodes],
  );

  // Our view for the others' follow mode, at most every 60 ms (and once when the canvas first has a size).
  const size = useRef({ width, height });
  size.current = { width, height };
  const lastPublish = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const publish = (viewport: Viewport) => {
    const { width: w, height: h } = size.current;
    if (!awareness || !w || !h) return;
    const send = () => {
      lastPublish.current = performance.now();
      awareness.setLocalStateField("viewport", {
        x: Math.round((w / 2 - viewport.x) / viewport.zoom),
        y: Math.round((h / 2 - viewport.y) / viewport.zoom),
        zoom: Math.round(viewport.zoom * 1000) / 1000,
      });
    };
    if (pending.current) clearTimeout(pending.current);
    const wait = 60 - (performance.now() - lastPublish.current);
    if (wait <= 0) send();
    else pending.current = setTimeout(send, wait);
  };
  useOnViewportChange({ onChange: publish });
  useEffect(() => {
    if (width && height) publish(flow.getViewport());
  }, [awareness, width, height]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);

  // Follow mode: the followed person's most recently seen tab with a view.
  const target = following ? peers.find((p) => p.user.id === following && p.viewport)?.viewport ?? null : null;
  useEffect(() => {
    if (!target || !width || !height) return;
    flow.setViewport({ x: width / 2 - target.x * target.zoom, y: height / 2 - target.y * target.zoom, zoom: target.zoom });
  }, [target?.x, target?.y, target?.zoom, width, height]); // eslint-disable-line react-hooks/exhaustive-deps

  // Our own pan or zoom (a drag on the pane, the wheel, the zoom buttons) ends following.
  useEffect(() => {
    if (!following || !domNode) return;
    const onPointerDown = (event: PointerEvent) => {
      const element = event.target as Element | null;
      if (element?.closest(".react-flow__pane, .react-flow__controls")) stopFollowing();
    };
    const onWheel = () => stopFollowing();
    domNode.addEventListener("pointerdown", onPointerDown, true);
    domNode.addEventListener("wheel", onWheel, { capture: true, passive: true });
    return () => {
      domNode.removeEventListener("pointerdown", onPointerDown, true);
      domNode.removeEventListener("wheel", onWheel, true);
    };
  }, [following, domNode, stopFollowing]);

  const followed = following ? peers.find((p) => p.user.id === following)?.user ?? null : null;
  return (
    <>
    {followed ? (
      <Panel position="top-left" className="follow-banner" data-testid="follow-banner">
        <span style={{ background: followed.color, color: labelTextColor(followed.color) }}>
          Following {followed.name}
          <button type="button" className="link" onClick={stopFollowing} style={{ color: "inherit" }}>
            Stop
          </button>
        </span>
      </Panel>
    ) : null}
    <ViewportPortal>
      {peers.map((peer) => {
        if (!peer.cursor) return null;
        const placement = placeLabel(peer.cursor, peer.user.name, headers);
        return (
          <div
            key={peer.clientId}
            className="remote-cursor"
            data-testid="remote-cursor"
            data-label={placement.mode}
            style={{ transform: `translate(${peer.cursor.x}px, ${peer.cursor.y}px)`, color: peer.user.color }}
            aria-hidden="true"
          >
            <svg width="16" height="16" viewBox="0 0 16 16">
              <path d="M0 0 L0 13 L4 9.5 L7 15 L9 14 L6.5 8.5 L11 8 Z" fill="currentColor" stroke="#fff" strokeWidth="1" />
            </svg>
            {placement.mode === "label" ? (
              <span className="remote-cursor-label" style={{ background: peer.user.color, color: labelTextColor(peer.user.color), left: placement.dx, top: placement.dy }}>
                {peer.user.name}
              </span>
            ) : (
              <span className="remote-cursor-dot" title={peer.user.name} style={{ background: peer.user.color }} />
            )}
          </div>
        );
      })}
    </ViewportPortal>
    </>
  );
}
