import { FINAL_RUN_STATUSES, type RunEvent, type RunStatus } from "@algorythmos/domain";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { json, Prisma, transaction, type Db, type Tx } from "./db.js";
import type { Logger } from "./logger.js";
import { enqueueRun, type RunJob } from "./queues.js";
import { query } from "./sql.js";

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
  await announceRunEvents(redis, redisPrefix, [stored]);
}

/**
 * R60: one statement's events travel as ONE message per channel — `{"v":2,"events":[…]}`, in seq order — where
 * each event was once a message of its own on each channel (11 events × 2 channels = 22 PUBLISH per webhook
 * run). A message that is a bare event object is the old form (a process not yet upgraded): every consumer
 * reads both (runEventsOfMessage).
 */
export const RUN_EVENTS_MESSAGE_VERSION = 2;

/**
 * The run events of one message on a run or workflow channel, in order: a v2 batch, or one old-form event.
 * A message that is not JSON gives none (subscribers fill gaps from the store; a stream must not die of it).
 */
export function runEventsOfMessage(message: string): RunEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (typeof parsed !== "object" || parsed === null) return [];
  const batch = (parsed as { events?: unknown }).events;
  return Array.isArray(batch) ? (batch as RunEvent[]) : [parsed as RunEvent];
}

/**
 * Both channels' messages in one Redis command: a script runs atomically, as the MULTI it replaces did, so no
 * other publisher's message lands between the run's channel and the workflow's (both see the same order),
 * at one command instead of MULTI + 2 PUBLISH + EXEC. ARGV: channel, message, channel, message, …
 */
const PUBLISH_SCRIPT = `for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 0`;
type WithPublish = Redis & { runEventsPublish?: (...channelsAndMessages: string[]) => Promise<number> };

