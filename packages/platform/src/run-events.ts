import { FINAL_RUN_STATUSES, type RunEvent, type RunStatus } from "@algorythmos/domain";
import type { Redis } from "ioredis";
import { json, Prisma, transaction, type Db, type Tx } from "./db.js";
import type { Logger } from "./logger.js";

/*
 * A run's lifecycle and its events. Every change of a run's state — create, start, finish, stop — is made
 * here, each as ONE SQL statement that also stores its event (a data-modifying CTE), so no crash can leave
 * a state change without its event or an event without its state: every run that finished has a stored
 * `run.finished`, and `runEvents` (which replays the store) completes. The server (services/runs.ts), the
 * reconciler and the engine all call these; it lives in platform because the server may not import the
 * worker. Announcing on Redis comes after the commit and is best effort (subscribers replay the store).
 */

/** Redis pub/sub channels of run events; subscribers (GraphQL subscriptions) listen on any server. */
export const runEventChannel = (redisPrefix: string, runId: string) => `${redisPrefix}run-events:${runId}`;
/** Run ids canceled by the API; workers abort that run's in-flight step. */
export const cancelRunChannel = (redisPrefix: string) => `${redisPrefix}run-cancel`;
export const workflowRunsChannel = (redisPrefix: string, workflowId: string) => `${redisPrefix}workflow-runs:${workflowId}`;

/** Stores the event (for replay by late subscribers), then publishes it to the run's and the workflow's channels. */
export async function publishRunEvent(db: Db, redis: Redis, redisPrefix: string, event: Omit<RunEvent, "seq">): Promise<RunEvent> {
  const row = await db.runEvent.create({ data: { runId: event.runId, payload: json(event) }, select: { id: true } });
  const stored: RunEvent = { ...event, seq: Number(row.id) };
  await announceRunEvent(redis, redisPrefix, stored);
  return stored;
}

/** Publishes an already stored event (`seq` = its RunEvent id) to the run's and the workflow's channels. */
export async function announceRunEvent(redis: Redis, redisPrefix: string, stored: RunEvent): Promise<void> {
  const message = JSON.stringify(stored);
  await redis
    .multi()
    .publish(runEventChannel(redisPrefix, stored.runId), message)
    .publish(workflowRunsChannel(redisPrefix, stored.workflowId), message)
    .exec();
}

/**
 * Stores the event in the same SQL statement as another write (one round trip instead of two). `statement`
 * gets `storeEventFrom(source)`, the final `INSERT INTO "RunEvent" … SELECT … FROM source RETURNING id` of a
 * data-modifying CTE, e.g. `WITH w AS (UPDATE … RETURNING id) ${storeEventFrom("w")}`: the event is stored
 * once per row `source` yields (so not at all when the write matched no row; `source` must yield at most one).
 * Returns the stored event (seq = its RunEvent id, as publishRunEvent), or null when none was stored; it is
 * not published (announceRunEvent). Database errors are thrown: through $queryRaw a unique violation is P2010
 * with the PostgreSQL code in `meta.code` (isUniqueViolation covers both).
 */
export async function storeRunEventWith(
  db: Db | Tx,
  event: Omit<RunEvent, "seq">,
  statement: (storeEventFrom: (source: string) => Prisma.Sql) => Prisma.Sql,
): Promise<RunEvent | null> {
  // The payload is the same JSON Prisma stores for `json(event)` in publishRunEvent.
  const payload = JSON.stringify(event);
  const storeEventFrom = (source: string) =>
    Prisma.sql`INSERT INTO "RunEvent" ("runId", "payload") SELECT ${event.runId}, ${payload}::jsonb FROM ${Prisma.raw(`"${source.replaceAll('"', '""')}"`)} RETURNING "id"`;
  const rows = await db.$queryRaw<{ id: bigint | number | string }[]>(statement(storeEventFrom));
  if (rows.length === 0) return null;
  return { ...event, seq: Number(rows[0]!.id) };
}

export async function storedRunEvents(db: Db, runId: string): Promise<RunEvent[]> {
  const rows = await db.runEvent.findMany({ where: { runId }, orderBy: { id: "asc" }, select: { id: true, payload: true } });
  return rows.map((row) => ({ ...(row.payload as unknown as RunEvent), seq: Number(row.id) }));
}

