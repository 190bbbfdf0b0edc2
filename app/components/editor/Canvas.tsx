import { isTriggerType, stepUiHints, type DefinitionDiff, type Step, type StepStatus, type WorkflowDefinition } from "@algorythmos/domain";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  MiniMap,
  Panel,
  ReactFlow,
  SelectionMode,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type ReactFlowInstance,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent, type MutableRefObject } from "react";
import type * as Y from "yjs";
import { LOCAL_ORIGIN, type Peer } from "~/lib/collab";
import { useTheme } from "~/components/ui/theme";
import {
  addStep,
  connectSteps,
  copyStepsJson,
  defaultConfig,
  deleteEdges,
  deleteSteps,
  insertStepOnEdge,
  moveSteps,
  parseStepsJson,
  pasteSteps,
  stepMap,
  type StepsFragment,
} from "~/lib/doc-edits";
import { autoLayout, besidePosition, boundsOf, centredAt, DEFAULT_NODE_SIZE, freePosition, GAP_X, pasteOffset, type Point, type Rect } from "~/lib/layout";
import type { StepTypeInfo } from "~/lib/operations";
import { ShortcutsHelp } from "./ShortcutsHelp";
import { StepEdge } from "./StepEdge";
import { STEP_TYPE_DRAG } from "./StepLibrary";
import { CommentPins } from "./Comments";
import { stepDisplayName } from "@algorythmos/domain";
import { PeerCursors } from "./PeerCursors";
import { LoopGroupNode, StepNode, type LoopGroupFlowNode, type SourceHandle, type StepFlowNode } from "./StepNode";

/** Ghost nodes (steps removed since a compared version) carry this id prefix; they are never edited. */
const GHOST = "ghost:";
/** The tinted box behind a loop's body steps carries this id prefix; it is drawn, never edited. */
const LOOP_GROUP = "loop-group:";
const isDecoration = (id: string) => id.startsWith(GHOST) || id.startsWith(LOOP_GROUP);

const nodeTypes = { step: StepNode, loopGroup: LoopGroupNode };
const edgeTypes = { step: StepEdge };
/** Arrowhead colours, matching the edge strokes (app.css): the default grey, error red, loop-body violet. */
const ARROW = { default: "#8b90a5", error: "#b42318", body: "#7c3aed" } as const;
type CanvasNode = StepFlowNode | LoopGroupFlowNode;

/**
 * The outputs a step offers on the canvas, one handle each; an edge from a labelled handle carries that label
 * (docs/ydoc-layout.md, edge labels): condition true/false, a switch's branch keys and `default`, a loop's
 * `body` beside its unlabelled "next", and `error` for a step whose failures follow an error edge.
 */
export function sourceHandles(step: Pick<Step, "type" | "config" | "onError">): SourceHandle[] {
  const handles: SourceHandle[] = [];
  if (step.type === "condition") handles.push({ id: "true", label: "true" }, { id: "false", label: "false" });
  else if (step.type === "switch") {
    for (const key of switchBranchKeys(step.config)) handles.push({ id: key, label: key });
    handles.push({ id: "default", label: "default" });
  } else if (step.type === "loop") handles.push({ id: "body", label: "body", kind: "body" }, { id: null, label: "next" });
  else handles.push({ id: null, label: null });
  if (step.onError === "branch") handles.push({ id: "error", label: "error", kind: "error" });
  // Beside other outputs, the unlabelled one needs a name too.
  return handles.length > 1 ? handles.map((h) => (h.label === null ? { ...h, label: "next" } : h)) : handles;
}

