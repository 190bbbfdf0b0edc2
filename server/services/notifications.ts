/**
 * The signed-in user's notifications (#17): list, count unread, mark read. Rows are written by the collab
 * process that stores a mentioning comment (collab/mentions.ts; docs/decisions/0011-mention-notifications.md).
 * Only the caller's own rows, and only those of workspaces they are still a member of: a removed member no
 * longer sees excerpts of comments in that workspace.
 */
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { badInput, fromZodError } from "../errors.js";
import { requireUser } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page, type PageArgsInput } from "./pagination.js";

export interface NotificationView {
  id: string;
  kind: string;
  workspaceId: string;
  workflowId: string;
  workflowName: string;
  commentId: string;
  threadId: string;
  actorId: string | null;
  actorName: string;
  excerpt: string;
  createdAt: Date;
  readAt: Date | null;
}

const NOTIFICATION_SELECT = {
  id: true,
  kind: true,
  workspaceId: true,
  workflowId: true,
  commentId: true,
  threadId: true,
  actorId: true,
  actorName: true,
  excerpt: true,
  createdAt: true,
  readAt: true,
  workflow: { select: { name: true } },
} as const;

type Row = Omit<NotificationView, "workflowName"> & { workflow: { name: string } };
const toView = ({ workflow, ...row }: Row): NotificationView => ({ ...row, workflowName: workflow.name });

/** The caller's notifications in workspaces they still belong to. */
const visibleTo = (userId: string) => ({ userId, workspace: { memberships: { some: { userId } } } });

/** Most ids one markNotificationsRead takes. */
export const MARK_READ_MAX_IDS = 100;

export async function listNotifications(
  deps: ServerDeps,
  caller: Caller,
  args: PageArgsInput & { unreadOnly?: boolean | null },
): Promise<Page<NotificationView> & { unreadCount: number }> {
  const userId = requireUser(caller);
  const request = pageRequest(args);
  const where = { ...visibleTo(userId), ...(args.unreadOnly ? { readAt: null } : {}) };
  const [rows, unreadCount] = await Promise.all([
    deps.db.notification.findMany({ where: { AND: [where, request.where] }, orderBy: PAGE_ORDER, take: request.take, select: NOTIFICATION_SELECT }),
    unreadNotificationCount(deps, userId),
  ]);
  return { ...toPage(rows.map(toView), request), unreadCount };
}

export const unreadNotificationCount = (deps: ServerDeps, userId: string) => deps.db.notification.count({ where: { ...visibleTo(userId), readAt: null } });

/** The caller's notifications with these ids (others' and unknown ids are left out), in the order given. */
export async function notificationsByIds(deps: ServerDeps, caller: Caller, ids: string[]): Promise<NotificationView[]> {
  const userId = requireUser(caller);
  if (!ids.length) return [];
  const rows = await deps.db.notification.findMany({ where: { ...visibleTo(userId), id: { in: ids } }, select: NOTIFICATION_SELECT });
  const byId = new Map(rows.map((row) => [row.id, toView(row)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

const MarkReadInput = z.object({
  ids: z.array(z.string().max(100)).max(MARK_READ_MAX_IDS, `At most ${MARK_READ_MAX_IDS} ids at once; pass all: true to mark everything read`).nullish(),
  all: z.boolean().nullish(),
});

/**
 * Marks the caller's notifications read: the given ids (ids that are not the caller's are ignored, so nobody
 * learns whether someone else's exists), or every unread one with `all`. Idempotent: a read one keeps its readAt.
 * Answers how many this call marked, the unread count after it, and (for ids) those notifications as they are now.
 */
export async function markNotificationsRead(
  deps: ServerDeps,
  caller: Caller,
  rawInput: unknown,
): Promise<{ marked: number; unreadCount: number; notifications: NotificationView[] }> {
  const userId = requireUser(caller);
  const parsed = MarkReadInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const ids = parsed.data.ids ?? [];
  const all = parsed.data.all === true;
  if (!all && !ids.length) throw badInput("Pass the ids to mark read, or all: true", [{ path: ["input", "ids"], message: "Give at least one id, or all: true" }]);
  if (all && ids.length) throw badInput("Pass either ids or all: true, not both", [{ path: ["input", "all"], message: "Not with ids" }]);
  const { count } = await deps.db.notification.updateMany({
    where: { ...visibleTo(userId), readAt: null, ...(all ? {} : { id: { in: ids } }) },
    data: { readAt: new Date() },
  });
  const [notifications, unreadCount] = await Promise.all([notificationsByIds(deps, caller, ids), unreadNotificationCount(deps, userId)]);
  return { marked: count, unreadCount, notifications };
}
