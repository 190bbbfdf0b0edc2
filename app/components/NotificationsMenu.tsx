/**
 * The top bar's bell (#17): the viewer's unread notifications, live. "Ada mentioned you in Order sync: …";
 * choosing one marks it read and opens the workflow with the comment's thread open (`?comment=<threadId>`,
 * honoured by the editor's comments). Everything goes over the page's graphql-ws connection (the session
 * cookie authenticates it): the list and count once hydrated, `notificationAdded` live, and the mark-read.
 */
import { useNavigate } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { timeAgo } from "~/components/editor/PublishDialog";
import { Menu, MenuItem, MenuLabel, MenuSeparator } from "~/components/ui/Menu";
import { subscribe } from "~/lib/graphql.browser";
import { useNow } from "~/lib/live";
import { MARK_NOTIFICATIONS_READ, NOTIFICATION_ADDED, NOTIFICATIONS, type NotificationInfo, type Operation } from "~/lib/operations";

/** How many of the newest notifications the menu lists. */
const SHOWN = 20;

/** A query or mutation over the shared graphql-ws connection: its one result. */
function request<Data, Variables extends Record<string, unknown>>(operation: Operation<Data, Variables>, variables: Variables): Promise<Data> {
  return new Promise((resolve, reject) => {
    let settled = false;
    subscribe(operation, variables, {
      next: (data) => {
        settled = true;
        resolve(data);
      },
      error: (message) => reject(new Error(message)),
      complete: () => {
        if (!settled) reject(new Error("No answer"));
      },
    });
  });
}

function BellIcon() {
  return (
    <svg width={16} height={16} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}

export function NotificationsMenu() {
  const [items, setItems] = useState<NotificationInfo[]>([]);
  const [unread, setUnread] = useState(0);
  const [failed, setFailed] = useState<string | null>(null);
  const navigate = useNavigate();
  const now = useNow(true, 30_000);
  const mounted = useRef(true);

  const load = useCallback(() => {
    request(NOTIFICATIONS, { first: SHOWN }).then(
      (data) => {
        if (!mounted.current) return;
        setItems(data.notifications.edges.map((edge) => edge.node));
        setUnread(data.notifications.unreadCount);
        setFailed(null);
      },
      (error: Error) => mounted.current && setFailed(error.message),
    );
  }, []);

  useEffect(() => {
    mounted.current = true;
    // Live first, then the list: a notification stored in between is in one or the other (kept once, by id).
    const stop = subscribe(NOTIFICATION_ADDED, {}, {
      next: ({ notificationAdded }) => {
        setItems((list) => (list.some((n) => n.id === notificationAdded.id) ? list : [notificationAdded, ...list].slice(0, SHOWN)));
        setUnread((count) => count + (notificationAdded.readAt ? 0 : 1));
      },
      error: (message) => setFailed(message),
    });
    load();
    return () => {
      mounted.current = false;
      stop();
    };
  }, [load]);

  const markRead = (ids: string[] | null) => {
    const read = new Date().toISOString();
    setItems((list) => list.map((n) => (ids === null || ids.includes(n.id) ? { ...n, readAt: n.readAt ?? read } : n)));
    if (ids === null) setUnread(0);
    else setUnread((count) => Math.max(0, count - items.filter((n) => ids.includes(n.id) && !n.readAt).length));
    request(MARK_NOTIFICATIONS_READ, { input: ids === null ? { all: true } : { ids } }).then(
      (data) => mounted.current && setUnread(data.markNotificationsRead.unreadCount),
      (error: Error) => mounted.current && setFailed(error.message),
    );
  };

  const label = unread ? `Notifications, ${unread} unread` : "Notifications";
  return (
    <span className="notifications" style={{ position: "relative", display: "inline-flex" }} onPointerDown={load}>
      <Menu
        label="Notifications"
        tooltip={label}
        trigger={
          <button type="button" className="ghost icon-button" aria-label={label} data-testid="notifications-bell">
            <BellIcon />
          </button>
        }
      >
        <MenuLabel>Notifications</MenuLabel>
        {failed ? (
          <p className="muted small" role="alert" style={{ margin: "0.25rem 0.6rem", maxWidth: "22rem" }}>
            Could not load notifications: {failed}
          </p>
        ) : null}
        {items.length ? (
          items.map((n) => (
            <MenuItem
              key={n.id}
              onSelect={() => {
                if (!n.readAt) markRead([n.id]);
                navigate(n.studioPath);
              }}
            >
              <span data-testid="notification" data-unread={n.readAt ? undefined : "true"} style={{ display: "block", maxWidth: "22rem", whiteSpace: "normal" }}>
                <span style={{ fontWeight: n.readAt ? 400 : 600 }}>
                  {n.readAt ? null : (
                    <>
                      <span aria-hidden="true" style={{ color: "var(--accent)" }}>● </span>
                      <span className="visually-hidden">Unread: </span>
                    </>
                  )}
                  {n.actorName} mentioned you in {n.workflowName}{n.excerpt ? ":" : ""}
                </span>
                {n.excerpt ? <span className="muted small" style={{ display: "block" }}>“{n.excerpt}”</span> : null}
                <span className="muted small">{timeAgo(n.createdAt, now)}</span>
              </span>
            </MenuItem>
          ))
        ) : (
          <p className="muted small" style={{ margin: "0.25rem 0.6rem", maxWidth: "22rem" }}>
            Nothing yet. When someone @mentions you in a comment, it shows here.
          </p>
        )}
        {unread ? (
          <>
            <MenuSeparator />
            <MenuItem onSelect={() => markRead(null)}>Mark all as read</MenuItem>
          </>
        ) : null}
      </Menu>
      {unread ? (
        <span
          className="badge"
          data-testid="notifications-count"
          aria-hidden="true"
          style={{ position: "absolute", top: -4, right: -6, pointerEvents: "none", background: "var(--accent)", color: "var(--on-accent, #fff)", fontSize: "0.7rem", padding: "0 0.35rem" }}
        >
          {unread > 99 ? "99+" : unread}
        </span>
      ) : null}
    </span>
  );
}
