import { ROLES } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useState } from "react";
import { Field } from "~/components/Field";
import { formatTime } from "~/lib/live";
import type { InviteInfo, MemberInfo, RoleName, Workspace } from "~/lib/operations";
import { failureOf, fieldError, OutcomeMessage, useResetOnSuccess, type SettingsOutcome } from "./Outcome";

interface MembersSectionProps {
  me: { id: string };
  workspace: Workspace & { members: MemberInfo[] };
  /** Pending invites (owners only; empty for others). */
  invites: InviteInfo[];
}

/** The workspace's members and invites; owners invite (by email, or with a link for people without an account), change roles and remove. */
export function MembersSection({ me, workspace, invites }: MembersSectionProps) {
  const invite = useFetcher<SettingsOutcome>();
  const remove = useFetcher<SettingsOutcome>();
  const revoke = useFetcher<SettingsOutcome>();
  const form = useResetOnSuccess(invite);
  const roleId = useId();
  const isOwner = workspace.role === "owner";
  const error = failureOf(invite.data);
  const link = invite.data?.ok ? invite.data.data.inviteUrl : undefined;
  return (
    <section className="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <table className="table" aria-label="Members">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            {isOwner ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {workspace.members.map((member) => (
            <tr key={member.user.id} data-testid={`member-${member.user.email}`}>
              <td>
                {member.user.name}
                {member.user.id === me.id ? <span className="muted"> (you)</span> : null}
              </td>
              <td>{member.user.email}</td>
              <td>{isOwner ? <RoleSelect workspaceId={workspace.id} member={member} isMe={member.user.id === me.id} /> : <span className="badge">{member.role}</span>}</td>
              {isOwner ? (
                <td>
                  <remove.Form
                    method="post"
                    className="inline"
                    onSubmit={(event) => {
                      const question = member.user.id === me.id ? `Leave ${workspace.name}? You lose access at once.` : `Remove ${member.user.name} from ${workspace.name}? They lose access at once.`;
                      if (!window.confirm(question)) event.preventDefault();
                    }}
                  >
                    <input type="hidden" name="intent" value="removeMember" />
                    <input type="hidden" name="userId" value={member.user.id} />
                    <button type="submit" className="danger small-button" aria-label={member.user.id === me.id ? "Leave the workspace" : `Remove ${member.user.name}`} disabled={remove.state !== "idle"}>
                      {member.user.id === me.id ? "Leave" : "Remove"}
                    </button>
                  </remove.Form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <OutcomeMessage outcome={remove.data} />
      {isOwner ? (
        <>
          {invites.length ? (
            <>
              <h3>Pending invites</h3>
              <table className="table" aria-label="Pending invites">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Expires</th>
                    <th scope="col"><span className="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {invites.map((pending) => (
                    <tr key={pending.id} data-testid={`invite-${pending.email}`}>
                      <td>{pending.email}</td>
                      <td>
                        <span className="badge">{pending.role}</span>
                      </td>
                      <td>
                        {pending.status === "EXPIRED" ? (
                          <span className="badge status-failed">expired</span>
                        ) : (
                          <span className="muted small">{formatTime(pending.expiresAt)}</span>
                        )}
                      </td>
                      <td>
                        <invite.Form method="post" className="inline">
                          <input type="hidden" name="intent" value="invite" />
                          <input type="hidden" name="email" value={pending.email} />
                          <input type="hidden" name="role" value={pending.role} />
                          <button type="submit" className="small-button" aria-label={`New link for ${pending.email}`} disabled={invite.state !== "idle"}>
                            New link
                          </button>
                        </invite.Form>{" "}
                        <revoke.Form method="post" className="inline">
                          <input type="hidden" name="intent" value="revokeInvite" />
                          <input type="hidden" name="inviteId" value={pending.id} />
                          <button type="submit" className="danger small-button" aria-label={`Revoke the invite of ${pending.email}`} disabled={revoke.state !== "idle"}>
                            Revoke
                          </button>
                        </revoke.Form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <OutcomeMessage outcome={revoke.data} />
            </>
          ) : null}
          <invite.Form method="post" ref={form} className="stack" style={{ marginTop: "1rem" }}>
            <h3>Invite someone</h3>
            <p className="muted small">
              Someone with an account joins at once. Anyone else gets an invite link to send them: it works once, for that email, for 7 days.
            </p>
            <input type="hidden" name="intent" value="invite" />
            <div className="form-row">
              <Field label="Email" name="email" type="email" required error={fieldError(error, "email")} />
              <div className="field">
                <label htmlFor={roleId}>Role</label>
                <select id={roleId} name="role" defaultValue="editor">
                  {ROLES.map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit" className="primary" disabled={invite.state !== "idle"}>
                Invite
              </button>
            </div>
            {/* A link replaces the plain notice: what to do with it is the message. */}
            {link && invite.data?.ok ? <InviteLink url={link} message={invite.data.data.message} /> : <OutcomeMessage outcome={invite.data} shownFields={["email"]} />}
          </invite.Form>
        </>
      ) : (
        <p className="muted small">Only owners can invite members and change or remove them.</p>
      )}
    </section>
  );
}

/** A member's role, changed as soon as another one is chosen; shows the server's answer beside it. */
function RoleSelect({ workspaceId, member, isMe }: { workspaceId: string; member: MemberInfo; isMe: boolean }) {
  const fetcher = useFetcher<SettingsOutcome>();
  const pending = fetcher.formData?.get("role");
  const failed = fetcher.state === "idle" && fetcher.data && !fetcher.data.ok ? fetcher.data.error.message : null;
  const saved = fetcher.state === "idle" && fetcher.data?.ok;
  const label = isMe ? "Your role" : `Role of ${member.user.name}`;
  return (
    <span className="inline">
      <select
        aria-label={label}
        value={typeof pending === "string" ? pending : member.role}
        disabled={fetcher.state !== "idle"}
        onChange={(event) =>
          fetcher.submit({ intent: "setRole", workspaceId, userId: member.user.id, role: event.target.value as RoleName }, { method: "post" })
        }
      >
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      {failed ? (
        <span className="form-error" role="alert">
          {" "}
          {failed}
        </span>
      ) : saved ? (
        <span className="muted small" role="status">
          {" "}
          Saved
        </span>
      ) : null}
    </span>
  );
}

/** The invite link, shown once, to copy and send. */
function InviteLink({ url, message }: { url: string; message: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => setCopied(false), [url]);
  return (
    <div className="token-once" role="status" data-testid="invite-link">
      <strong>{message}</strong>
      <span className="muted small"> It is shown only now; it works once, for that email, for 7 days.</span>
      <code data-testid="invite-link-value">{url}</code>
      <button type="button" onClick={() => void navigator.clipboard?.writeText(url).then(() => setCopied(true), () => setCopied(false))}>
        {copied ? "Copied" : "Copy link"}
      </button>
    </div>
  );
}
