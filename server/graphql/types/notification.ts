/** The viewer's notifications (#17, @mentions in canvas comments): notifications, markNotificationsRead, notificationAdded. */
import { notificationsChannel, parseNotificationsAdded, parseSessionEnds, sessionEndsChannel } from "@algorythmos/platform";
import { builder, type GraphQLContext } from "../builder.js";
import { pageArgs, toConnection } from "../connection.js";
import { AppError } from "../../errors.js";
import { requireUser } from "../../services/access.js";
import { listNotifications, markNotificationsRead, MARK_READ_MAX_IDS, notificationsByIds, type NotificationView } from "../../services/notifications.js";
import { asFieldStream } from "./run.js";

const NotificationKindEnum = builder.enumType("NotificationKind", {
  description: "What a notification is about.",
  values: { mention: { description: "Someone @mentioned you in a comment or reply on a workflow's canvas." } },
});

export const NotificationRef = builder.objectRef<NotificationView>("Notification").implement({
  description: "Something you are told about: today, a comment or reply that @mentions you.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The notification's id (`ntf_…`)." }),
    kind: t.field({ type: NotificationKindEnum, description: "What it is about.", resolve: (n) => n.kind as "mention" }),
    workspaceId: t.exposeID("workspaceId", { description: "The workspace of the workflow." }),
    workflowId: t.exposeID("workflowId", { description: "The workflow the comment is on." }),
    workflowName: t.exposeString("workflowName", { description: "The workflow's name now." }),
    commentId: t.exposeID("commentId", { description: "The comment or reply that mentions you (its id in the workflow document)." }),
    threadId: t.exposeID("threadId", { description: "The thread it belongs to (the first comment's id): open it with `studioPath`." }),
    actorId: t.exposeID("actorId", { nullable: true, description: "Who mentioned you (the account that stored the comment)." }),
    actorName: t.exposeString("actorName", { description: "Their name when they mentioned you." }),
    excerpt: t.exposeString("excerpt", { description: "The start of the text, as it was stored (at most 160 characters)." }),
    studioPath: t.string({
      description: "Where the studio opens the thread: `/workflows/<workflowId>?comment=<threadId>`.",
      resolve: (n) => `/workflows/${encodeURIComponent(n.workflowId)}?comment=${encodeURIComponent(n.threadId)}`,
    }),
    createdAt: t.field({ type: "DateTime", description: "When the mention was stored.", resolve: (n) => n.createdAt }),
    readAt: t.field({ type: "DateTime", nullable: true, description: "When you marked it read; null while unread.", resolve: (n) => n.readAt }),
  }),
});

builder.queryField("notifications", (t) =>
  t.connection(
    {
      type: NotificationRef,
      description: "The viewer's notifications, newest first, a page at a time (only those of workspaces the viewer still belongs to).",
      args: { unreadOnly: t.arg.boolean({ description: "Only the unread ones." }) },
      resolve: async (_root, args, ctx) => {
        const page = await listNotifications(ctx.deps, ctx.caller, { ...pageArgs(args), unreadOnly: args.unreadOnly });
        return { ...toConnection(page, args), unreadCount: page.unreadCount };
      },
    },
    {
      description: "A page of the viewer's notifications, with the unread count.",
      fields: (c) => ({
        unreadCount: c.int({
          description: "How many of the viewer's notifications are unread (all of them, not only this page).",
          resolve: (connection) => (connection as unknown as { unreadCount: number }).unreadCount,
        }),
      }),
    },
    { description: "A notification in a page." },
  ),
);

const MarkNotificationsReadInput = builder.inputType("MarkNotificationsReadInput", {
  description: "Which of your notifications to mark read: `ids`, or `all: true`.",
  fields: (t) => ({
    ids: t.idList({ description: `Your notifications' ids (at most ${MARK_READ_MAX_IDS}); ids that are not yours are ignored.` }),
    all: t.boolean({ description: "Every unread notification of yours." }),
  }),
});

const MarkNotificationsReadPayloadRef = builder
  .objectRef<{ marked: number; unreadCount: number; notifications: NotificationView[] }>("MarkNotificationsReadPayload")
  .implement({
    description: "What markNotificationsRead changed.",
    fields: (t) => ({
      marked: t.exposeInt("marked", { description: "How many were unread and are read now." }),
      unreadCount: t.exposeInt("unreadCount", { description: "How many of yours are still unread." }),
      notifications: t.field({ type: [NotificationRef], description: "The notifications named by `ids`, as they are now (empty for `all`).", resolve: (p) => p.notifications }),
    }),
  });

builder.mutationField("markNotificationsRead", (t) =>
  t.field({
    type: MarkNotificationsReadPayloadRef,
    description: "Marks your notifications read (idempotent: a read one keeps its readAt). BAD_USER_INPUT without ids or all.",
    args: { input: t.arg({ type: MarkNotificationsReadInput, required: true, description: "The ids, or all." }) },
    resolve: (_root, { input }, ctx) => markNotificationsRead(ctx.deps, ctx.caller, input),
  }),
);

/**
 * The viewer's new notifications as the collab processes announce them (ids on Redis; each read back scoped
 * to the viewer). Ends with UNAUTHENTICATED when the session of the viewer's token ends.
 */
async function* notificationStream(ctx: GraphQLContext, userId: string): AsyncGenerator<NotificationView> {
  const prefix = ctx.deps.env.REDIS_PREFIX;
  let ended = null as AppError | null;
  const live = await ctx.hub.iterate(notificationsChannel(prefix, userId));
  const sessionId = ctx.caller.principal?.sessionId;
  const stopWatchingSession = sessionId
    ? await ctx.hub.listen(sessionEndsChannel(prefix), (message) => {
        if (!parseSessionEnds(message).includes(sessionId)) return;
        ended = new AppError("UNAUTHENTICATED", "Your session ended; sign in again");
        void live.close();
      })
    : async () => {};
  try {
    for await (const message of live) {
      for (const notification of await notificationsByIds(ctx.deps, ctx.caller, parseNotificationsAdded(message))) yield notification;
    }
    if (ended) throw ended;
  } finally {
    await stopWatchingSession();
    await live.close();
  }
}

builder.subscriptionField("notificationAdded", (t) =>
  t.field({
    type: NotificationRef,
    description: "Each new notification of the viewer, live (for example someone @mentions you in a comment).",
    subscribe: (_root, _args, ctx, info) => asFieldStream(notificationStream(ctx, requireUser(ctx.caller)), info),
    resolve: (notification) => notification,
  }),
);