/** Publishes stored events, in order, in one round trip and one Redis command: one message per channel (R60). */
export async function announceRunEvents(redis: Redis, redisPrefix: string, stored: RunEvent[]): Promise<void> {
  if (!stored.length) return;
  const args: string[] = [];
  // One statement's events are one run's (of one workflow); a caller mixing runs gets a message per run.
  for (const [runId, events] of groupBy(stored, (event) => event.runId)) {
    const message = JSON.stringify({ v: RUN_EVENTS_MESSAGE_VERSION, events });
    args.push(runEventChannel(redisPrefix, runId), message, workflowRunsChannel(redisPrefix, events[0]!.workflowId), message);
  }
  const client = redis as WithPublish;
  if (!client.runEventsPublish) client.defineCommand("runEventsPublish", { numberOfKeys: 0, lua: PUBLISH_SCRIPT });
  await client.runEventsPublish!(...args);
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Writes carried ahead of a state change (R5: the ledger rows of steps evaluated in-process, a step's deferred
 * result): data-modifying statements (`INSERT … RETURNING "id"`, no name) and their events in order. They
 * commit in the statement of the next durable write, so they are stored together or not at all. An event
 * with `onlyIf` (an index into `writes`) is stored only when that write returned a row (a conditional update).
 */
export interface CarriedWrites {
  writes: Prisma.Sql[];
  events: CarriedEvent[];
}
export type CarriedEvent = Omit<RunEvent, "seq"> & { onlyIf?: number };

/** A write and the event it stores: `write` is a data-modifying statement returning one row or none; `with` are writes that commit with it. */
export interface EventWrite {
  write: Prisma.Sql;
  with?: Prisma.Sql[];
}

/**
 * Stores the event in the same SQL statement as another write (one round trip instead of two): a
 * data-modifying CTE, `WITH w AS (<write>) INSERT INTO "RunEvent" … SELECT … WHERE EXISTS (SELECT 1 FROM w)`,
 * so the event is stored only when the write matched a row. `carried` writes and their events (stored first,
 * in order) commit in the same statement. Returns the stored event (seq = its RunEvent id, as
 * publishRunEvent), or null when none was stored, and the carried events that were stored; nothing is
 * announced (announceRunEvents). Database errors are thrown and nothing is written: a unique violation is
 * isDuplicateKey. A carried conditional write (an event's `onlyIf`: a deferred step result, R5) that matches no
 * row means its attempt was closed meanwhile — by a cancel, or by another delivery that took the run (R10):
 * then nothing of the statement is written either (isClosedCarry), so this delivery cannot go on to finish a
 * run whose step result it failed to record.
 */
const CLOSED_CARRY = "algorythmos: a carried step result found its attempt closed";

/** storeRunEventWith refused a statement whose carried step result matched no row: its attempt was closed meanwhile. */
export function isClosedCarry(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === "22P02" && typeof e.message === "string" && e.message.includes(CLOSED_CARRY);
}

export async function storeRunEventWith(
  db: Db | Tx,
  event: Omit<RunEvent, "seq"> | null,
  statement: EventWrite | null,
  carried?: CarriedWrites,
): Promise<{ stored: RunEvent | null; carried: RunEvent[] }> {
  const before = carried?.events ?? [];
  const ctes = [
    ...(carried?.writes ?? []).map((write, index) => Prisma.sql`${Prisma.raw(`p${index}`)} AS (${write})`),
    ...(statement?.with ?? []).map((write, index) => Prisma.sql`${Prisma.raw(`x${index}`)} AS (${write})`),
    ...(statement ? [Prisma.sql`w AS (${statement.write})`] : []),
  ];
  /** Each event with the CTE whose row it needs (null: stored unconditionally). */
  const events: { event: Omit<RunEvent, "seq">; source: string | null }[] = before.map(({ onlyIf, ...e }) => ({ event: e, source: onlyIf === undefined ? null : `p${onlyIf}` }));
  if (event && statement) events.push({ event, source: "w" });
  if (!events.length) {
    if (ctes.length) throw new Error("storeRunEventWith: writes without an event");
    return { stored: null, carried: [] };
  }
  const runId = events[0]!.event.runId;
  const sources = [...new Set(events.map((e) => e.source).filter((source): source is string => source !== null))];
  // Every event in ONE insert, in order (seq order = this order); a conditional one only when its write
  // matched a row. The conditional writes that matched come back beside the ids.
  const values = Prisma.join(events.map((e, index) => Prisma.sql`(${index + 1}::integer, ${JSON.stringify(e.event)}, ${e.source}::text)`));
  const condition = sources.length
    ? Prisma.sql`WHERE e.source IS NULL ${Prisma.join(sources.map((source) => Prisma.sql`OR (e.source = ${source}::text AND EXISTS (SELECT 1 FROM ${Prisma.raw(source)}))`), " ")}`
    : Prisma.empty;
  const matched = sources.length ? Prisma.join(sources.map((source) => Prisma.sql`UNION ALL SELECT NULL::bigint, ${source}::text FROM ${Prisma.raw(source)}`), " ") : Prisma.empty;
  // Every carried conditional write must have matched, or the statement fails as a whole: the cast of the
  // marker to an integer is evaluated only in the ELSE branch, and raises (SQLSTATE 22P02).
  const required = [...new Set(before.filter((e) => e.onlyIf !== undefined).map((e) => `p${e.onlyIf}`))];
  const guard = required.length
    ? [
        Prisma.sql`guard AS (SELECT CASE WHEN ${Prisma.join(
          required.map((source) => Prisma.sql`EXISTS (SELECT 1 FROM ${Prisma.raw(source)})`),
          " AND ",
        )} THEN 1 ELSE (SELECT ${CLOSED_CARRY}::text)::int END AS "ok")`,
      ]
    : [];
  const guarded = required.length ? Prisma.sql`UNION ALL SELECT NULL::bigint, 'guard'::text FROM guard WHERE "ok" = 1` : Prisma.empty;
  const sql = Prisma.sql`WITH ${Prisma.join([...ctes, ...guard, Prisma.sql`ins AS (
      INSERT INTO "RunEvent" ("runId", "payload")
      SELECT ${runId}, e.payload::jsonb FROM (VALUES ${values}) AS e(ord, payload, source) ${condition}
      ORDER BY e.ord
      RETURNING "id"
    )`])}
    SELECT "id", NULL::text AS "source" FROM ins ${matched} ${guarded}`;
  const rows = await runStatement<{ id: bigint | number | string | null; source: string | null }>(db, sql);
  const seqs = rows.filter((row) => row.id !== null).map((row) => Number(row.id)).sort((a, b) => a - b);
  const matchedSources = new Set(rows.filter((row) => row.source !== null).map((row) => row.source));
  const stored: RunEvent[] = [];
  let own: RunEvent | null = null;
  for (const e of events) {
    if (e.source !== null && !matchedSources.has(e.source)) continue;
    const withSeq: RunEvent = { ...e.event, seq: seqs[stored.length + (own ? 1 : 0)]! };
    if (e.source === "w") own = withSeq;
    else stored.push(withSeq);
  }
  return { stored: own, carried: stored };
}

/** A raw statement: on the pool's pg client when given the process's Db (sql.ts), inside a transaction through Prisma. */
function runStatement<T>(db: Db | Tx, sql: Prisma.Sql): Promise<T[]> {
  return isClient(db) ? query<T>(db, sql) : (db as Tx).$queryRaw<T[]>(sql);
}
const isClient = (db: Db | Tx): db is Db => "$transaction" in db;

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
  /** R4: the trigger step the run starts at; null/absent: chosen by `trigger` (domain runStartTriggers). */
  triggerStepId?: string | null;
  input: unknown;
  retryOfRunId?: string | null;
  fromStepId?: string | null;
  stepInputOverride?: unknown;
  /** The published version run (WorkflowSnapshot id); null/absent for a run of the draft. */
  versionId?: string | null;
  /** A child run: the run and step waiting for it, and its nesting depth (0 for a top-level run). */
  parentRunId?: string | null;
  parentStepId?: string | null;
  depth?: number;
}

