import { CREDENTIAL_TYPE_NAMES, CreateCredentialInput, credentialTypes, ROLES, type CredentialType } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { useEffect, useId, useRef, useState } from "react";
import { Field } from "~/components/Field";
import { TopBar } from "~/components/TopBar";
import { toApiError, type ApiError, type Result } from "~/lib/errors";
import { execute, requireData } from "~/lib/graphql.server";
import { formatTime } from "~/lib/live";
import {
  CREATE_API_TOKEN,
  CREATE_CREDENTIAL,
  CREDENTIALS,
  DELETE_CREDENTIAL,
  INVITE_MEMBER,
  REMOVE_MEMBER,
  REVOKE_API_TOKEN,
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
  return {
    me: { id: me.id, name: me.name },
    workspace,
    credentials: credentials.ok ? credentials.data.credentials : [],
    credentialsError: credentials.ok ? null : credentials.error.message,
    apiTokens,
  };
}

type Outcome = Result<{ message: string; token?: string }>;
const invalid = (fields: Record<string, string>, message = "Check the highlighted fields"): Outcome => ({
  ok: false,
  error: { ...toApiError(null), code: "BAD_USER_INPUT", message, fields },
});

export async function action({ context, request, params }: ActionFunctionArgs): Promise<Outcome> {
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
      return result.ok ? { ok: true, data: { message: `${result.data.inviteMember.user.name} is now ${role}` } } : result;
    }
    case "removeMember": {
      const result = await execute(context, request, REMOVE_MEMBER, { input: { workspaceId, userId: text("userId") } });
      return result.ok ? { ok: true, data: { message: `Removed ${result.data.removeMember.user.name}` } } : result;
    }
    case "createCredential": {
      const type = text("type") as CredentialType;
      const secret: Record<string, string> = {};
      if (CREDENTIAL_TYPE_NAMES.includes(type)) {
        for (const key of Object.keys(credentialTypes[type].secretSchema.shape)) {
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

type Data = ReturnType<typeof useLoaderData<typeof loader>>;

export default function WorkspaceSettings() {
  const data = useLoaderData<typeof loader>();
  const { me, workspace } = data;
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
        </p>
        <div className="settings-grid">
          <Members data={data} />
          <Credentials data={data} />
          <ApiTokens data={data} />
        </div>
      </main>
    </>
  );
}

function Outcome({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null;
  if (outcome.ok)
    return (
      <p className="notice" role="status">
        {outcome.data.message}
      </p>
    );
  if (Object.keys(outcome.error.fields).length) return null;
  return (
    <p className="form-error" role="alert">
      {outcome.error.message}
    </p>
  );
}

/** Clears a form after its fetcher succeeded. */
function useResetOnSuccess(fetcher: { state: string; data?: Outcome | undefined }) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (fetcher.state === "idle" && fetcher.data?.ok) form.current?.reset();
  }, [fetcher.state, fetcher.data]);
  return form;
}

const fieldError = (error: ApiError | null, key: string) => error?.fields[key];

function Members({ data }: { data: Data }) {
  const { workspace, me } = data;
  const invite = useFetcher<Outcome>();
  const remove = useFetcher<Outcome>();
  const form = useResetOnSuccess(invite);
  const roleId = useId();
  const isOwner = workspace.role === "owner";
  const error = invite.data && !invite.data.ok ? invite.data.error : null;
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
      <Outcome outcome={remove.data} />
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
          <Outcome outcome={invite.data} />
        </invite.Form>
      ) : (
        <p className="muted small">Only owners can invite and remove members.</p>
      )}
    </section>
  );
}

const SECRET_FIELDS: Record<CredentialType, { key: string; label: string; secret: boolean; optional?: boolean }[]> = {
  openai: [
    { key: "apiKey", label: "API key", secret: true },
    { key: "baseURL", label: "Base URL (optional, for OpenAI-compatible servers)", secret: false, optional: true },
  ],
  postmark: [{ key: "serverToken", label: "Server token", secret: true }],
  httpHeader: [
    { key: "headerName", label: "Header name", secret: false },
    { key: "headerValue", label: "Header value", secret: true },
  ],
};

