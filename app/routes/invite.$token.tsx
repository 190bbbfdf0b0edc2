import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { execute } from "~/lib/graphql.server";
import { acceptInviteAndGo } from "~/lib/invites.server";
import { formatTime } from "~/lib/live";
import { INVITE_PREVIEW, ME } from "~/lib/operations";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data?.invite ? `Join ${data.invite.workspaceName} · Algorythmos Studio` : "Invite · Algorythmos Studio" },
];

/** The page an invite link opens: where it leads, and the way in (sign up, log in, or join as the account signed in). */
export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const token = params.token ?? "";
  const [preview, me] = await Promise.all([execute(context, request, INVITE_PREVIEW, { token }), execute(context, request, ME)]);
  return {
    token,
    invite: preview.ok ? preview.data.invitePreview : null,
    error: preview.ok ? null : preview.error.message,
    me: me.ok ? { name: me.data.me.name, email: me.data.me.email } : null,
    /** Set when accepting right after sign-up or log-in did not work (the reason follows from `invite` and `me`). */
    failed: new URL(request.url).searchParams.has("failed"),
  };
}

/** POST only: opening a link never joins anyone by itself (a preview or a prefetch must not). */
export async function action({ context, request, params }: ActionFunctionArgs) {
  throw redirect(await acceptInviteAndGo(context, request, params.token ?? ""));
}

const STATUS_TEXT = {
  ACCEPTED: "This invite link was already used. Ask the person who invited you for a new one.",
  REVOKED: "This invite was withdrawn, or replaced by a newer link. Ask the person who invited you for a new one.",
  EXPIRED: "This invite link expired. Ask the person who invited you for a new one.",
} as const;

export default function InvitePage() {
  const { token, invite, error, me, failed } = useLoaderData<typeof loader>();
  const busy = useNavigation().state !== "idle";
  const query = invite ? new URLSearchParams({ invite: token, email: invite.email }).toString() : "";
  return (
    <main className="page narrow" data-testid="invite-page">
      {!invite ? (
        <>
          <h1>Invite not found</h1>
          <p className="form-error" role="alert">
            {error}
          </p>
          <p>
            <Link to="/workflows">Go to your workflows</Link>
          </p>
        </>
      ) : (
        <>
          <h1>Join {invite.workspaceName}</h1>
          <p>
            {invite.invitedByName ? <strong>{invite.invitedByName}</strong> : "Someone"} invited <strong>{invite.email}</strong> to join{" "}
            <strong>{invite.workspaceName}</strong> as <span className="badge">{invite.role}</span>.
          </p>
          {invite.status !== "PENDING" ? (
            <p className="form-error" role="alert">
              {STATUS_TEXT[invite.status]}
            </p>
          ) : me && me.email !== invite.email ? (
            <>
              <p className="form-error" role="alert">
                This invite is for {invite.email}, and you are signed in as {me.email}. Log out and use {invite.email}, or ask for an invite to your email.
              </p>
              <Form method="post" action="/logout">
                <button type="submit">Log out</button>
              </Form>
            </>
          ) : me ? (
            <Form method="post" className="stack">
              {failed ? (
                <p className="form-error" role="alert">
                  The invite could not be accepted; try again.
                </p>
              ) : null}
              <p className="muted small">You are signed in as {me.name}. The link works once, until {formatTime(invite.expiresAt)}.</p>
              <button type="submit" className="primary" disabled={busy}>
                Join {invite.workspaceName}
              </button>
            </Form>
          ) : (
            <div className="stack">
              <p className="muted small">The link works once, until {formatTime(invite.expiresAt)}. Sign up or log in with {invite.email} to join.</p>
              <Link className="button-link primary" style={{ alignSelf: "flex-start" }} to={`/signup?${query}`}>
                Create your account
              </Link>
              <p>
                Already have an account? <Link to={`/login?${query}`}>Log in</Link>
              </p>
            </div>
          )}
        </>
      )}
    </main>
  );
}