/** What a lifecycle change needs: the database (the truth), Redis (announcing) and where to log a failed announce. */
export interface RunLifecycleDeps {
  db: Db;
  redis: Redis;
  redisPrefix: string;
  logger?: Logger;
}

export interface NewRun {
  id: string;
  workflowId: string;
  workspaceId: string;
  definition: unknown;
  trigger: string;
  input: unknown;
  retryOfRunId?: string | null;
  fromStepId?: string | null;
  stepInputOverride?: unknown;
}

/** A JSON column value as a `::jsonb` parameter (the JSON Prisma stores for `json(value)`). */
const jsonb = (value: unknown) => JSON.stringify(value ?? null) ?? "null";
/** Prisma stores DateTime as UTC in `timestamp(3)` columns; PostgreSQL ignores the ISO string's "Z" there. */
const timestamp = (date: Date) => Prisma.sql`${date.toISOString()}::timestamp(3)`;

async function announce(deps: RunLifecycleDeps, stored: RunEvent): Promise<void> {
  await announceRunEvent(deps.redis, deps.redisPrefix, stored).catch((error: unknown) =>
    deps.logger?.warn("run event not announced; subscribers replay it from the store", { runId: stored.runId, type: stored.type, error: String(error) }),
  );
}

/**
 * Creates a `queued` run and its `run.queued` event in one statement. `alsoInTransaction` adds writes that
 * commit with it (a re-run's copied ledger rows). A duplicate id throws (isUniqueViolation): nothing is written.
 */
export async function createRun(
  deps: RunLifecycleDeps,
  run: NewRun,
  options: { alsoInTransaction?: (tx: Tx) => Promise<void> } = {},
): Promise<{ createdAt: Date; event: RunEvent }> {
  const createdAt = new Date();
  const event: Omit<RunEvent, "seq"> = { type: "run.queued", runId: run.id, workflowId: run.workflowId, stepId: null, status: "queued", at: createdAt.toISOString() };
  const override = run.stepInputOverride === undefined || run.stepInputOverride === null ? null : jsonb(run.stepInputOverride);
  const insert = (db: Db | Tx) =>
    storeRunEventWith(db, event, (storeEventFrom) => Prisma.sql`WITH r AS (
      INSERT INTO "Run" ("id", "workflowId", "workspaceId", "definition", "trigger", "input", "retryOfRunId", "fromStepId", "stepInputOverride", "createdAt")
      VALUES (${run.id}, ${run.workflowId}, ${run.workspaceId}, ${jsonb(run.definition)}::jsonb, ${run.trigger}, ${jsonb(run.input)}::jsonb,
              ${run.retryOfRunId ?? null}, ${run.fromStepId ?? null}, ${override}::jsonb, ${timestamp(createdAt)})
      RETURNING "id"
    ) ${storeEventFrom("r")}`);
  const stored = options.alsoInTransaction
    ? await transaction(deps.db, async (tx) => {
        const created = await insert(tx);
        await options.alsoInTransaction!(tx);
        return created;
      })
    : await insert(deps.db);
  await announce(deps, stored!);
  return { createdAt, event: stored! };
}

/** R2: `queued` → `running` and its `run.started`, in one statement. False when the run was not queued. */
export async function startRun(deps: RunLifecycleDeps, run: { runId: string; workflowId: string }): Promise<boolean> {
  const now = new Date();
  const event: Omit<RunEvent, "seq"> = { type: "run.started", runId: run.runId, workflowId: run.workflowId, stepId: null, status: "running", at: now.toISOString() };
  const stored = await storeRunEventWith(deps.db, event, (storeEventFrom) => Prisma.sql`WITH s AS (
    UPDATE "Run" SET "status" = 'running'::"RunStatus", "startedAt" = ${timestamp(now)}
    WHERE "id" = ${run.runId} AND "status" = 'queued'::"RunStatus"
    RETURNING "id"
  ) ${storeEventFrom("s")}`);
  if (!stored) return false;
  await announce(deps, stored);
  return true;
}

