import { ROLES } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useId } from "react";
import { Field } from "~/components/Field";
import type { MemberInfo, Workspace } from "~/lib/operations";
import { failureOf, fieldError, OutcomeMessage, useResetOnSuccess, type SettingsOutcome } from "./Outcome";

interface MembersSectionProps {
  me: { id: string };
  workspace: Workspace & { members: MemberInfo[] };
}

/** The workspace's members; owners can invite and remove them. */
export function MembersSection({ me, workspace }: MembersSectionProps) {
  const invite = useFetcher<SettingsOutcome>();
  const remove = useFetcher<SettingsOutcome>();
  const form = useResetOnSuccess(invite);
  const roleId = useId();
  const isOwner = workspace.role === "owner";
  const error = failureOf(invite.data);
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
            <tr key={member.user.id}>
              <td>
                {member.user.name}
                {member.user.id === me.id ? <span className="muted"> (you)</span> : null}
              </td>
              <td>{member.user.email}</td>
              <td>
                <span className="badge">{member.role}</span>
              </td>
              {isOwner ? (
                <td>
                  {member.user.id === me.id ? null : (
                    <remove.Form method="post" className="inline">
                      <input type="hidden" name="intent" value="removeMember" />
                      <input type="hidden" name="userId" value={member.user.id} />
                      <button type="submit" className="danger small-button" aria-label={`Remove ${member.user.name}`} disabled={remove.state !== "idle"}>
                        Remove
                      </button>
                    </remove.Form>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <OutcomeMessage outcome={remove.data} />
      {isOwner ? (
        <invite.Form method="post" ref={form} className="stack" style={{ marginTop: "1rem" }}>
          <h3>Invite someone</h3>
          <p className="muted small">They need an account already; inviting an existing member changes their role.</p>
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
          <OutcomeMessage outcome={invite.data} />
        </invite.Form>
      ) : (
        <p className="muted small">Only owners can invite and remove members.</p>
      )}
    </section>
  );
}
