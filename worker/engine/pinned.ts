/** R47, R48: pinned data — a draft run takes a step's pinned output instead of executing the step. */
import { newId, type RunEvent, type Step } from "@algorythmos/domain";
import { insertRowSql, toJson } from "./ledger.js";
import type { EngineDeps, EventInput, LedgerRow, Publish, RunState } from "./types.js";

/**
 * The pins this run uses, by step id: the captured definition's, for a draft run only (R48: a run of a
 * published version, or a test case's run, executes every step). The run row is read only when there are pins.
 */
export async function pinnedOutputsOf(deps: EngineDeps, run: RunState): Promise<Map<string, unknown>> {
  const pins = run.definition.pinned;
  if (!pins || !Object.keys(pins).length) return new Map();
  const row = await deps.db.run.findUnique({ where: { id: run.runId }, select: { versionId: true, trigger: true } });
  if (!row || row.versionId !== null || row.trigger === "test") return new Map();
  return new Map(Object.entries(pins));
}

/**
 * Records a pinned step as succeeded without executing it: one settled ledger row (`input: { pinned: true }`,
 * the pinned output) and its step.started / step.succeeded, both marked `pinned: true`, carried to the next
 * durable write like an in-process step's (R5). Returns the output the later steps see.
 */
export function recordPinned(run: RunState, step: Step, prior: LedgerRow | undefined, pinned: unknown, publish: Publish): unknown {
  const output = toJson(pinned);
  const attempt = (prior?.attempt ?? 0) + 1;
  const at = new Date();
  const mark: Pick<RunEvent, "pinned"> = { pinned: true };
  const started: EventInput & Pick<RunEvent, "pinned"> = { type: "step.started", stepId: step.id, status: "running", attempt, ...mark };
  const succeeded: EventInput & Pick<RunEvent, "pinned"> = { type: "step.succeeded", stepId: step.id, status: "succeeded", attempt, output, ...mark };
  publish.carry(
    [insertRowSql({ id: newId("rst"), runId: run.runId, stepId: step.id, type: step.type, attempt, status: "succeeded", input: { pinned: true }, output, startedAt: at, finishedAt: at })],
    [
      { ...started, at },
      { ...succeeded, at },
    ],
  );
  return output;
}
