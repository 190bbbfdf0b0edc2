/** The RunStep ledger (R5): reading the latest attempts, recording skips, closing a stopped run (R15). */
import { newId, type RunStatus, type Step, type StepStatus, type WorkflowDefinition } from "@algorythmos/domain";
import { isUniqueViolation, Prisma, type Db } from "@algorythmos/platform";
import { DuplicateDelivery } from "../errors.js";
import type { EngineDeps, LedgerRow, Publish, Settled } from "./types.js";

export const OPEN_STATUSES: StepStatus[] = ["pending", "running", "retrying"];

export async function readLedger(db: Db, runId: string): Promise<Map<string, LedgerRow>> {
  const rows = await db.runStep.findMany({
    where: { runId },
    orderBy: { attempt: "asc" },
    select: { id: true, stepId: true, attempt: true, status: true, output: true, error: true, startedAt: true },
  });
  const latest = new Map<string, LedgerRow>();
  for (const row of rows) latest.set(row.stepId, row);
  return latest;
}

export async function skipStep(
  db: Db,
  runId: string,
  step: Step,
  prior: LedgerRow | undefined,
  settled: Map<string, Settled>,
  publish: Publish,
  error: string | null = null,
): Promise<void> {
  settled.set(step.id, { status: "skipped" });
  try {
    await db.runStep.create({
      data: {
        id: newId("rst"),
        runId,
        stepId: step.id,
        type: step.type,
        attempt: (prior?.attempt ?? 0) + 1,
        status: "skipped",
        error,
        finishedAt: new Date(),
      },
    });
  } catch (caught) {
    if (isUniqueViolation(caught)) throw new DuplicateDelivery(runId, step.id);
    throw caught;
  }
  await publish({ type: "step.skipped", stepId: step.id, status: "skipped", ...(error ? { error } : {}) });
}

/**
 * R15: a run stopped from outside (canceled, or failed by the reconciler's timeout). Its open attempt (the
 * one that was interrupted, or a delay that was waiting) is closed as failed, every step that never settled
 * is recorded as skipped, both with the reason ("Run canceled"). Runs that never started are left alone.
 */
export async function closeStoppedRun(
  deps: EngineDeps,
  runId: string,
  definition: WorkflowDefinition,
  latest: Map<string, LedgerRow>,
  settled: Map<string, Settled>,
  publish: Publish,
): Promise<void> {
  const { db } = deps;
  if (latest.size === 0) return; // never started: nothing to close (R1)
  const open = [...latest.values()].filter((row) => OPEN_STATUSES.includes(row.status));
  const unsettled = definition.steps.filter((step) => !latest.has(step.id) && !settled.has(step.id));
  if (!open.length && !unsettled.length) return;
  const reason = await stopReason(db, runId);
  for (const row of open) {
    const closed = await db.runStep.updateMany({
      where: { id: row.id, status: row.status },
      data: { status: "failed", error: reason, finishedAt: new Date() },
    });
    if (closed.count) await publish({ type: "step.failed", stepId: row.stepId, status: "failed", error: reason });
  }
  for (const step of unsettled) {
    try {
      await skipStep(db, runId, step, undefined, settled, publish, reason);
    } catch (error) {
      if (!(error instanceof DuplicateDelivery)) throw error; // closed meanwhile by another delivery
    }
  }
}

export async function stopReason(db: Db, runId: string): Promise<string> {
  const row = await db.run.findUnique({ where: { id: runId }, select: { status: true, error: true } });
  if (!row || row.status === "canceled") return "Run canceled";
  return row.error ?? `Run ${row.status}`;
}

export async function currentStatus(db: Db, runId: string): Promise<RunStatus | null> {
  const row = await db.run.findUnique({ where: { id: runId }, select: { status: true } });
  return row?.status ?? null;
}

/** A step's output as plain JSON (undefined → null; dates → strings). */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/** Prisma wants JsonNull for a JSON null in a nullable Json column. */
export function jsonValue(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}

/**
 * A JSON column value as a `::jsonb` parameter of a raw statement: the same JSON Prisma stores for
 * jsonValue (null/undefined → a JSON null).
 */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value ?? null) ?? "null";
}

/**
 * Now, as a `::timestamp(3)` parameter of a raw statement: Prisma stores DateTime as UTC in these
 * `timestamp without time zone` columns; PostgreSQL ignores the "Z" of the ISO string for that type.
 */
export function timestampParam(date: Date = new Date()): string {
  return date.toISOString();
}