/** A JSON column value as a `::jsonb` parameter (the JSON Prisma stores for `json(value)`). */
const jsonb = (value: unknown) => JSON.stringify(value ?? null) ?? "null";
/** Prisma stores DateTime as UTC in `timestamp(3)` columns; PostgreSQL ignores the ISO string's "Z" there. */
const timestamp = (date: Date) => Prisma.sql`${date.toISOString()}::timestamp(3)`;

async function announce(deps: RunLifecycleDeps, stored: RunEvent[]): Promise<void> {
  await announceRunEvents(deps.redis, deps.redisPrefix, stored).catch((error: unknown) =>
    deps.logger?.warn("run events not announced; subscribers replay them from the store", { runId: stored[0]?.runId, types: stored.map((e) => e.type), error: String(error) }),
  );
}

/**
 * Creates a `queued` run and its `run.queued` event in one statement. `alsoInTransaction` adds writes that
 * commit with it (a re-run's copied ledger rows). A duplicate id throws (isDuplicateKey): nothing is written.
 */
export async function createRun(
  deps: RunLifecycleDeps,
  run: NewRun,
  options: { alsoInTransaction?: (tx: Tx) => Promise<void> } = {},
): Promise<{ createdAt: Date; event: RunEvent }> {
  const createdAt = new Date();
  const event: Omit<RunEvent, "seq"> = { type: "run.queued", runId: run.id, workflowId: run.workflowId, stepId: null, status: "queued", at: createdAt.toISOString() };
  const override = run.stepInputOverride === undefined || run.stepInputOverride === null ? null : jsonb(run.stepInputOverride);
  const insert = async (db: Db | Tx) =>
    (
      await storeRunEventWith(db, event, {
        write: Prisma.sql`INSERT INTO "Run" ("id", "workflowId", "workspaceId", "definition", "trigger", "triggerStepId", "input", "retryOfRunId", "fromStepId", "stepInputOverride", "versionId", "parentRunId", "parentStepId", "depth", "createdAt")
          VALUES (${run.id}, ${run.workflowId}, ${run.workspaceId}, ${jsonb(run.definition)}::jsonb, ${run.trigger}, ${run.triggerStepId ?? null}, ${jsonb(run.input)}::jsonb,
                  ${run.retryOfRunId ?? null}, ${run.fromStepId ?? null}, ${override}::jsonb,
                  ${run.versionId ?? null}, ${run.parentRunId ?? null}, ${run.parentStepId ?? null}, ${run.depth ?? 0}::int, ${timestamp(createdAt)})
          RETURNING "id"`,
      })
    ).stored;
  const stored = options.alsoInTransaction
    ? await transaction(deps.db, async (tx) => {
        const created = await insert(tx);
        await options.alsoInTransaction!(tx);
        return created;
      })
    : await insert(deps.db);
  await announce(deps, [stored!]);
  return { createdAt, event: stored! };
}

