import type { RunEvent } from "@algorythmos/domain";
import type { Redis } from "ioredis";
import { json, type Db } from "./db.js";

/** Redis pub/sub channels of run events; subscribers (GraphQL subscriptions) listen on any server. */
export const runEventChannel = (redisPrefix: string, runId: string) => `${redisPrefix}run-events:${runId}`;
/** Run ids canceled by the API; workers abort that run's in-flight step. */
export const cancelRunChannel = (redisPrefix: string) => `${redisPrefix}run-cancel`;
export const workflowRunsChannel = (redisPrefix: string, workflowId: string) => `${redisPrefix}workflow-runs:${workflowId}`;

/** Stores the event (for replay by late subscribers), then publishes it to the run's and the workflow's channels. */
export async function publishRunEvent(db: Db, redis: Redis, redisPrefix: string, event: Omit<RunEvent, "seq">): Promise<RunEvent> {
  const row = await db.runEvent.create({ data: { runId: event.runId, payload: json(event) }, select: { id: true } });
  const stored: RunEvent = { ...event, seq: Number(row.id) };
  const message = JSON.stringify(stored);
  await redis
    .multi()
    .publish(runEventChannel(redisPrefix, event.runId), message)
    .publish(workflowRunsChannel(redisPrefix, event.workflowId), message)
    .exec();
  return stored;
}

export async function storedRunEvents(db: Db, runId: string): Promise<RunEvent[]> {
  const rows = await db.runEvent.findMany({ where: { runId }, orderBy: { id: "asc" }, select: { id: true, payload: true } });
  return rows.map((row) => ({ ...(row.payload as unknown as RunEvent), seq: Number(row.id) }));
}
