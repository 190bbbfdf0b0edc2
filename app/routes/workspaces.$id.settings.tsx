import { CREDENTIAL_TYPE_NAMES, CreateCredentialInput, credentialTypes, ROLES, type CredentialType } from "@algorythmos/domain";
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ApiTokensSection } from "~/components/settings/ApiTokensSection";
import { CredentialsSection } from "~/components/settings/CredentialsSection";
import { MembersSection } from "~/components/settings/MembersSection";
import type { SettingsOutcome } from "~/components/settings/Outcome";
import { TopBar } from "~/components/TopBar";
import { toApiError } from "~/lib/errors";
import { execute, requireData } from "~/lib/graphql.server";
import {
  CREATE_API_TOKEN,
  CREATE_CREDENTIAL,
  CREDENTIALS,
  DELETE_CREDENTIAL,
  INVITE_MEMBER,
  INVITES,
  REMOVE_MEMBER,
  REVOKE_API_TOKEN,
  REVOKE_INVITE,
  SET_MEMBER_ROLE,
  SETTINGS,
  type RoleName,
} from "~/lib/operations";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.workspace.name ?? "Workspace"} settings · Algorythmos Studio` }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const workspaceId = params.id ?? "";
  // Just this workspace (a NOT_FOUND for one the caller is not a member of becomes a 404).
  const [{ me, workspace, apiTokens }, credentials] = await Promise.all([
    requireData(context, request, SETTINGS, { workspaceId }),
    execute(context, request, CREDENTIALS, { workspaceId }),
  ]);
  // Invites are the owners' business (FORBIDDEN for anyone else).
  const invites = workspace.role === "owner" ? await execute(context, request, INVITES, { workspaceId }) : null;
  return {
    me: { id: me.id, name: me.name },
    workspace,
    invites: invites?.ok ? invites.data.workspace.invites : [],
    credentials: credentials.ok ? credentials.data.credentials : [],
    credentialsError: credentials.ok ? null : credentials.error.message,
    apiTokens,
  };
}

const invalid = (fields: Record<string, string>, message = "Check the highlighted fields"): SettingsOutcome => ({
  ok: false,
  error: { ...toApiError(null), code: "BAD_USER_INPUT", message, fields },
});

export async function action({ context, request, params }: ActionFunctionArgs): Promise<SettingsOutcome> {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? "").trim();
  const workspaceId = params.id ?? "";
  switch (form.get("intent")) {
    case "invite": {
      const email = text("email");
      const role = text("role") as RoleName;
      if (!email) return invalid({ email: "Enter the person's email" });
      if (!(ROLES as readonly string[]).includes(role)) return invalid({ role: "Choose a role" });
      const result = await execute(context, request, INVITE_MEMBER, { input: { workspaceId, email, role } });
      if (!result.ok) return result;
      const { user, inviteToken } = result.data.inviteMember;
      if (user) return { ok: true, data: { message: `${user.name} is now ${role}` } };
      // The link on the address this page was opened at (the API's own inviteUrl uses PUBLIC_URL).
      const inviteUrl = new URL(`/invite/${encodeURIComponent(inviteToken ?? "")}`, request.url).toString();
      return { ok: true, data: { message: `No account uses ${email} yet: send them this invite link to join as ${role}.`, inviteUrl } };
    }
    case "setRole": {
      const role = text("role") as RoleName;
      if (!(ROLES as readonly string[]).includes(role)) return invalid({ role: "Choose a role" });
      const result = await execute(context, request, SET_MEMBER_ROLE, { input: { workspaceId, userId: text("userId"), role } });
      return result.ok ? { ok: true, data: { message: `${result.data.setMemberRole.user.name} is now ${role}` } } : result;
    }
    case "removeMember": {
      const userId = text("userId");
      const result = await execute(context, request, REMOVE_MEMBER, { input: { workspaceId, userId } });
      if (!result.ok) return result;
      // Leaving: this page is no longer yours to see.
      const { me } = await requireData(context, request, SETTINGS, { workspaceId }).catch(() => ({ me: null }));
      if (!me) throw redirect("/workflows");
      return { ok: true, data: { message: `Removed ${result.data.removeMember.user.name}` } };
    }
    case "revokeInvite": {
      const result = await execute(context, request, REVOKE_INVITE, { input: { inviteId: text("inviteId") } });
      return result.ok ? { ok: true, data: { message: `Revoked the invite of ${result.data.revokeInvite.email}` } } : result;
    }
    case "createCredential": {
      const type = text("type") as CredentialType;
      const secret: Record<string, string> = {};
      if (CREDENTIAL_TYPE_NAMES.includes(type)) {
        for (const { key } of credentialTypes[type].fields) {
          const value = String(form.get(`secret.${key}`) ?? "");
          if (value.trim()) secret[key] = value;
        }
      }
      const input = { workspaceId, name: text("name"), type, secret };
      // The domain schema validates here (messages per field) and again in the API.
      const parsed = CreateCredentialInput.safeParse(input);
      if (!parsed.success) {
        const fields: Record<string, string> = {};
        for (const issue of parsed.error.issues) {
          const key = String(issue.path[issue.path.length - 1] ?? "");
          fields[key] ??= issue.message;
        }
        return invalid(fields);
      }
      const result = await execute(context, request, CREATE_CREDENTIAL, { input });
      return result.ok ? { ok: true, data: { message: `Saved credential “${result.data.createCredential.name}”` } } : result;
    }
    case "deleteCredential": {
      const result = await execute(context, request, DELETE_CREDENTIAL, { id: text("id") });
      return result.ok ? { ok: true, data: { message: "Credential deleted" } } : result;
    }
    case "createToken": {
      const name = text("name");
      if (!name) return invalid({ name: "Name the token (e.g. CI)" });
      const result = await execute(context, request, CREATE_API_TOKEN, { input: { name } });
      return result.ok ? { ok: true, data: { message: `Created token “${name}”`, token: result.data.createApiToken.token } } : result;
    }
    case "revokeToken": {
      const result = await execute(context, request, REVOKE_API_TOKEN, { id: text("id") });
      return result.ok ? { ok: true, data: { message: "Token revoked" } } : result;
    }
    default:
      throw new Response("Unknown action", { status: 400 });
  }
}

export default function WorkspaceSettings() {
  const { me, workspace, invites, credentials, credentialsError, apiTokens } = useLoaderData<typeof loader>();
  return (
    <>
      <TopBar name={me.name} />
      <main className="page">
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to={`/workflows?workspace=${workspace.id}`}>Workflows</Link> / Settings
        </nav>
        <h1>{workspace.name} settings</h1>
        <p className="muted">
          Your role here: <strong>{workspace.role}</strong>
          {workspace.role === "owner" ? <> · <Link to={`/workspaces/${workspace.id}/ops`}>Operations</Link></> : null}
        </p>
        <div className="settings-grid">
          <MembersSection me={me} workspace={workspace} invites={invites} />
          <CredentialsSection role={workspace.role} credentials={credentials} credentialsError={credentialsError} />
          <ApiTokensSection apiTokens={apiTokens} />
        </div>
      </main>
    </>
  );
}
