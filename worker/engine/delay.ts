import { newId, type Step } from "@algorythmos/domain";
import { isUniqueViolation } from "@algorythmos/platform";
import { DuplicateDelivery } from "../errors.js";
import { jsonValue, OPEN_STATUSES } from "./ledger.js";
import { stepConfig } from "./step-config.js";
import type { EngineDeps, LedgerRow, Publish, RunState } from "./types.js";

/**
 * R13: a delay records its resume time on a `running` row and then holds no worker: the walk goes on with
 * the steps that do not depend on it, and the job is moved to BullMQ's delayed set. A delivery at or after
 * the resume time closes the row as succeeded.
 */
export async function delayStep(
  deps: EngineDeps,
  run: RunState,
  step: Step,
  prior: LedgerRow | undefined,
  publish: Publish,
): Promise<{ status: "waiting"; resumeAt: Date } | { status: "succeeded"; output: unknown } | { status: "failed"; error: string }> {
  const { db } = deps;
  const resolved = stepConfig(run, step);
  let row = prior && prior.status === "running" && resumeAtOf(prior.output) ? prior : undefined;
  if (!row) {
    if (prior && OPEN_STATUSES.includes(prior.status)) {
      await db.runStep.updateMany({ where: { id: prior.id, status: prior.status }, data: { status: "failed", error: "Interrupted before the delay was recorded", finishedAt: new Date() } });
    }
    const startedAt = new Date();
    const durationMs = resolved.error === undefined ? (resolved.config as { durationMs: number }).durationMs : 0;
    const resumeAt = new Date(startedAt.getTime() + durationMs);
    const id = newId("rst");
    try {
      await db.runStep.create({
        data: {
          id,
          runId: run.runId,
          stepId: step.id,
          type: step.type,
          attempt: (prior?.attempt ?? 0) + 1,
          status: "running",
          input: jsonValue(resolved.error === undefined ? resolved.config : resolved.raw),
          output: jsonValue({ resumeAt: resumeAt.toISOString() }),
          startedAt,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateDelivery(run.runId, step.id);
      throw error;
    }
    await publish({ type: "step.started", stepId: step.id, status: "running", output: { resumeAt: resumeAt.toISOString() } });
    row = { id, stepId: step.id, attempt: (prior?.attempt ?? 0) + 1, status: "running", output: { resumeAt: resumeAt.toISOString() }, error: null, startedAt };
    if (resolved.error !== undefined) {
      await db.runStep.update({ where: { id }, data: { status: "failed", error: resolved.error, finishedAt: new Date() } });
      await publish({ type: "step.failed", stepId: step.id, status: "failed", error: resolved.error });
      return { status: "failed", error: resolved.error };
    }
  }
  const resumeAt = resumeAtOf(row.output)!;
  if (resumeAt.getTime() > Date.now()) return { status: "waiting", resumeAt };
  const waitedMs = Math.max(0, resumeAt.getTime() - (row.startedAt ?? resumeAt).getTime());
  const output = { waitedMs, resumeAt: resumeAt.toISOString() };
  const done = await db.runStep.updateMany({
    where: { id: row.id, status: "running" },
    data: { status: "succeeded", output: jsonValue(output), finishedAt: new Date() },
  });
  if (done.count === 0) throw new DuplicateDelivery(run.runId, step.id);
  await publish({ type: "step.succeeded", stepId: step.id, status: "succeeded", output });
  return { status: "succeeded", output };
}

function resumeAtOf(output: unknown): Date | null {
  const text = (output as { resumeAt?: unknown } | null)?.resumeAt;
  if (typeof text !== "string") return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
