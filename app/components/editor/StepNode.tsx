import type { StepStatus } from "@algorythmos/domain";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";

/** How a step differs from the version being compared (version → now). */
export type DiffMark = "added" | "removed" | "changed";

export type StepNodeData = {
  name: string;
  typeLabel: string;
  isTrigger: boolean;
  isCondition: boolean;
  problems: string[];
  status: StepStatus | null;
  diff: DiffMark | null;
  /** For a changed step: which fields changed (config, name, position, …). */
  changedFields: string[];
  /** Other people who have this step selected. */
  selectedBy: { name: string; color: string }[];
};
export type StepFlowNode = Node<StepNodeData, "step">;

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
      style={peer ? { outline: `3px solid ${peer.color}`, outlineOffset: 3 } : undefined}
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
      <div className="step-node-type">{data.typeLabel}</div>
      <div className="step-node-name">
        {data.problems.length ? (
          <span className="problem-badge" role="img" aria-label={`${data.problems.length} problem(s)`}>
            !
          </span>
        ) : null}
        {data.name}
      </div>
      {data.status ? <div className="step-node-status">{data.status}</div> : null}
      {data.isCondition ? (
        <>
          <Handle type="source" position={Position.Right} id="true" style={{ top: "35%" }} />
          <Handle type="source" position={Position.Right} id="false" style={{ top: "75%" }} />
          <div className="condition-handles" aria-hidden="true">
            <span>true ›</span>
            <span>false ›</span>
          </div>
        </>
      ) : (
        <Handle type="source" position={Position.Right} isConnectable={data.diff !== "removed"} />
      )}
    </div>
  );
}
