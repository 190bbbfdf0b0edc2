import type { RunEvent } from "@algorythmos/domain";
import type { Redis } from "ioredis";
import { json, Prisma, type Db } from "./db.js";

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
  db: Db,
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
