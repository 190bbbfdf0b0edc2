/**
 * Notifications (#17): the rows people are told about, and the Redis channel a new one is announced on.
 * Written by the collab process that stores the mentioning update (collab/mentions.ts); read and marked
 * read by the server (server/services/notifications.ts). docs/decisions/0011-mention-notifications.md.
 */
import { preparedQuery, type Db } from "./db.js";
import type { Redis } from "./redis.js";

/** Where a user's new notifications are announced (the message: `{ ids }`), for the `notificationAdded` subscription. */
export const notificationsChannel = (redisPrefix: string, userId: string) => `${redisPrefix}notifications:${userId}`;

/** The longest excerpt kept of a mentioning text (the notification shows its start; the thread has the rest). */
export const NOTIFICATION_EXCERPT_LENGTH = 160;

/** One stored comment or reply that mentions `recipients` (user ids, as the entry's `mentions` lists them). */
export interface MentionNotice {
  /** The comment or reply id (L13). */
  commentId: string;
  /** The thread's comment id (equal to commentId for the thread's first entry). */
  threadId: string;
  recipients: string[];
  excerpt: string;
}

export interface MentionActor {
  id: string;
  name: string;
}

/** The start of a text for a notification: whitespace folded, cut at NOTIFICATION_EXCERPT_LENGTH with an ellipsis. */
export function notificationExcerpt(text: string): string {
  const folded = text.replace(/\s+/g, " ").trim();
  return folded.length <= NOTIFICATION_EXCERPT_LENGTH ? folded : `${folded.slice(0, NOTIFICATION_EXCERPT_LENGTH - 1).trimEnd()}…`;
}

/**
 * Stores a "mention" notification for every recipient who is a member of the workspace, other than the actor,
 * in one statement; an entry already notified to a person (a re-sent or relayed update, a second collab
 * process storing the same edit) is skipped by the unique (userId, commentId). Returns the rows it created.
 */
export async function storeMentionNotifications(
  db: Db,
  target: { workspaceId: string; workflowId: string },
  actor: MentionActor,
  notices: MentionNotice[],
): Promise<{ id: string; userId: string }[]> {
  const byKey = new Map<string, { userId: string; commentId: string; threadId: string; excerpt: string }>();
  for (const notice of notices) {
    for (const userId of notice.recipients) {
      byKey.set(`${userId}\u0000${notice.commentId}`, { userId, commentId: notice.commentId, threadId: notice.threadId, excerpt: notificationExcerpt(notice.excerpt) });
    }
  }
  const rows = [...byKey.values()];
  if (!rows.length) return [];
  // Prepared (db.ts) on the pool, which passes the arrays as PostgreSQL arrays.
  return preparedQuery<{ id: string; userId: string }>(
    db,
    "algo_store_mention_notifications",
    `INSERT INTO "Notification" ("userId", "workspaceId", "workflowId", kind, "commentId", "threadId", "actorId", "actorName", excerpt)
     SELECT r."userId", $1::text, $2::text, 'mention', r."commentId", r."threadId", $3::text, $4::text, r.excerpt
     FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS r("userId", "commentId", "threadId", excerpt)
     JOIN "Membership" m ON m."userId" = r."userId" AND m."workspaceId" = $1
     WHERE r."userId" <> $3
     ON CONFLICT ("userId", "commentId") DO NOTHING
     RETURNING id, "userId"`,
    [
      target.workspaceId,
      target.workflowId,
      actor.id,
      actor.name,
      rows.map((row) => row.userId),
      rows.map((row) => row.commentId),
      rows.map((row) => row.threadId),
      rows.map((row) => row.excerpt),
    ],
  );
}

/** Announces new notifications to their users' `notificationAdded` subscriptions (one message per user). */
export async function publishNotificationsAdded(redis: Redis, redisPrefix: string, created: { id: string; userId: string }[]): Promise<void> {
  const byUser = new Map<string, string[]>();
  for (const row of created) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row.id]);
  await Promise.all([...byUser].map(([userId, ids]) => redis.publish(notificationsChannel(redisPrefix, userId), JSON.stringify({ ids }))));
}

/** The ids a `notificationsChannel` message announces; empty for a message it cannot read. */
export function parseNotificationsAdded(message: string): string[] {
  try {
    const parsed = JSON.parse(message) as { ids?: unknown };
    return Array.isArray(parsed.ids) ? parsed.ids.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}
