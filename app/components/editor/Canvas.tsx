import { isTriggerType, type StepStatus, type WorkflowDefinition } from "@algorythmos/domain";
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
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import type * as Y from "yjs";
import { connectSteps, deleteEdges, deleteSteps, moveSteps } from "~/lib/doc-edits";
import { StepNode, type StepFlowNode } from "./StepNode";

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
}

/**
 * React Flow over the Y.Doc. The doc is the source of truth; React Flow keeps only what is local to this
 * tab (selection, a drag in progress), merged back in whenever the doc changes.
 */
export function Canvas({ doc, definition, problemsByStep, stepStatuses, typeLabels, readOnly, selectedId, onSelect }: CanvasProps) {
  const [nodes, setNodes] = useState<StepFlowNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);

  useEffect(() => {
    setNodes((previous) => {
      const local = new Map(previous.map((node) => [node.id, node]));
      return definition.steps.map((step): StepFlowNode => {
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
          },
        };
      });
    });
  }, [definition, problemsByStep, stepStatuses, typeLabels]); // eslint-disable-line react-hooks/exhaustive-deps

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
      return definition.edges.map((edge) => ({
        id: edge.id,
        source: edge.source,
        target: edge.target,
        // Condition steps have one source handle per branch; the edge's label names the branch.
        sourceHandle: conditions.has(edge.source) && edge.label ? edge.label : null,
        ...(edge.label ? { label: edge.label } : {}),
        selected: selected.has(edge.id),
      }));
    });
  }, [definition]);

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

  const selectedIds = useMemo(() => nodes.filter((n) => n.selected).map((n) => n.id), [nodes]);
  useEffect(() => onSelect(selectedIds.length === 1 ? selectedIds[0]! : null), [selectedIds.join(","), onSelect]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <ReactFlow<StepFlowNode, Edge>
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onNodeDragStop={(_event, _node, dragged) => moveSteps(doc, dragged.map((n) => ({ id: n.id, ...n.position })))}
      onNodesDelete={(deleted) => deleteSteps(doc, deleted.map((n) => n.id))}
      onEdgesDelete={(deleted) => deleteEdges(doc, deleted.map((e) => e.id))}
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
    </ReactFlow>
  );
}
