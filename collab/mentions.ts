/**
 * @mention notifications (#17; docs/decisions/0011-mention-notifications.md). The room tries every update a
 * socket sends on its shadow document first; a MentionWatch on the shadow's comments map (L13) sees, during
 * that one apply, the comments and replies it adds — or the mentions it adds to an existing entry — and keeps
 * those whose author is the socket's authenticated user. Once the update is durable, a MentionNotifier stores
 * a notification per mentioned member (platform storeMentionNotifications) and announces it on Redis.
 * Updates that touch no comment never reach the observer (Yjs calls deep observers only for changed subtrees).
 */
import { COMMENTS_KEY, readTextValue } from "@algorythmos/domain";
import { publishNotificationsAdded, storeMentionNotifications, type Db, type Logger, type MentionActor, type MentionNotice, type Redis } from "@algorythmos/platform";
import * as Y from "yjs";

const userIds = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

/** Finds the mentions one socket's update adds to a document's comments. One watch per document. */
export class MentionWatch {
  private collecting: { authorId: string; found: MentionNotice[] } | null = null;
  private readonly comments: Y.Map<unknown>;

  constructor(doc: Y.Doc) {
    this.comments = doc.getMap<unknown>(COMMENTS_KEY);
    this.comments.observeDeep(this.observe);
  }

  /** Runs `apply` (one update from `authorId`'s socket, applied to the watched document) and returns what it mentions. */
  during<T>(authorId: string, apply: () => T): { result: T; notices: MentionNotice[] } {
    const collecting = { authorId, found: [] as MentionNotice[] };
    this.collecting = collecting;
    try {
      return { result: apply(), notices: collecting.found };
    } finally {
      this.collecting = null;
    }
  }

  private readonly observe = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
    const collecting = this.collecting;
    if (!collecting) return; // a relayed, loaded or rebuilt update: stored (and notified) elsewhere
    try {
      this.collect(collecting, events);
    } catch {
      // Yjs rethrows an observer's error from applyUpdate, which would refuse the edit: a notice is never worth that.
    }
  };

  private collect(collecting: { authorId: string; found: MentionNotice[] }, events: Y.YEvent<Y.AbstractType<unknown>>[]) {
    for (const event of events) {
      const path = event.path;
      if (event.target === this.comments) {
        // New threads (or a thread replaced under its key).
        for (const [commentId, change] of event.changes.keys) {
          const entry = change.action === "delete" ? null : this.comments.get(commentId);
          if (entry instanceof Y.Map) this.consider(collecting, entry, commentId, commentId, []);
        }
      } else if (event.target instanceof Y.Array && path.length === 2 && path[1] === "replies" && typeof path[0] === "string") {
        for (const item of event.changes.added) {
          for (const value of item.content.getContent()) {
            if (value instanceof Y.Map && typeof value.get("id") === "string") this.consider(collecting, value, path[0], value.get("id") as string, []);
          }
        }
      } else if (event.target instanceof Y.Map && typeof path[0] === "string") {
        const entry = event.target as Y.Map<unknown>;
        const threadId = path[0];
        // Mentions added to an existing comment ([commentId]) or reply ([commentId, "replies", index]).
        const mentions = event.changes.keys.get("mentions");
        const commentId = path.length === 1 ? threadId : path.length === 3 && path[1] === "replies" ? entry.get("id") : null;
        if (mentions && typeof commentId === "string") this.consider(collecting, entry, threadId, commentId, mentions.action === "update" ? userIds(mentions.oldValue) : []);
        // A thread given a new replies array (addReply repairs a malformed one): every reply in it is new.
        const replies = path.length === 1 && event.changes.keys.get("replies")?.action !== "delete" ? entry.get("replies") : null;
        if (replies instanceof Y.Array && event.changes.keys.has("replies")) {
          for (const reply of replies.toArray()) {
            if (reply instanceof Y.Map && typeof reply.get("id") === "string") this.consider(collecting, reply, threadId, reply.get("id") as string, []);
          }
        }
      }
    }
  }

  private consider(collecting: { authorId: string; found: MentionNotice[] }, entry: Y.Map<unknown>, threadId: string, commentId: string, before: string[]) {
    // Only the socket's own words notify: an entry claiming another author is a forgery, and tells no one.
    if (entry.get("authorId") !== collecting.authorId) return;
    const recipients = userIds(entry.get("mentions")).filter((id) => id !== collecting.authorId && !before.includes(id));
    if (recipients.length) collecting.found.push({ commentId, threadId, recipients, excerpt: readTextValue(entry.get("text")) ?? "" });
  }
}

export interface MentionNotifierOptions {
  db: Db;
  logger: Logger;
  /** Where new notifications are announced (the `notificationAdded` subscription); without it they are only stored. */
  publisher?: { redis: Redis; redisPrefix: string };
}

/**
 * Stores and announces the notifications of durable updates, off the room's append path (the edit is already
 * stored and broadcast; a notification is one more statement, only for updates that mention someone).
 */
export class MentionNotifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: MentionNotifierOptions) {}

  notify(target: { workspaceId: string; workflowId: string }, actor: MentionActor, notices: MentionNotice[]): void {
    const work = (async () => {
      try {
        const created = await storeMentionNotifications(this.options.db, target, actor, notices);
        const publisher = this.options.publisher;
        if (created.length && publisher) await publishNotificationsAdded(publisher.redis, publisher.redisPrefix, created);
      } catch (error) {
        // The comment itself is stored; only the notice is lost (the mentioned member still sees the thread).
        this.options.logger.error("collab could not store mention notifications", { workflowId: target.workflowId, error });
      }
    })();
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves once every notification started so far is stored (shutdown waits for this). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}
