import { isTriggerType, type DefinitionDiff, type StepStatus, type WorkflowDefinition } from "@algorythmos/domain";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  ReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type ReactFlowInstance,
  ViewportPortal,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import type * as Y from "yjs";
import type { Peer } from "~/lib/collab";
import { connectSteps, deleteEdges, deleteSteps, moveSteps } from "~/lib/doc-edits";
import { StepNode, type StepFlowNode } from "./StepNode";

/** Ghost nodes (steps removed since a compared version) carry this id prefix; they are never edited. */
const GHOST = "ghost:";

const nodeTypes = { step: StepNode };

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
}

/**
 * React Flow over the Y.Doc. The doc is the source of truth; React Flow keeps only what is local to this
 * tab (selection, a drag in progress), merged back in whenever the doc changes.
 */
export function Canvas({ doc, definition, problemsByStep, stepStatuses, typeLabels, readOnly, selectedId, onSelect, diff = null, peers = [], onCursor }: CanvasProps) {
  const [nodes, setNodes] = useState<StepFlowNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const flow = useRef<ReactFlowInstance<StepFlowNode, Edge> | null>(null);

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
            name: step.name || step.id,
            typeLabel: typeLabels[step.type] ?? step.type,
            isTrigger: isTriggerType(step.type),
            isCondition: step.type === "condition",
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
          selected: old ? !!old.selected : step.id === selectedId,
          dragging: old?.dragging ?? false,
          ...(old?.measured ? { measured: old.measured } : {}),
          data: {
            name: step.name || step.id,
            typeLabel: typeLabels[step.type] ?? step.type,
            isTrigger: isTriggerType(step.type),
            isCondition: step.type === "condition",
            problems: problemsByStep.get(step.id) ?? [],
            status: stepStatuses[step.id] ?? null,
            diff: added.has(step.id) ? "added" : changed.has(step.id) ? "changed" : null,
            changedFields: changed.get(step.id) ?? [],
            selectedBy: selectedBy.get(step.id) ?? [],
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
    const conditions = new Set(definition.steps.filter((s) => s.type === "condition").map((s) => s.id));
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
        ghosts.push({ id: GHOST + edge.id, source, target, className: "diff-edge-removed", selectable: false, deletable: false, focusable: false });
      }
      return [
        ...ghosts,
        ...definition.edges.map((edge) => ({
          id: edge.id,
          source: edge.source,
          target: edge.target,
          // Condition steps have one source handle per branch; the edge's label names the branch.
          sourceHandle: conditions.has(edge.source) && edge.label ? edge.label : null,
          ...(edge.label ? { label: edge.label } : {}),
          ...(addedEdges.has(edge.id) ? { className: "diff-edge-added" } : {}),
          selected: selected.has(edge.id),
        })),
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

  return (
    <ReactFlow<StepFlowNode, Edge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onNodeDragStop={(_event, _node, dragged) => moveSteps(doc, dragged.map((n) => ({ id: n.id, ...n.position })))}
      onNodesDelete={(deleted) => deleteSteps(doc, deleted.map((n) => n.id).filter((id) => !id.startsWith(GHOST)))}
      onEdgesDelete={(deleted) => deleteEdges(doc, deleted.map((e) => e.id).filter((id) => !id.startsWith(GHOST)))}
      onInit={(instance) => (flow.current = instance)}
      onMouseMove={onMouseMove}
      onMouseLeave={onMouseLeave}
      onConnect={(c) => connectSteps(doc, c.source, c.target, c.sourceHandle === "true" || c.sourceHandle === "false" ? c.sourceHandle : undefined)}
      isValidConnection={isValidConnection}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]}
      fitView
      fitViewOptions={{ maxZoom: 1.2 }}
    >
      <Background />
      <Controls showInteractive={false} />
      <ViewportPortal>
        {peers.map((peer) =>
          peer.cursor ? (
            <div
              key={peer.clientId}
              className="remote-cursor"
              data-testid="remote-cursor"
              style={{ transform: `translate(${peer.cursor.x}px, ${peer.cursor.y}px)`, color: peer.user.color }}
              aria-hidden="true"
            >
              <svg width="16" height="16" viewBox="0 0 16 16">
                <path d="M0 0 L0 13 L4 9.5 L7 15 L9 14 L6.5 8.5 L11 8 Z" fill="currentColor" stroke="#fff" strokeWidth="1" />
              </svg>
              <span style={{ background: peer.user.color }}>{peer.user.name}</span>
            </div>
          ) : null,
        )}
      </ViewportPortal>
    </ReactFlow>
  );
}
