import type { StepIcon as StepIconName, StepStatus } from "@algorythmos/domain";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { StepIcon } from "./StepLibrary";
import { PinBadge } from "./StepTest";

/** How a step differs from the version being compared (version → now). */
export type DiffMark = "added" | "removed" | "changed";

export type StepNodeData = {
  name: string;
  typeLabel: string;
  /** The step type's icon (the registry's UI hints). */
  icon?: StepIconName;
  isTrigger: boolean;
  /** The step's outputs, top to bottom: one handle each (see sourceHandles in Canvas.tsx). */
  sourceHandles: SourceHandle[];
  problems: string[];
  status: StepStatus | null;
  diff: DiffMark | null;
  /** For a changed step: which fields changed (config, name, position, …). */
  changedFields: string[];
  /** Other people who have this step selected. */
  selectedBy: { name: string; color: string }[];
  /** The step's output is pinned (R47): draft runs use it instead of running the step. */
  pinned?: boolean;
};
export type StepFlowNode = Node<StepNodeData, "step">;

/** One output of a step: `id` is the label its edges carry (null: the unlabelled default output). */
export interface SourceHandle {
  id: string | null;
  /** Shown beside the handle; null for a step with a single unlabelled output. */
  label: string | null;
  kind?: "body" | "error";
}

export type LoopGroupData = { loopId: string; loopName: string; stepIds: string[] };
export type LoopGroupFlowNode = Node<LoopGroupData, "loopGroup">;

/** The tinted box drawn behind a loop's body steps, named after its loop. */
export function LoopGroupNode({ data }: NodeProps<LoopGroupFlowNode>) {
  return (
    <div className="loop-group" data-testid={`loop-body-${data.loopId}`} data-steps={data.stepIds.join(",")} aria-label={`Body of loop ${data.loopName}`}>
      <span className="loop-group-label">↻ {data.loopName}: body</span>
    </div>
  );
}

const DIFF_LABEL: Record<DiffMark, string> = { added: "Added", removed: "Removed", changed: "Changed" };

/**
 * A step on the canvas: coloured by its status in the current run, flagged when it has problems, outlined
 * when another person has it selected or when it differs from a compared version. Inputs enter on the left
 * and outputs leave on the right, following the left-to-right layout.
 */
export function StepNode({ data, selected }: NodeProps<StepFlowNode>) {
  const classes = ["step-node"];
  if (selected) classes.push("selected");
  if (data.status) classes.push(`status-${data.status}`);
  if (data.problems.length) classes.push("has-problems");
  if (data.diff) classes.push(`diff-${data.diff}`);
  const peer = data.selectedBy[0];
  const title = [data.problems.join("\n"), data.diff === "changed" ? `Changed: ${data.changedFields.join(", ")}` : ""].filter(Boolean).join("\n");
  return (
    <div
      className={classes.join(" ")}
      title={title || undefined}
      data-diff={data.diff ?? undefined}
      data-selected-by={data.selectedBy.map((p) => p.name).join(",") || undefined}
      style={{
        ...(peer ? { outline: `3px solid ${peer.color}`, outlineOffset: 3 } : {}),
        // Room for every output's handle and label, so each one can be grabbed on its own.
        ...(data.sourceHandles.length > 2 ? { minHeight: data.sourceHandles.length * 20 + 12 } : {}),
      }}
    >
      {data.selectedBy.length ? (
        <div className="peer-selection" aria-label={`Selected by ${data.selectedBy.map((p) => p.name).join(", ")}`}>
          {data.selectedBy.map((p) => (
            <span key={p.name} style={{ background: p.color }}>
              {p.name}
            </span>
          ))}
        </div>
      ) : null}
      {data.diff ? (
        <span className={`diff-badge diff-badge-${data.diff}`}>
          {DIFF_LABEL[data.diff]}
          {data.diff === "changed" && data.changedFields.length ? `: ${data.changedFields.join(", ")}` : ""}
        </span>
      ) : null}
      {data.isTrigger ? null : <Handle type="target" position={Position.Left} isConnectable={data.diff !== "removed"} />}
      <div className="step-node-type">
        {data.icon ? (
          <span className="step-node-icon">
            <StepIcon icon={data.icon} size={14} />
          </span>
        ) : null}
        {data.typeLabel}
      </div>
      <div className="step-node-name">
        {data.problems.length ? (
          <span className="problem-badge" role="img" aria-label={`${data.problems.length} problem(s)`}>
            !
          </span>
        ) : null}
        {data.name}
        <PinBadge pinned={data.pinned} />
      </div>
      {data.status ? <div className="step-node-status">{data.status}</div> : null}
      {data.sourceHandles.length === 1 && data.sourceHandles[0]!.label === null ? (
        <Handle type="source" position={Position.Right} isConnectable={data.diff !== "removed"} />
      ) : (
        <>
          {data.sourceHandles.map((handle, index) => (
            <Handle
              key={handle.id ?? "next"}
              type="source"
              position={Position.Right}
              id={handle.id ?? undefined}
              className={handle.kind ? `handle-${handle.kind}` : undefined}
              style={{ top: `${((index + 1) * 100) / (data.sourceHandles.length + 1)}%` }}
              isConnectable={data.diff !== "removed"}
              title={handle.label ? `Connect the “${handle.label}” output` : undefined}
            />
          ))}
          <div className="branch-handles" aria-hidden="true">
            {data.sourceHandles.map((handle) => (
              <span key={handle.id ?? "next"} className={handle.kind ? `branch-${handle.kind}` : undefined}>
                {handle.label} ›
              </span>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