export interface RunEnd {
  runId: string;
  workflowId: string;
  status: "succeeded" | "failed" | "canceled";
  output?: unknown;
  error?: string | null;
}

/** A final state and its `run.finished` in one statement, only from one of the `from` states; null when it was in none. */
async function endRun(deps: RunLifecycleDeps, end: RunEnd, from: RunStatus[], finishedAt = new Date()): Promise<RunEvent | null> {
  const event: Omit<RunEvent, "seq"> = {
    type: "run.finished",
    runId: end.runId,
    workflowId: end.workflowId,
    stepId: null,
    status: end.status,
    at: finishedAt.toISOString(),
    ...(end.output === undefined ? {} : { output: end.output }),
    error: end.error ?? null,
  };
  const output = end.output === undefined ? Prisma.empty : Prisma.sql`"output" = ${jsonb(end.output)}::jsonb,`;
  const states = Prisma.join(from.map((status) => Prisma.sql`${status}::"RunStatus"`));
  const stored = await storeRunEventWith(deps.db, event, (storeEventFrom) => Prisma.sql`WITH f AS (
    UPDATE "Run" SET "status" = ${end.status}::"RunStatus", ${output} "error" = ${end.error ?? null}, "finishedAt" = ${timestamp(finishedAt)}
    WHERE "id" = ${end.runId} AND "status" IN (${states})
    RETURNING "id"
  ) ${storeEventFrom("f")}`);
  if (stored) await announce(deps, stored);
  return stored;
}

/** R16: the engine ends a `running` run (succeeded or failed) with its output or error. False when it was not running. */
export async function finishRun(deps: RunLifecycleDeps, end: RunEnd & { status: "succeeded" | "failed" }): Promise<boolean> {
  return (await endRun(deps, end, ["running"])) !== null;
}

/**
 * R15, R22: a run stopped from outside — canceled by a user (`queued` or `running` → `canceled`) or failed by
 * the reconciler's timeout (`running` → `failed`). False when it was not in such a state.
 */
export async function stopRun(
  deps: RunLifecycleDeps,
  stop: { runId: string; workflowId: string; reason: "canceled" | "timed-out"; error: string; at?: Date },
): Promise<boolean> {
  const end: RunEnd = { runId: stop.runId, workflowId: stop.workflowId, status: stop.reason === "canceled" ? "canceled" : "failed", error: stop.error };
  return (await endRun(deps, end, stop.reason === "canceled" ? ["queued", "running"] : ["running"], stop.at)) !== null;
}

/**
 * R1: a final run without a stored `run.finished` (a crash between two statements, before they were one) gets
 * it, built from the run's row, so `runEvents` completes. One statement; a run that has one is left alone.
 */
export async function repairFinalEvent(deps: RunLifecycleDeps, runId: string): Promise<RunEvent | null> {
  const finals = Prisma.join(FINAL_RUN_STATUSES.map((status) => Prisma.sql`${status}::"RunStatus"`));
  const rows = await deps.db.$queryRaw<{ id: bigint | number | string; payload: unknown }[]>`
    INSERT INTO "RunEvent" ("runId", "payload")
    SELECT r."id", jsonb_strip_nulls(jsonb_build_object(
        'type', 'run.finished', 'runId', r."id", 'workflowId', r."workflowId", 'status', r."status", 'output', r."output",
        'at', to_char(COALESCE(r."finishedAt", now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      )) || jsonb_build_object('stepId', NULL, 'error', r."error")
    FROM "Run" r
    WHERE r."id" = ${runId} AND r."status" IN (${finals})
      AND NOT EXISTS (SELECT 1 FROM "RunEvent" e WHERE e."runId" = ${runId} AND e."payload"->>'type' = 'run.finished')
    RETURNING "id", "payload"`;
  if (!rows.length) return null;
  const payload = typeof rows[0]!.payload === "string" ? JSON.parse(rows[0]!.payload) : rows[0]!.payload;
  const stored: RunEvent = { ...(payload as Omit<RunEvent, "seq">), seq: Number(rows[0]!.id) };
  deps.logger?.warn("run.finished was missing; repaired from the run's state", { runId });
  await announce(deps, stored);
  return stored;
}
