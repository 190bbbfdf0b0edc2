import { newId } from "@algorythmos/domain";
import { DuplicateDelivery } from "../errors.js";
import { insertStep, OPEN_STATUSES, updateStep } from "./ledger.js";
import { stepConfig } from "./step-config.js";
import type { EngineStepHandler } from "./engine-step-contract.js";

/**
 * R13: a delay records its resume time on a `running` row and then holds no worker: the walk goes on with
 * the steps that do not depend on it, and the job is moved to BullMQ's delayed set. A delivery at or after
 * the resume time closes the row as succeeded.
 */
export const delayStep: EngineStepHandler = async ({ run, step, ledgerId, prior, publish }) => {
  const resolved = stepConfig(run, step);
  let row = prior && prior.status === "running" && resumeAtOf(prior.output) ? prior : undefined;
  if (!row) {
    const startedAt = new Date();
    const durationMs = resolved.error === undefined ? (resolved.config as { durationMs: number }).durationMs : 0;
    const resumeAt = new Date(startedAt.getTime() + durationMs);
    const id = newId("rst");
    const attempt = (prior?.attempt ?? 0) + 1;
    const output = { resumeAt: resumeAt.toISOString() };
    // The row and its step.started, one statement (R5), closing an attempt interrupted before it recorded its delay.
    const interrupted = prior && OPEN_STATUSES.includes(prior.status) ? { id: prior.id, from: prior.status, error: "Interrupted before the delay was recorded" } : undefined;
    await insertStep(
      publish,
      { id, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "running", input: resolved.error === undefined ? resolved.config : resolved.raw, output, startedAt },
      { type: "step.started", stepId: ledgerId, status: "running", output },
      interrupted,
    );
    row = { id, stepId: ledgerId, attempt, status: "running", output, error: null, startedAt };
    if (resolved.error !== undefined) {
      await updateStep(publish, { id, from: ["running"] }, { status: "failed", error: resolved.error }, { type: "step.failed", stepId: ledgerId, status: "failed", error: resolved.error });
      return { status: "failed", error: resolved.error };
    }
  }
  const resumeAt = resumeAtOf(row.output)!;
  if (resumeAt.getTime() > Date.now()) return { status: "waiting", resumeAt };
  const waitedMs = Math.max(0, resumeAt.getTime() - (row.startedAt ?? resumeAt).getTime());
  const output = { waitedMs, resumeAt: resumeAt.toISOString() };
  const done = await updateStep(publish, { id: row.id, from: ["running"] }, { status: "succeeded", output }, { type: "step.succeeded", stepId: ledgerId, status: "succeeded", output });
  if (!done) throw new DuplicateDelivery(run.runId, ledgerId);
  return { status: "succeeded", output };
};

function resumeAtOf(output: unknown): Date | null {
  const text = (output as { resumeAt?: unknown } | null)?.resumeAt;
  if (typeof text !== "string") return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
