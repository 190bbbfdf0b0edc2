import type { Role } from "@algorythmos/domain";
import { preparedQuery, type Db } from "./db.js";
import { subscribeInvalidations } from "./invalidation-channel.js";
import type { Redis } from "./redis.js";

/**
 * The caller's role in the workspace that owns a workflow, or null (outsiders learn nothing). Asked on every
 * workflow operation, so it is one indexed join, as a prepared statement (db.ts). Always read fresh: request
 * paths use `cachedRoleForWorkflow`, re-checks after an access change use this.
 */
export async function roleForWorkflow(db: Db, userId: string, workflowId: string): Promise<Role | null> {
  const rows = await preparedQuery<{ role: Role }>(
    db,
    "algo_role_for_workflow",
    `SELECT m.role::text AS role FROM "Workflow" w JOIN "Membership" m ON m."workspaceId" = w."workspaceId" AND m."userId" = $1 WHERE w.id = $2`,
    [userId, workflowId],
  );
  return rows[0]?.role ?? null;
}

export async function roleForWorkspace(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const rows = await preparedQuery<{ role: Role }>(
    db,
    "algo_role_for_workspace",
    `SELECT role::text AS role FROM "Membership" WHERE "userId" = $1 AND "workspaceId" = $2`,
    [userId, workspaceId],
  );
  return rows[0]?.role ?? null;
}

// ---------- the role cache (request paths) ----------

/**
 * Roles this process read, kept until the member's access changes (the access-changes channel below) or for
 * ROLE_CACHE_TTL_MS at most. Safe because:
 * - only granted roles are kept: an outsider is asked again every time, so gaining access is seen at once;
 * - every change of an existing member is published (server/services/workspaces.ts `changeMembership`), and
 *   `publishAccessChange` also drops this process's entries before it publishes, so the process that made
 *   the change never answers from the old role; other processes drop them when the message arrives (one
 *   pub/sub delivery, well under a millisecond on loopback — the same bound open subscriptions have);
 * - a read that was in flight while a change arrived is not kept (generation check), so an old role read
 *   before the change cannot be stored after it;
 * - it is used only while its own subscriber connection is subscribed: a lost connection (messages could be
 *   missed) empties it, and it fills again only once Redis confirmed the subscription again.
 */
const ROLE_CACHE_TTL_MS = 60_000;
const ROLE_CACHE_MAX_ENTRIES = 20_000;

class RoleCache {
  private readonly entries = new Map<string, { userId: string; role: Role; until: number }>();
  private generation = 0;
  live = false;

  async get(key: string, userId: string, read: () => Promise<Role | null>): Promise<Role | null> {
    const hit = this.entries.get(key);
    if (hit && this.live && hit.until > Date.now()) return hit.role;
    const generation = this.generation;
    const role = await read();
    if (role && this.live && generation === this.generation) {
      this.entries.delete(key);
      this.entries.set(key, { userId, role, until: Date.now() + ROLE_CACHE_TTL_MS });
      if (this.entries.size > ROLE_CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    return role;
  }

  /** Any change of this user may concern any of their cached roles: drop them all. */
  forgetUser(userId: string): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (entry.userId === userId) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

const roleCaches = new WeakMap<Db, RoleCache>();
/** Every running cache of this process, so a change published here is dropped here before anyone can ask. */
const runningRoleCaches = new Set<RoleCache>();

/**
 * Starts caching the roles read through `db` with `cachedRoleForWorkflow` / `cachedRoleForWorkspace` (the
 * server does this once per process). Opens a subscriber connection of its own (a duplicate of `redis`).
 */
export function startRoleCache(db: Db, redis: Redis, redisPrefix: string): { close(): Promise<void> } {
  const cache = new RoleCache();
  const subscription = subscribeInvalidations(redis, accessChangesChannel(redisPrefix), "role-cache", {
    onLive() {
      cache.clear();
      cache.live = true;
    },
    onLost() {
      cache.live = false; // every read asks PostgreSQL until subscribed again
      cache.clear();
    },
    onMessage(message) {
      const change = parseAccessChange(message);
      // A message it cannot read may still be a change: forget everything rather than guess.
      if (change) cache.forgetUser(change.userId);
      else cache.clear();
    },
  });
  roleCaches.set(db, cache);
  runningRoleCaches.add(cache);
  return {
    async close() {
      runningRoleCaches.delete(cache);
      if (roleCaches.get(db) === cache) roleCaches.delete(db);
      await subscription.close();
    },
  };
}

/** `roleForWorkflow` through the process's role cache (when one was started for `db`). */
export function cachedRoleForWorkflow(db: Db, userId: string, workflowId: string): Promise<Role | null> {
  const cache = roleCaches.get(db);
  if (!cache) return roleForWorkflow(db, userId, workflowId);
  return cache.get(`${userId}\u0000wf\u0000${workflowId}`, userId, () => roleForWorkflow(db, userId, workflowId));
}

/** `roleForWorkspace` through the process's role cache (when one was started for `db`). */
export function cachedRoleForWorkspace(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const cache = roleCaches.get(db);
  if (!cache) return roleForWorkspace(db, userId, workspaceId);
  return cache.get(`${userId}\u0000ws\u0000${workspaceId}`, userId, () => roleForWorkspace(db, userId, workspaceId));
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
  for (const cache of runningRoleCaches) cache.forgetUser(change.userId);
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