function Credentials({ data }: { data: Data }) {
  const { workspace, credentials, credentialsError } = data;
  const create = useFetcher<Outcome>();
  const remove = useFetcher<Outcome>();
  const form = useResetOnSuccess(create);
  const [type, setType] = useState<CredentialType>("openai");
  const typeId = useId();
  const canWrite = workspace.role !== "viewer";
  const error = create.data && !create.data.ok ? create.data.error : null;
  return (
    <section className="card" aria-labelledby="credentials-heading">
      <h2 id="credentials-heading">Credentials</h2>
      <p className="muted small">Secrets are encrypted and never shown again; steps refer to them by name.</p>
      {credentialsError ? (
        <p className="form-error" role="alert">
          {credentialsError}
        </p>
      ) : credentials.length === 0 ? (
        <p className="empty">No credentials yet.</p>
      ) : (
        <table className="table" aria-label="Credentials">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">ID</th>
              <th scope="col">Created</th>
              {canWrite ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody>
            {credentials.map((credential) => (
              <tr key={credential.id}>
                <td>{credential.name}</td>
                <td>{credential.type}</td>
                <td>
                  <code>{credential.id}</code>
                </td>
                <td>{formatTime(credential.createdAt)}</td>
                {canWrite ? (
                  <td>
                    <remove.Form method="post" className="inline">
                      <input type="hidden" name="intent" value="deleteCredential" />
                      <input type="hidden" name="id" value={credential.id} />
                      <button type="submit" className="danger small-button" aria-label={`Delete credential ${credential.name}`} disabled={remove.state !== "idle"}>
                        Delete
                      </button>
                    </remove.Form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Outcome outcome={remove.data} />
      {canWrite ? (
        <create.Form method="post" ref={form} className="stack" style={{ marginTop: "1rem" }} autoComplete="off">
          <h3>Add a credential</h3>
          <input type="hidden" name="intent" value="createCredential" />
          <div className="form-row">
            <Field label="Credential name" name="name" required maxLength={100} error={fieldError(error, "name")} />
            <div className="field">
              <label htmlFor={typeId}>Type</label>
              <select id={typeId} name="type" value={type} onChange={(e) => setType(e.target.value as CredentialType)}>
                {CREDENTIAL_TYPE_NAMES.map((name) => (
                  <option key={name} value={name}>
                    {credentialTypes[name].label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {SECRET_FIELDS[type].map((field) => (
            <Field
              key={`${type}-${field.key}`}
              label={field.label}
              name={`secret.${field.key}`}
              type={field.secret ? "password" : "text"}
              autoComplete="off"
              required={!field.optional}
              error={fieldError(error, field.key)}
            />
          ))}
          <button type="submit" className="primary" disabled={create.state !== "idle"}>
            Save credential
          </button>
          <Outcome outcome={create.data} />
        </create.Form>
      ) : null}
    </section>
  );
}

function ApiTokens({ data }: { data: Data }) {
  const create = useFetcher<Outcome>();
  const revoke = useFetcher<Outcome>();
  const form = useResetOnSuccess(create);
  const [copied, setCopied] = useState(false);
  const error = create.data && !create.data.ok ? create.data.error : null;
  const token = create.data?.ok ? create.data.data.token : undefined;
  useEffect(() => setCopied(false), [token]);
  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Personal API tokens</h2>
      <p className="muted small">Tokens act as you in every workspace you belong to. Send them as <code>Authorization: Bearer …</code>.</p>
      {token ? (
        <div className="token-once" role="status" data-testid="new-token">
          <strong>Copy your new token now: it will not be shown again.</strong>
          <code data-testid="new-token-value">{token}</code>
          <button
            type="button"
            onClick={() => void navigator.clipboard?.writeText(token).then(() => setCopied(true), () => setCopied(false))}
          >
            {copied ? "Copied" : "Copy token"}
          </button>
        </div>
      ) : null}
      {data.apiTokens.length === 0 ? (
        <p className="empty">No tokens yet.</p>
      ) : (
        <table className="table" aria-label="API tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {data.apiTokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{formatTime(t.createdAt)}</td>
                <td>{t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"}</td>
                <td>{t.revokedAt ? <span className="badge status-canceled">revoked</span> : <span className="badge status-succeeded">active</span>}</td>
                <td>
                  {t.revokedAt ? null : (
                    <revoke.Form method="post" className="inline">
                      <input type="hidden" name="intent" value="revokeToken" />
                      <input type="hidden" name="id" value={t.id} />
                      <button type="submit" className="danger small-button" aria-label={`Revoke token ${t.name}`} disabled={revoke.state !== "idle"}>
                        Revoke
                      </button>
                    </revoke.Form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Outcome outcome={revoke.data} />
      <create.Form method="post" ref={form} className="form-row" style={{ marginTop: "1rem" }}>
        <input type="hidden" name="intent" value="createToken" />
        <Field label="Token name" name="name" required maxLength={100} error={fieldError(error, "name")} />
        <button type="submit" className="primary" disabled={create.state !== "idle"}>
          Create token
        </button>
      </create.Form>
      {error && !Object.keys(error.fields).length ? (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      ) : null}
    </section>
  );
}