/** A run as the engine loads it (R2, R3). */
export interface RunToExecute {
  id: string;
  workflowId: string;
  workspaceId: string;
  status: RunStatus;
  definition: unknown;
  input: unknown;
  /** R4: what started it (manual, webhook, cron, call, test, retry) and the trigger step it starts at, if recorded. */
  trigger: string;
  triggerStepId: string | null;
  fromStepId: string | null;
  stepInputOverride: unknown;
}

/**
 * R36: the run could not start because its workflow already has `settings.maxConcurrentRuns` runs `running`
 * (or an older run of it is still queued: they start in creation order). The worker delays its job briefly; a
 * finishing run of the workflow promotes the next one (nextQueuedRuns).
 */
export class RunThrottled extends Error {
  constructor(
    readonly runId: string,
    readonly workflowId: string,
    readonly limit: number,
  ) {
    super(`Run ${runId} waits for a free slot of workflow ${workflowId} (maxConcurrentRuns ${limit})`);
    this.name = "RunThrottled";
  }
}

type LoadedRow = RunToExecute & { startedSeq: string | number | null; maxConcurrentRuns: string | null };

/** The run.started event row of a start CTE `s`, then the run read back: one statement (R2). */
const startStatement = (runId: string, at: Date, admit: Prisma.Sql) => Prisma.sql`WITH s AS (
      UPDATE "Run" SET "status" = 'running'::"RunStatus", "startedAt" = ${at.toISOString()}::timestamp(3)
      WHERE "id" = ${runId} AND "status" = 'queued'::"RunStatus" ${admit}
      RETURNING "id", "workflowId"
    ), e AS (
      INSERT INTO "RunEvent" ("runId", "payload")
      SELECT s."id", jsonb_build_object('type', 'run.started', 'runId', s."id", 'workflowId', s."workflowId", 'stepId', NULL, 'status', 'running', 'at', ${at.toISOString()}::text)
      FROM s RETURNING "id"
    )
    SELECT r."id", r."workflowId", r."workspaceId", r."status", r."definition", r."input", r."trigger", r."triggerStepId", r."fromStepId", r."stepInputOverride",
           r."definition"->'settings'->>'maxConcurrentRuns' AS "maxConcurrentRuns", (SELECT e."id" FROM e) AS "startedSeq"
    FROM "Run" r WHERE r."id" = ${runId}`;

/**
 * R2: loads the run and, when it is `queued`, moves it to `running` with its `run.started` — the state change
 * and its event one data-modifying CTE, read back in the same statement (one round trip). `started` is the
 * stored run.started (then `run.status` is `running`), null when the run was not queued. Null when no such run.
 * R36: a run whose captured definition sets `settings.maxConcurrentRuns` is not started by that statement; it
 * starts under its workflow's advisory lock when a slot is free and no older run of the workflow is queued,
 * else RunThrottled is thrown (nothing written).
 */
