import type { StepStatus } from "@algorythmos/domain";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";

export type StepNodeData = {
  name: string;
  typeLabel: string;
  isTrigger: boolean;
  isCondition: boolean;
  problems: string[];
  status: StepStatus | null;
};
export type StepFlowNode = Node<StepNodeData, "step">;

/** A step on the canvas: coloured by its status in the current run, flagged when it has problems. */
export function StepNode({ data, selected }: NodeProps<StepFlowNode>) {
  const classes = ["step-node"];
  if (selected) classes.push("selected");
  if (data.status) classes.push(`status-${data.status}`);
  if (data.problems.length) classes.push("has-problems");
  return (
    <div className={classes.join(" ")} title={data.problems.join("\n") || undefined}>
      {data.isTrigger ? null : <Handle type="target" position={Position.Top} />}
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
          <Handle type="source" position={Position.Bottom} id="true" style={{ left: "30%" }} />
          <Handle type="source" position={Position.Bottom} id="false" style={{ left: "70%" }} />
          <div className="condition-handles" aria-hidden="true">
            <span>true</span>
            <span>false</span>
          </div>
        </>
      ) : (
        <Handle type="source" position={Position.Bottom} />
      )}
    </div>
  );
}
