/** The RunStep ledger (R5): reading the latest attempts, recording skips, closing a stopped run (R15). */
import { loopOwners, newId, type RunStatus, type Step, type StepStatus, type WorkflowDefinition } from "@algorythmos/domain";
import { Prisma, query, type Db } from "@algorythmos/platform";
import { DuplicateDelivery } from "../errors.js";
import type { EngineDeps, EventInput, LedgerRow, Publish, Settled } from "./types.js";

/** Rows not settled yet; `waiting` (an approval, a child run: R30, R33) is closed like the others when the run stops. */
export const OPEN_STATUSES: StepStatus[] = ["pending", "running", "retrying", "waiting"];

export async function readLedger(db: Db, runId: string): Promise<Map<string, LedgerRow>> {
  const rows = await query<LedgerRow>(
    db,
    Prisma.sql`SELECT "id", "stepId", "attempt", "status", "output", "error", "startedAt" FROM "RunStep" WHERE "runId" = ${runId} ORDER BY "attempt" ASC`,
    "algo_ledger_read",
  );
  const latest = new Map<string, LedgerRow>();
  for (const row of rows) latest.set(row.stepId, row);
  return latest;
}

/** A new ledger row (R5): one attempt of one step. */
export interface NewLedgerRow {
  id: string;
  runId: string;
  stepId: string;
  type: string;
  attempt: number;
  status: StepStatus;
  input?: unknown;
  output?: unknown;
  error?: string | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
}

const timestampOrNull = (date: Date | null | undefined) => (date ? Prisma.sql`${timestampParam(date)}::timestamp(3)` : Prisma.sql`NULL`);
const jsonOrNull = (value: unknown) => (value === undefined ? Prisma.sql`NULL` : Prisma.sql`${jsonParam(value)}::jsonb`);

/** The previous attempt of a step, closed as failed by the statement that records the next one (R10, R17). */
export interface ClosingAttempt {
  id: string;
  from: StepStatus;
  error?: string;
}

/**
 * A ledger row's INSERT (returning its id), for insertStep or for carrying (Publish.carry). `onlyAfter`: the
 * name of a CTE that closes the previous attempt; the row is inserted only when that close matched.
 */
export function insertRowSql(row: NewLedgerRow, onlyAfter?: string): Prisma.Sql {
  const values = Prisma.sql`${row.id}, ${row.runId}, ${row.stepId}, ${row.type}, ${row.attempt}::integer, ${row.status}::"StepStatus",
    ${jsonOrNull(row.input)}, ${jsonOrNull(row.output)}, ${row.error ?? null}, ${timestampOrNull(row.startedAt)}, ${timestampOrNull(row.finishedAt)}`;
  return Prisma.sql`INSERT INTO "RunStep" ("id", "runId", "stepId", "type", "attempt", "status", "input", "output", "error", "startedAt", "finishedAt")
    ${onlyAfter ? Prisma.sql`SELECT ${values} WHERE EXISTS (SELECT 1 FROM ${Prisma.raw(onlyAfter)})` : Prisma.sql`VALUES (${values})`}
    RETURNING "id"`;
}

/** Closes a step's previous attempt as failed, only from the state it was read in. */
export function closeAttemptSql(closing: ClosingAttempt): Prisma.Sql {
  return Prisma.sql`UPDATE "RunStep" SET "status" = 'failed'::"StepStatus"
      ${closing.error === undefined ? Prisma.empty : Prisma.sql`, "error" = ${closing.error}, "finishedAt" = ${timestampOrNull(new Date())}`}
    WHERE "id" = ${closing.id} AND "status" = ${closing.from}::"StepStatus"
    RETURNING "id"`;
}

/**
 * R5: inserts a ledger row and stores its event in one statement. `closing` is the step's previous attempt
 * (interrupted, or waiting to be retried), closed as failed in the same statement: a crash can never leave it
 * closed without its successor, which the next delivery would read as the step failing for good (R10, R17).
 * Another delivery that recorded the same attempt first makes it throw DuplicateDelivery (nothing is written).
 */
export async function insertStep(publish: Publish, row: NewLedgerRow, event: EventInput, closing?: ClosingAttempt): Promise<void> {
  // The new attempt only when the previous one was still open: a delivery that settled it meanwhile (its
  // result committed first) owns the step, and this one stops (R5), so a step never succeeds twice.
  const inserted = await publish.withLedger(event, { write: insertRowSql(row, closing ? "x0" : undefined), with: closing ? [closeAttemptSql(closing)] : [] });
  if (!inserted) throw new DuplicateDelivery(row.runId, row.stepId);
}

/**
 * R5: moves one ledger row on, only from one of the `from` states, and stores its event, in one statement.
 * False when the row was in none of them (closed meanwhile by a cancel or another delivery): nothing written.
 */
export async function updateStep(
  publish: Publish,
  row: { id: string; from: StepStatus[] },
  set: { status: StepStatus; output?: unknown; error?: string | null; finishedAt?: Date },
  event: EventInput,
): Promise<boolean> {
  const output = set.output === undefined ? Prisma.empty : Prisma.sql`, "output" = ${jsonParam(set.output)}::jsonb`;
  const error = set.error === undefined ? Prisma.empty : Prisma.sql`, "error" = ${set.error}`;
  const from = Prisma.join(row.from.map((status) => Prisma.sql`${status}::"StepStatus"`));
  return publish.withLedger(event, {
    write: Prisma.sql`UPDATE "RunStep" SET "status" = ${set.status}::"StepStatus", "finishedAt" = ${timestampOrNull(set.finishedAt ?? new Date())} ${output} ${error}
      WHERE "id" = ${row.id} AND "status" IN (${from})
      RETURNING "id"`,
  });
}

/** Records a step as skipped under its ledger id (`<stepId>@<i>` inside a loop body, R25); `settled` is by step id. */
export async function skipStep(
  runId: string,
  step: Step,
  prior: LedgerRow | undefined,
  settled: Map<string, Settled>,
  publish: Publish,
  error: string | null = null,
  ledgerId: string = step.id,
): Promise<void> {
  settled.set(step.id, { status: "skipped" });
  await insertStep(
    publish,
    { id: newId("rst"), runId, stepId: ledgerId, type: step.type, attempt: (prior?.attempt ?? 0) + 1, status: "skipped", error, finishedAt: new Date() },
    { type: "step.skipped", stepId: ledgerId, status: "skipped", ...(error ? { error } : {}) },
  );
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
  // Steps inside loop bodies are recorded per iteration (R25): an iteration that never started has no rows.
  const owners = loopOwners(definition);
  const unsettled = definition.steps.filter((step) => owners.get(step.id) === null && !latest.has(step.id) && !settled.has(step.id));
  if (!open.length && !unsettled.length) return;
  const reason = await stopReason(db, runId);
  for (const row of open) {
    await updateStep(publish, { id: row.id, from: [row.status] }, { status: "failed", error: reason }, { type: "step.failed", stepId: row.stepId, status: "failed", error: reason });
  }
  for (const step of unsettled) {
    try {
      await skipStep(runId, step, undefined, settled, publish, reason);
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
  const rows = await query<{ status: RunStatus }>(db, Prisma.sql`SELECT "status" FROM "Run" WHERE "id" = ${runId}`, "algo_run_status");
  return rows[0]?.status ?? null;
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