/** A switch's branch keys, in config order (its cases; a case without a usable key is skipped). */
export function switchBranchKeys(config: Record<string, unknown>): string[] {
  const cases = Array.isArray(config.cases) ? config.cases : [];
  const keys: string[] = [];
  for (const entry of cases) {
    const key = entry && typeof entry === "object" ? (entry as { key?: unknown }).key : undefined;
    if (typeof key === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(key) && key !== "default" && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * Each loop's body: the steps reachable from its `body` edge, not going back through the loop itself (the
 * engine's rule, docs/run-engine.md). Computed from the graph, so the grouping follows every edit live.
 */
export function loopBodies(definition: WorkflowDefinition): Map<string, string[]> {
  const outgoing = new Map<string, string[]>();
  for (const edge of definition.edges) outgoing.set(edge.source, [...(outgoing.get(edge.source) ?? []), edge.target]);
  const stepIds = new Set(definition.steps.map((s) => s.id));
  const bodies = new Map<string, string[]>();
  for (const loop of definition.steps.filter((s) => s.type === "loop")) {
    const seen = new Set<string>();
    const queue = definition.edges.filter((e) => e.source === loop.id && e.label === "body").map((e) => e.target);
    while (queue.length) {
      const id = queue.shift()!;
      if (id === loop.id || seen.has(id) || !stepIds.has(id)) continue;
      seen.add(id);
      queue.push(...(outgoing.get(id) ?? []));
    }
    if (seen.size) bodies.set(loop.id, [...seen]);
  }
  return bodies;
}

/** Size of a node React Flow has not measured yet (the step node's CSS width and a typical height). */
const UNMEASURED = { width: 180, height: 64 };
const GROUP_PADDING = 24;

interface CanvasProps {
  doc: Y.Doc;
  definition: WorkflowDefinition;
  problemsByStep: Map<string, string[]>;
  stepStatuses: Record<string, StepStatus>;
  typeLabels: Record<string, string>;
  readOnly: boolean;
  /** The step selected outside the canvas (just added, or picked from the problems list). */
  selectedId: string | null;
  onSelect(stepId: string | null): void;
  /** Differences from a compared version, highlighted on the canvas; null when not comparing. */
  diff?: DefinitionDiff | null;
  /** Other open editors: their pointers and selections. */
  peers?: Peer[];
  /** Our pointer in flow coordinates (null when it leaves the canvas), for the others to see. */
  onCursor?(position: { x: number; y: number } | null): void;
  /** The step library's types: what a drop or `api.addStep` creates. */
  stepTypes?: StepTypeInfo[];
  /** Filled with the canvas's commands, for the step library beside it. */
  apiRef?: MutableRefObject<CanvasApi | null>;
  /** This user's undo manager: each canvas command (add, paste, tidy up) is its own undo step. */
  undoManager?: Y.UndoManager | null;
}

/** What the editor around the canvas may ask of it. */
export interface CanvasApi {
  /** Adds a step beside the selection, or at the centre of the view, selects it and brings it into view. */
  addStep(type: StepTypeInfo): string | null;
  tidyUp(): void;
}

/** How far an arrow key moves the selected steps, in flow pixels (Shift: the larger step). */
export const ARROW_STEP = 10;
export const ARROW_STEP_LARGE = 50;
const ARROW_KEYS: Record<string, Point | undefined> = { ArrowLeft: { x: -1, y: 0 }, ArrowRight: { x: 1, y: 0 }, ArrowUp: { x: 0, y: -1 }, ArrowDown: { x: 0, y: 1 } };

type Notice = { kind: "info" | "error"; text: string };
const isEditableTarget = (target: EventTarget | null) =>
  !!(target as HTMLElement | null)?.closest?.("input, textarea, select, [contenteditable='true'], .cm-editor");

/**
 * React Flow over the Y.Doc. The doc is the source of truth; React Flow keeps only what is local to this
 * tab (selection, a drag in progress), merged back in whenever the doc changes.
 */
export function Canvas({ doc, definition, problemsByStep, stepStatuses, typeLabels, readOnly, selectedId, onSelect, diff = null, peers = [], onCursor, stepTypes = [], apiRef, undoManager = null }: CanvasProps) {
  const [nodes, setNodes] = useState<StepFlowNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const { theme: colorMode } = useTheme();
  const flow = useRef<ReactFlowInstance<CanvasNode, Edge> | null>(null);
  const frame = useRef<HTMLDivElement>(null);
  /** Steps to select once they reach the canvas (just added or pasted). */
  const pendingSelection = useRef<Set<string> | null>(null);
  /** Our pointer in flow coordinates, where a paste lands when it is over the canvas. */
  const pointer = useRef<Point | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const [dropEdgeId, setDropEdgeId] = useState<string | null>(null);

  const selectionKey = peers.map((p) => `${p.clientId}:${p.selectedStepId ?? ""}:${p.user.name}:${p.user.color}`).join("|");
  const selectedBy = useMemo(() => {
    const map = new Map<string, { name: string; color: string }[]>();
    for (const peer of peers) {
      if (!peer.selectedStepId) continue;
      const list = map.get(peer.selectedStepId) ?? [];
      if (!list.some((p) => p.name === peer.user.name)) list.push({ name: peer.user.name, color: peer.user.color });
      map.set(peer.selectedStepId, list);
    }
    return map;
  }, [selectionKey]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const added = new Set(diff?.stepsAdded.map((s) => s.id) ?? []);
    const changed = new Map(diff?.stepsChanged.map((c) => [c.id, c.fields as string[]]) ?? []);
    const pending = pendingSelection.current;
    const pendingArrived = !!pending && [...pending].every((id) => definition.steps.some((s) => s.id === id));
    if (pendingArrived) pendingSelection.current = null;
    setNodes((previous) => {
      const local = new Map(previous.map((node) => [node.id, node]));
      const ghosts = (diff?.stepsRemoved ?? []).map(
        (step): StepFlowNode => ({
          id: GHOST + step.id,
          type: "step",
          position: step.position,
          draggable: false,
          selectable: false,
          connectable: false,
          deletable: false,
          focusable: false,
          className: "ghost-node",
          data: {
            name: stepDisplayName(step, typeLabels[step.type]),
            typeLabel: typeLabels[step.type] ?? step.type,
            icon: stepUiHints(step.type).icon,
            isTrigger: isTriggerType(step.type),
            sourceHandles: sourceHandles(step),
            problems: [],
            status: null,
            diff: "removed",
            changedFields: [],
            selectedBy: [],
          },
        }),
      );
      const live = definition.steps.map((step): StepFlowNode => {
        const old = local.get(step.id);
        return {
          id: step.id,
          type: "step",
          // Keep our own drag in progress; everyone else's positions come from the doc.
          position: old?.dragging ? old.position : step.position,
          selected: pendingArrived ? pending!.has(step.id) : old ? !!old.selected : step.id === selectedId,
          dragging: old?.dragging ?? false,
          ...(old?.measured ? { measured: old.measured } : {}),
          data: {
            name: stepDisplayName(step, typeLabels[step.type]),
            typeLabel: typeLabels[step.type] ?? step.type,
            icon: stepUiHints(step.type).icon,
            isTrigger: isTriggerType(step.type),
            sourceHandles: sourceHandles(step),
            problems: problemsByStep.get(step.id) ?? [],
            status: stepStatuses[step.id] ?? null,
            diff: added.has(step.id) ? "added" : changed.has(step.id) ? "changed" : null,
            changedFields: changed.get(step.id) ?? [],
            selectedBy: selectedBy.get(step.id) ?? [],
            pinned: Object.hasOwn(definition.pinned ?? {}, step.id),
          },
        };
      });
      return [...ghosts, ...live];
    });
  }, [definition, problemsByStep, stepStatuses, typeLabels, diff, selectedBy]); // eslint-disable-line react-hooks/exhaustive-deps

  // Selection made outside the canvas shows on the canvas too.
  useEffect(() => {
    if (selectedId === null) return;
    setNodes((current) =>
      current.some((n) => n.selected !== (n.id === selectedId)) ? current.map((n) => ({ ...n, selected: n.id === selectedId })) : current,
    );
  }, [selectedId]);

  useEffect(() => {
    // Which labels have their own handle on each source step (a label with none joins the default handle).
    const handleIds = new Map(definition.steps.map((s) => [s.id, new Set(sourceHandles(s).map((h) => h.id))]));
    setEdges((previous) => {
      const selected = new Set(previous.filter((e) => e.selected).map((e) => e.id));
      const liveSteps = new Set(definition.steps.map((s) => s.id));
      const removedSteps = new Set(diff?.stepsRemoved.map((s) => s.id) ?? []);
      const addedEdges = new Set(diff?.edgesAdded.map((e) => e.id) ?? []);
      const endpoint = (id: string) => (liveSteps.has(id) ? id : removedSteps.has(id) ? GHOST + id : null);
      const ghosts: Edge[] = [];
      for (const edge of diff?.edgesRemoved ?? []) {
        const source = endpoint(edge.source);
        const target = endpoint(edge.target);
        if (!source || !target) continue;
        ghosts.push({ id: GHOST + edge.id, type: "step", source, target, className: "diff-edge-removed", selectable: false, deletable: false, focusable: false, markerEnd: { type: MarkerType.ArrowClosed, color: "#dc2626", width: 20, height: 20 } });
      }
      return [
        ...ghosts,
        ...definition.edges.map((edge): Edge => {
          const classes = [edge.label === "error" ? "error-edge" : edge.label === "body" ? "body-edge" : "", addedEdges.has(edge.id) ? "diff-edge-added" : ""].filter(Boolean);
          const arrow = edge.label === "error" ? ARROW.error : edge.label === "body" ? ARROW.body : ARROW.default;
          return {
            id: edge.id,
            type: "step",
            markerEnd: { type: MarkerType.ArrowClosed, color: arrow, width: 20, height: 20 },
            source: edge.source,
            target: edge.target,
            // Branching steps have one source handle per label; the edge's label names the handle it leaves from.
            sourceHandle: edge.label && handleIds.get(edge.source)?.has(edge.label) ? edge.label : null,
            ...(edge.label ? { label: edge.label, data: { label: edge.label } } : {}),
            ...(classes.length ? { className: classes.join(" ") } : {}),
            selected: selected.has(edge.id),
          };
        }),
      ];
    });
  }, [definition, diff]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) =>
      // Removals go through the doc (onNodesDelete), so every peer, and undo, see them.
      setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), current)),
    [],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => setEdges((current) => applyEdgeChanges(changes.filter((c) => c.type !== "remove"), current)),
    [],
  );

  const isValidConnection = useCallback(
    (connection: Connection | Edge) => {
      if (connection.source === connection.target) return false;
      const target = definition.steps.find((s) => s.id === connection.target);
      return !!target && !isTriggerType(target.type);
    },
    [definition],
  );

  const selectedIds = useMemo(() => nodes.filter((n) => n.selected && !n.id.startsWith(GHOST)).map((n) => n.id), [nodes]);

  // A tinted box behind each loop's body, sized from the body steps as drawn (a drag in progress included).
  const bodies = useMemo(() => loopBodies(definition), [definition]);
  const loopGroups = useMemo((): LoopGroupFlowNode[] => {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const groups: LoopGroupFlowNode[] = [];
    for (const [loopId, body] of bodies) {
      const drawn = body.map((id) => byId.get(id)).filter((n): n is StepFlowNode => !!n);
      if (!drawn.length) continue;
      const left = Math.min(...drawn.map((n) => n.position.x)) - GROUP_PADDING;
      const top = Math.min(...drawn.map((n) => n.position.y)) - GROUP_PADDING - 14;
      const right = Math.max(...drawn.map((n) => n.position.x + (n.measured?.width ?? UNMEASURED.width))) + GROUP_PADDING;
      const bottom = Math.max(...drawn.map((n) => n.position.y + (n.measured?.height ?? UNMEASURED.height))) + GROUP_PADDING;
      const loop = definition.steps.find((s) => s.id === loopId);
      groups.push({
        id: LOOP_GROUP + loopId,
        type: "loopGroup",
        position: { x: left, y: top },
        width: right - left,
        height: bottom - top,
        style: { width: right - left, height: bottom - top },
        zIndex: -1,
        draggable: false,
        selectable: false,
        connectable: false,
        deletable: false,
        focusable: false,
        className: "loop-group-node",
        data: { loopId, loopName: loop?.name || loopId, stepIds: body },
      });
    }
    return groups;
  }, [bodies, nodes, definition]);
  const drawnNodes = useMemo((): CanvasNode[] => [...loopGroups, ...nodes], [loopGroups, nodes]);

  // Our pointer, in flow coordinates, at most every 40 ms.
  const lastCursor = useRef(0);
  const onMouseMove = useCallback(
    (event: MouseEvent) => {
      if (!onCursor || !flow.current) return;
      const now = performance.now();
      if (now - lastCursor.current < 40) return;
      lastCursor.current = now;
      const position = flow.current.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      onCursor({ x: Math.round(position.x), y: Math.round(position.y) });
    },
    [onCursor],
  );
  const onMouseLeave = useCallback(() => onCursor?.(null), [onCursor]);
  useEffect(() => onSelect(selectedIds.length === 1 ? selectedIds[0]! : null), [selectedIds.join(","), onSelect]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---------- step library, clipboard and layout commands: every edit is a doc-edits transaction ----------
  // The commands read the latest state through refs, so the document listeners below are registered once.
  const latest = useRef({ nodes, edges, definition, readOnly, stepTypes, doc, undoManager });
  latest.current = { nodes, edges, definition, readOnly, stepTypes, doc, undoManager };

  const rectOf = (node: Node): Rect => ({ x: node.position.x, y: node.position.y, width: node.measured?.width ?? DEFAULT_NODE_SIZE.width, height: node.measured?.height ?? DEFAULT_NODE_SIZE.height });
  const stepNodes = () => latest.current.nodes.filter((n) => !isDecoration(n.id));
  const selectedSteps = () => stepNodes().filter((n) => n.selected);

  /** The part of the canvas on screen, in flow coordinates. */
  const visibleRect = (): Rect | null => {
    const box = frame.current?.getBoundingClientRect();
    if (!box || !flow.current) return null;
    const topLeft = flow.current.screenToFlowPosition({ x: box.left, y: box.top });
    const bottomRight = flow.current.screenToFlowPosition({ x: box.right, y: box.bottom });
    return { ...topLeft, width: bottomRight.x - topLeft.x, height: bottomRight.y - topLeft.y };
  };
  /** Pans (keeping the zoom) so `rect` is on screen, when it is not already. */
  const reveal = (rect: Rect) => {
    const view = visibleRect();
    if (!view || !flow.current) return;
    const margin = 24 / flow.current.getZoom();
    const inside = rect.x >= view.x + margin && rect.y >= view.y + margin && rect.x + rect.width <= view.x + view.width - margin && rect.y + rect.height <= view.y + view.height - margin;
    if (inside) return;
    void flow.current.setCenter(rect.x + rect.width / 2, rect.y + rect.height / 2, { zoom: flow.current.getZoom(), duration: 250 });
  };
  const say = (kind: Notice["kind"], text: string) => setNotice({ kind, text });
  /** Each canvas command is one undo step of its own, not merged with an edit made just before or after. */
  const asOneUndoStep = <T,>(edit: () => T): T => {
    latest.current.undoManager?.stopCapturing();
    const result = edit();
    latest.current.undoManager?.stopCapturing();
    return result;
  };
  const selectWhenDrawn = (ids: string[]) => {
    pendingSelection.current = new Set(ids);
    if (ids.length === 1) onSelect(ids[0]!);
  };

  const newStep = (type: StepTypeInfo, position: Point) => ({ type: type.type, name: type.label, config: defaultConfig(type.configSchema), position });

  const addStepOfType = (type: StepTypeInfo, at?: Point): string | null => {
    if (latest.current.readOnly) return null;
    const occupied = stepNodes().map(rectOf);
    const selection = selectedSteps();
    const view = visibleRect();
    let position: Point;
    if (at) position = freePosition(centredAt(at), occupied);
    else if (selection.length) position = besidePosition(boundsOf(selection.map(rectOf))!, occupied);
    else position = freePosition(centredAt(view ? { x: view.x + view.width / 2, y: view.y + view.height / 2 } : { x: 0, y: 0 }), occupied);
    const id = asOneUndoStep(() => addStep(latest.current.doc, newStep(type, position)));
    selectWhenDrawn([id]);
    reveal({ ...position, ...DEFAULT_NODE_SIZE });
    return id;
  };

  /** Drops a step onto an edge: in between its two steps, the steps after it moved right when they are in the way. */
  const insertOnEdge = (type: StepTypeInfo, edgeId: string, at: Point): string | null => {
    const { definition: current } = latest.current;
    const edge = current.edges.find((e) => e.id === edgeId);
    if (!edge) return null;
    const byId = new Map(stepNodes().map((n) => [n.id, n]));
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    // At the drop point, but never on the source: a gap's width after it at least, level with the drop.
    const dropped = centredAt(at);
    const position = source ? { x: Math.max(dropped.x, Math.round(source.position.x + rectOf(source).width + GAP_X)), y: dropped.y } : dropped;
    const placed = { ...position, ...DEFAULT_NODE_SIZE };
    const moves: { id: string; x: number; y: number }[] = [];
    const push = target ? placed.x + placed.width + GAP_X - target.position.x : 0;
    if (target && push > 0) {
      // Everything downstream of the edge (never the edge's source, in a cycle) makes room.
      const downstream = new Set<string>();
      const queue = [edge.target];
      while (queue.length) {
        const id = queue.shift()!;
        if (id === edge.source || downstream.has(id)) continue;
        downstream.add(id);
        for (const next of current.edges) if (next.source === id) queue.push(next.target);
      }
      for (const id of downstream) {
        const node = byId.get(id);
        if (node) moves.push({ id, x: node.position.x + push, y: node.position.y });
      }
    }
    const id = asOneUndoStep(() => insertStepOnEdge(latest.current.doc, edgeId, newStep(type, position), moves));
    if (id) {
      selectWhenDrawn([id]);
      reveal(placed);
    }
    return id;
  };

  const pasteFragment = (fragment: StepsFragment, where: "pointer" | "beside") => {
    const group = fragment.steps.map((s) => ({ ...s.position, ...DEFAULT_NODE_SIZE }));
    const occupied = stepNodes().map(rectOf);
    const view = visibleRect();
    const over = pointer.current && view && pointer.current.x >= view.x && pointer.current.y >= view.y && pointer.current.x <= view.x + view.width && pointer.current.y <= view.y + view.height;
    const centre = where === "beside" ? null : over ? pointer.current : view ? { x: view.x + view.width / 2, y: view.y + view.height / 2 } : null;
    const offset = pasteOffset(group, occupied, centre);
    const ids = asOneUndoStep(() => pasteSteps(latest.current.doc, fragment, offset));
    selectWhenDrawn(ids);
    const box = boundsOf(group.map((r) => ({ ...r, x: r.x + offset.x, y: r.y + offset.y })));
    if (box) reveal(box);
    return ids;
  };

  const pasteText = (text: string) => {
    if (latest.current.readOnly) return say("error", "You can only view this workflow: pasting steps needs the editor role.");
    const parsed = parseStepsJson(text);
    if (!parsed.ok) return say("error", parsed.message);
    const ids = pasteFragment(parsed.fragment, "pointer");
    say("info", `Pasted ${ids.length} step${ids.length === 1 ? "" : "s"}.`);
  };

  const duplicateSelection = () => {
    const selection = selectedSteps().map((n) => n.id);
    if (!selection.length || latest.current.readOnly) return;
    const json = copyStepsJson(latest.current.definition, selection);
    const parsed = json ? parseStepsJson(json) : null;
    if (parsed?.ok) pasteFragment(parsed.fragment, "beside");
  };

  /** Deletes the selected steps (with their edges) and edges, in one transaction: one undo brings them all back. */
  const deleteSelection = () => {
    const { readOnly: viewOnly, doc: ydoc, edges: drawn } = latest.current;
    const stepIds = selectedSteps().map((n) => n.id);
    const edgeIds = drawn.filter((e) => e.selected && !e.id.startsWith(GHOST)).map((e) => e.id);
    if (viewOnly || (!stepIds.length && !edgeIds.length)) return;
    asOneUndoStep(() =>
      ydoc.transact(() => {
        deleteEdges(ydoc, edgeIds);
        deleteSteps(ydoc, stepIds);
      }, LOCAL_ORIGIN),
    );
  };

  const tidyUp = () => {
    const { readOnly: viewOnly, definition: current, doc: ydoc } = latest.current;
    const live = stepNodes();
    if (viewOnly || !live.length) return;
    const rects = live.map((n) => ({ id: n.id, ...rectOf(n) }));
    const origin = { x: Math.min(...rects.map((r) => r.x)), y: Math.min(...rects.map((r) => r.y)) };
    const positions = autoLayout({ nodes: rects, edges: current.edges }, origin);
    // One transaction: the positions of every step, so one Ctrl+Z puts them all back.
    asOneUndoStep(() => moveSteps(ydoc, [...positions].map(([id, p]) => ({ id, ...p }))));
    window.setTimeout(() => void flow.current?.fitView({ duration: 300, maxZoom: 1.2, padding: 0.15 }), 50);
    say("info", "Tidied up. Ctrl+Z puts the steps back.");
  };

  if (apiRef) apiRef.current = { addStep: (type) => addStepOfType(type), tidyUp };

  // Copy, cut and paste through the system clipboard (so steps go from one workflow, tab or browser to
  // another), as definition JSON; text fields and selected text keep their own copy and paste.
  useEffect(() => {
    const hasTextSelection = () => {
      const selection = window.getSelection();
      return !!selection && !selection.isCollapsed && selection.toString().trim().length > 0;
    };
    const copySelection = (event: ClipboardEvent): number => {
      const ids = selectedSteps().map((n) => n.id);
      const json = ids.length ? copyStepsJson(latest.current.definition, ids) : null;
      if (!json || !event.clipboardData) return 0;
      event.clipboardData.setData("text/plain", json);
      event.preventDefault();
      return ids.length;
    };
    const onCopy = (event: ClipboardEvent) => {
      if (isEditableTarget(event.target) || hasTextSelection()) return;
      const count = copySelection(event);
      if (count) say("info", `Copied ${count} step${count === 1 ? "" : "s"}. Paste with Ctrl+V, here or in another workflow.`);
    };
    const onCut = (event: ClipboardEvent) => {
      if (isEditableTarget(event.target) || hasTextSelection() || latest.current.readOnly) return;
      const ids = selectedSteps().map((n) => n.id);
      if (!copySelection(event)) return;
      asOneUndoStep(() => deleteSteps(latest.current.doc, ids));
      say("info", `Cut ${ids.length} step${ids.length === 1 ? "" : "s"}.`);
    };
    const onPaste = (event: ClipboardEvent) => {
      if (isEditableTarget(event.target) || document.querySelector("[role='dialog']")) return;
      const text = event.clipboardData?.getData("text/plain") ?? "";
      event.preventDefault();
      pasteText(text);
    };
    document.addEventListener("copy", onCopy);
    document.addEventListener("cut", onCut);
    document.addEventListener("paste", onPaste);
    return () => {
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("cut", onCut);
      document.removeEventListener("paste", onPaste);
    };
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // Canvas shortcuts (the help sheet lists them); Ctrl+Z is the editor's, Delete is React Flow's.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || isEditableTarget(event.target) || document.querySelector("[role='dialog']")) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      const onCanvasOrPage = !!(event.target as HTMLElement | null)?.closest?.(".react-flow") || event.target === document.body;
      if (event.key === "?" && !mod) setHelpOpen(true);
      else if (mod && !event.shiftKey && key === "d") duplicateSelection();
      else if (mod && !event.shiftKey && key === "a" && onCanvasOrPage) setNodes((current) => current.map((n) => (isDecoration(n.id) || n.selected ? n : { ...n, selected: true })));
      else if (!mod && event.shiftKey && !event.altKey && key === "l") tidyUp();
      // Our own Delete, not React Flow's: its key-state hook misses a press whose keyup lands before the next render.
      else if ((event.key === "Delete" || event.key === "Backspace") && !mod) deleteSelection();
      else if (!mod && event.shiftKey && event.code === "Digit1") void flow.current?.fitView({ duration: 250, maxZoom: 1.2 });
      else if (event.key === "Escape" && onCanvasOrPage) setNodes((current) => (current.some((n) => n.selected) ? current.map((n) => (n.selected ? { ...n, selected: false } : n)) : current));
      else return;
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // Arrow keys move the selected steps through the doc (co-editors see it, Ctrl+Z undoes it). Taken in the
  // capture phase, before React Flow's own arrow handling, which would move them in this tab only.
  useEffect(() => {
    const onArrow = (event: KeyboardEvent) => {
      const direction = ARROW_KEYS[event.key];
      if (!direction || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (isEditableTarget(event.target) || document.querySelector("[role='dialog']")) return;
      const onCanvasOrPage = !!(event.target as HTMLElement | null)?.closest?.(".react-flow") || event.target === document.body;
      const selection = selectedSteps();
      if (!onCanvasOrPage || !selection.length) return;
      event.preventDefault();
      event.stopPropagation();
      if (latest.current.readOnly) return;
      const distance = event.shiftKey ? ARROW_STEP_LARGE : ARROW_STEP;
      // Presses in a row merge into one undo step (the undo manager's capture timeout), like one drag.
      // From the doc's positions, not the drawn ones: a press can come before the previous one is drawn.
      const { doc: ydoc } = latest.current;
      const moves = selection.map((n) => {
        const position = stepMap(ydoc, n.id)?.get("position") as Y.Map<unknown> | undefined;
        const x = typeof position?.get("x") === "number" ? (position.get("x") as number) : n.position.x;
        const y = typeof position?.get("y") === "number" ? (position.get("y") as number) : n.position.y;
        return { id: n.id, x: x + direction.x * distance, y: y + direction.y * distance };
      });
      moveSteps(ydoc, moves);
    };
    window.addEventListener("keydown", onArrow, { capture: true });
    return () => window.removeEventListener("keydown", onArrow, { capture: true });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // A notice fades after a while (an error stays longer, and until the next one).
  useEffect(() => {
    if (!notice) return;
    const timer = window.setTimeout(() => setNotice(null), notice.kind === "error" ? 10_000 : 4_000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  // Dragging a step type from the library: over an edge, the edge lights up (the step will go in between).
  const edgeAt = (clientX: number, clientY: number): string | null => {
    for (const element of document.elementsFromPoint(clientX, clientY)) {
      const id = element.closest(".react-flow__edge")?.getAttribute("data-id");
      if (id && !id.startsWith(GHOST)) return id;
    }
    return null;
  };
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes(STEP_TYPE_DRAG) || readOnly) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    const id = edgeAt(event.clientX, event.clientY);
    if (id !== dropEdgeId) setDropEdgeId(id);
  };
  const onDrop = (event: DragEvent) => {
    const typeName = event.dataTransfer.getData(STEP_TYPE_DRAG);
    setDropEdgeId(null);
    if (!typeName || readOnly || !flow.current) return;
    event.preventDefault();
    const type = stepTypes.find((t) => t.type === typeName);
    if (!type) return say("error", `Unknown step type “${typeName}”: reload the page to get the current step library.`);
    const at = flow.current.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    const edgeId = edgeAt(event.clientX, event.clientY);
    if (edgeId) insertOnEdge(type, edgeId, at);
    else addStepOfType(type, at);
  };
  const drawnEdges = useMemo(
    () => (dropEdgeId ? edges.map((e) => (e.id === dropEdgeId ? { ...e, className: `${e.className ?? ""} drop-target`.trim() } : e)) : edges),
    [edges, dropEdgeId],
  );
  const closeHelp = useCallback(() => setHelpOpen(false), []);

  return (
    <div
      className="canvas-frame"
      ref={frame}
      onDragOver={onDragOver}
      onDragLeave={(event) => {
        if (!frame.current?.contains(event.relatedTarget as globalThis.Node | null)) setDropEdgeId(null);
      }}
      onDrop={onDrop}
      onMouseMove={(event) => {
        if (flow.current) pointer.current = flow.current.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      }}
      onMouseLeave={() => (pointer.current = null)}
    >
    <ReactFlow<CanvasNode, Edge>
      nodes={drawnNodes}
      edges={drawnEdges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      onNodesChange={onNodesChange as (changes: NodeChange<CanvasNode>[]) => void}
      onEdgesChange={onEdgesChange}
      onNodeDragStop={(_event, _node, dragged) => moveSteps(doc, dragged.filter((n) => !isDecoration(n.id)).map((n) => ({ id: n.id, ...n.position })))}
      onNodesDelete={(deleted) => deleteSteps(doc, deleted.map((n) => n.id).filter((id) => !isDecoration(id)))}
      onEdgesDelete={(deleted) => deleteEdges(doc, deleted.map((e) => e.id).filter((id) => !id.startsWith(GHOST)))}
      onInit={(instance) => (flow.current = instance)}
      onMouseMove={onMouseMove}
      onMouseLeave={onMouseLeave}
      // The handle a connection leaves from is its label (a switch branch, true/false, body, error); the default handle has none.
      onConnect={(c) => connectSteps(doc, c.source, c.target, c.sourceHandle ?? undefined)}
      isValidConnection={isValidConnection}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      deleteKeyCode={null}
      // Shift-click adds to the selection (as do Ctrl / Cmd-click); Shift-drag on the background draws a selection box.
      multiSelectionKeyCode={["Shift", "Meta", "Control"]}
      selectionKeyCode="Shift"
      // A step the box touches is selected (as in Figma): no need to drag past its far edge.
      selectionMode={SelectionMode.Partial}
      fitView
      fitViewOptions={{ maxZoom: 1.2 }}
      // React Flow's own dark defaults (handles, selection, controls) follow the studio's theme; the colours
      // themselves come from the tokens (app.css, .react-flow's --xy-* variables).
      colorMode={colorMode}
    >
      <Background />
      <Controls showInteractive={false} />
      <MiniMap<CanvasNode>
        pannable
        zoomable
        ariaLabel="Minimap"
        className="canvas-minimap"
        nodeColor={minimapColor}
        nodeStrokeColor={(n) => (n.selected ? "var(--accent)" : "transparent")}
        nodeStrokeWidth={6}
        nodeBorderRadius={6}
        maskColor="var(--minimap-mask)"
      />
      <Panel position="bottom-left" className="canvas-toolbar">
        {readOnly ? null : (
          <button type="button" onClick={tidyUp} title="Lay the workflow out automatically (Shift+L)">
            Tidy up
          </button>
        )}
        <button type="button" onClick={() => setHelpOpen(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
          ?
        </button>
      </Panel>
      {notice ? (
        <Panel position="top-center" className={`canvas-notice canvas-notice-${notice.kind}`}>
          <div role={notice.kind === "error" ? "alert" : "status"} data-testid="canvas-notice">
            <span>{notice.text}</span>
            <button type="button" className="link" onClick={() => setNotice(null)} aria-label="Dismiss">
              ×
            </button>
          </div>
        </Panel>
      ) : null}
      <PeerCursors peers={peers} />
      <CommentPins />
    </ReactFlow>
    {helpOpen ? <ShortcutsHelp onClose={closeHelp} /> : null}
    </div>
  );
}

/** A step's colour in the minimap (a token, so it follows the theme): its run status, else amber with problems, else neutral. */
function minimapColor(node: CanvasNode): string {
  if (node.type === "loopGroup") return "color-mix(in srgb, var(--loop-border) 25%, transparent)";
  const data = (node as StepFlowNode).data;
  if (data.status === "succeeded") return "var(--ok)";
  if (data.status === "failed") return "var(--danger)";
  if (data.status === "running" || data.status === "retrying") return "var(--running)";
  if (data.problems.length) return "var(--warn)";
  return data.isTrigger ? "var(--accent)" : "var(--neutral-border)";
}