export async function loadAndStartRun(deps: RunLifecycleDeps, runId: string): Promise<{ run: RunToExecute; started: RunEvent | null } | null> {
  const at = new Date();
  const unlimited = Prisma.sql`AND NOT (COALESCE("definition"->'settings', '{}'::jsonb) ? 'maxConcurrentRuns')`;
  const rows = await query<LoadedRow>(deps.db, startStatement(runId, at, unlimited), "algo_run_load_and_start");
  let row = rows[0];
  if (!row) return null;
  if (row.status === "queued" && row.maxConcurrentRuns !== null && (row.startedSeq === null || row.startedSeq === undefined)) {
    const limit = Math.max(1, Number(row.maxConcurrentRuns) || 1);
    // One start at a time per workflow (the lock), so two workers cannot both take the last slot. The count
    // and the FIFO check are read after the lock is held (a new statement, a new snapshot).
    const admit = Prisma.sql`AND (SELECT count(*) FROM "Run" o WHERE o."workflowId" = "Run"."workflowId" AND o."status" = 'running'::"RunStatus") < ${limit}
      AND NOT EXISTS (SELECT 1 FROM "Run" o WHERE o."workflowId" = "Run"."workflowId" AND o."status" = 'queued'::"RunStatus"
                      AND (o."createdAt", o."id") < ("Run"."createdAt", "Run"."id"))`;
    const workflowId = row.workflowId;
    row = await transaction(deps.db, async (tx) => {
      await tx.$queryRaw`SELECT count(*) AS "n" FROM (SELECT pg_advisory_xact_lock(hashtextextended(${`run-slots:${workflowId}`}, 0))) l`;
      return (await tx.$queryRaw<LoadedRow[]>(startStatement(runId, at, admit)))[0];
    });
    if (!row) return null;
    if (row.status === "queued" && (row.startedSeq === null || row.startedSeq === undefined)) throw new RunThrottled(runId, workflowId, limit);
  }
  const { startedSeq, maxConcurrentRuns: _limit, ...run } = row;
  if (startedSeq === null || startedSeq === undefined) return { run, started: null };
  const started: RunEvent = { type: "run.started", runId, workflowId: run.workflowId, stepId: null, status: "running", at: at.toISOString(), seq: Number(startedSeq) };
  await announce(deps, [started]);
  return { run: { ...run, status: "running" }, started };
}

/**
 * R36: the oldest queued runs of a workflow, at most as many as its free slots (`limit` minus the runs
 * `running`): a finishing run promotes their delayed jobs so they start now rather than at their next retry.
 */
export async function nextQueuedRuns(db: Db, workflowId: string, limit: number): Promise<string[]> {
  const rows = await query<{ id: string }>(
    db,
    Prisma.sql`SELECT "id" FROM "Run" WHERE "workflowId" = ${workflowId} AND "status" = 'queued'::"RunStatus"
      ORDER BY "createdAt", "id"
      LIMIT GREATEST(0, ${limit}::int - (SELECT count(*) FROM "Run" WHERE "workflowId" = ${workflowId} AND "status" = 'running'::"RunStatus")::int)`,
  );
  return rows.map((row) => row.id);
}

/** R2: `queued` → `running` and its `run.started`, in one statement. False when the run was not queued. */
export async function startRun(deps: RunLifecycleDeps, run: { runId: string; workflowId: string }): Promise<boolean> {
  const now = new Date();
  const event: Omit<RunEvent, "seq"> = { type: "run.started", runId: run.runId, workflowId: run.workflowId, stepId: null, status: "running", at: now.toISOString() };
  const { stored } = await storeRunEventWith(deps.db, event, {
    write: Prisma.sql`UPDATE "Run" SET "status" = 'running'::"RunStatus", "startedAt" = ${timestamp(now)}
      WHERE "id" = ${run.runId} AND "status" = 'queued'::"RunStatus"
      RETURNING "id"`,
  });
  if (!stored) return false;
  await announce(deps, [stored]);
  return true;
}

