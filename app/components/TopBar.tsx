import { Form, Link } from "@remix-run/react";
import type { ReactNode } from "react";
import { NotificationsMenu } from "~/components/NotificationsMenu";
import { ThemeMenu } from "~/components/ui/ThemeMenu";

/** The page header of every signed-in page except the editor: brand, where you are, settings, notifications, theme, log out. */
export function TopBar({ name, workspaceId, children }: { name?: string; workspaceId?: string | null; children?: ReactNode }) {
  return (
    <header className="topbar">
      <Link to="/workflows" className="brand">
        Algorythmos Studio
      </Link>
      {children}
      {workspaceId ? <Link to={`/workspaces/${workspaceId}/settings`}>Workspace settings</Link> : null}
      {name ? (
        <span className="muted topbar-user" title={`Signed in as ${name}`}>
          Signed in as {name}
        </span>
      ) : null}
      {name ? <NotificationsMenu /> : null}
      <ThemeMenu />
      <Form method="post" action="/logout">
        <button type="submit">Log out</button>
      </Form>
    </header>
  );
}
