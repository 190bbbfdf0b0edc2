import type { Role } from "@algorythmos/domain";
import type { Db } from "./db.js";
import type { Redis } from "./redis.js";

/**
 * The caller's role in the workspace that owns a workflow, or null (outsiders learn nothing). Asked on every
 * workflow operation, so it is one indexed join rather than a nested read.
 */
export async function roleForWorkflow(db: Db, userId: string, workflowId: string): Promise<Role | null> {
  const rows = await db.$queryRaw<{ role: Role }[]>`
    SELECT m.role::text AS role
    FROM "Workflow" w JOIN "Membership" m ON m."workspaceId" = w."workspaceId" AND m."userId" = ${userId}
    WHERE w.id = ${workflowId}`;
  return rows[0]?.role ?? null;
}

export async function roleForWorkspace(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const membership = await db.membership.findUnique({
    where: { userId_workspaceId: { userId, workspaceId } },
    select: { role: true },
  });
  return membership?.role ?? null;
}

// ---------- membership changes, for open connections ----------

/**
 * A member's role in a workspace changed or ended. Published by the server after the change is stored (the
 * only writer is server/services/workspaces.ts), on one channel per deployment: `${REDIS_PREFIX}access-changes`.
 * The message names who and where, never the new role: a listener re-reads the role, so a late or repeated
 * message can never grant anything.
 */
export interface AccessChange {
  workspaceId: string;
  userId: string;
}

export const accessChangesChannel = (redisPrefix: string) => `${redisPrefix}access-changes`;

export async function publishAccessChange(redis: Redis, redisPrefix: string, change: AccessChange): Promise<void> {
  await redis.publish(accessChangesChannel(redisPrefix), JSON.stringify({ workspaceId: change.workspaceId, userId: change.userId }));
}

/** Reads a message of the access-changes channel; null for anything else. */
export function parseAccessChange(message: string | Buffer): AccessChange | null {
  try {
    const value = JSON.parse(message.toString()) as Partial<AccessChange>;
    return typeof value.workspaceId === "string" && typeof value.userId === "string" ? { workspaceId: value.workspaceId, userId: value.userId } : null;
  } catch {
    return null;
  }
}

/**
 * Calls `handler` for every access change, on a connection in subscriber mode (give it one of its own, or one
 * whose other channels you tell apart). Resolves once Redis confirmed the subscription, so a caller that then
 * checks a role cannot miss a change made after the check. Returns the unsubscribe, which ends the channel's
 * subscription on that connection: subscribe once per process and fan out from the handler.
 */
export async function subscribeAccessChanges(
  subscriber: Redis,
  redisPrefix: string,
  handler: (change: AccessChange) => void,
): Promise<() => Promise<void>> {
  const channel = accessChangesChannel(redisPrefix);
  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    const change = parseAccessChange(message);
    if (change) handler(change);
  };
  subscriber.on("message", onMessage);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off("message", onMessage);
    await subscriber.unsubscribe(channel).catch(() => {});
  };
}