export interface RunEnd {
  runId: string;
  workflowId: string;
  status: "succeeded" | "failed" | "canceled";
  output?: unknown;
  error?: string | null;
}

/**
 * A final state and its `run.finished` in one statement, only from one of the `from` states; null when it was
 * in none. `carried` writes commit in the same statement (and are stored even when the state did not change).
 */
async function endRun(deps: RunLifecycleDeps, end: RunEnd, from: RunStatus[], finishedAt = new Date(), carried?: CarriedWrites): Promise<RunEvent | null> {
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
  const result = await storeRunEventWith(
    deps.db,
    event,
    {
      write: Prisma.sql`UPDATE "Run" SET "status" = ${end.status}::"RunStatus", ${output} "error" = ${end.error ?? null}, "finishedAt" = ${timestamp(finishedAt)}
        WHERE "id" = ${end.runId} AND "status" IN (${states})
        RETURNING "id"`,
    },
    carried,
  );
  await announce(deps, [...result.carried, ...(result.stored ? [result.stored] : [])]);
  return result.stored;
}

/**
 * R16: the engine ends a `running` run (succeeded or failed) with its output or error. False when it was not
 * running. `carried`: the ledger rows of in-process steps not yet stored (R5), committed with it.
 */
export async function finishRun(deps: RunLifecycleDeps, end: RunEnd & { status: "succeeded" | "failed" }, carried?: CarriedWrites): Promise<boolean> {
  return (await endRun(deps, end, ["running"], new Date(), carried)) !== null;
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
  await announce(deps, [stored]);
  return stored;
}

/**
 * R32: a cancel propagates to child runs — every `queued` or `running` descendant of `parentRunId` that a
 * step waits for (workflow.call children, their children, …) is canceled (stopRun: its state and run.finished, one
 * statement), then announced on the cancel channel so the workers executing them stop. Returns their ids.
 */
export async function stopChildRuns(deps: RunLifecycleDeps, parentRunId: string, error: string): Promise<string[]> {
  const stopped: string[] = [];
  let parents = [parentRunId];
  while (parents.length) {
    const children = await deps.db.run.findMany({
      // Runs that a step waits for (parentStepId); an error workflow's run (R35) is linked without one and goes on.
      where: { parentRunId: { in: parents }, parentStepId: { not: null }, status: { in: ["queued", "running"] } },
      select: { id: true, workflowId: true },
    });
    parents = children.map((child) => child.id);
    for (const child of children) {
      if (await stopRun(deps, { runId: child.id, workflowId: child.workflowId, reason: "canceled", error })) stopped.push(child.id);
    }
  }
  for (const id of stopped) await deps.redis.publish(cancelRunChannel(deps.redisPrefix), id);
  return stopped;
}

/**
 * R31, R34, R36: a run whose job waits in BullMQ's delayed set (a waiting step, a throttled start) is
 * promoted so it is delivered now; a run with no job is enqueued. An active or waiting job is left alone (its
 * delivery reads the database). Best effort: the reconciler wakes whatever this misses.
 */
export async function wakeRun(queue: Queue<RunJob>, runId: string): Promise<"promoted" | "enqueued" | "busy"> {
  const job = await queue.getJob(runId);
  if (!job) {
    await enqueueRun(queue, runId);
    return "enqueued";
  }
  if (await job.isDelayed()) {
    try {
      await job.promote();
      return "promoted";
    } catch {
      return "busy"; // promoted or taken meanwhile
    }
  }
  if ((await job.isCompleted()) || (await job.isFailed())) {
    // A job that ended (e.g. a delivery that found nothing to do) while its run still waits: run it again.
    await job.retry(((await job.isCompleted()) ? "completed" : "failed") as never).catch(() => {});
    return "enqueued";
  }
  return "busy";
}
