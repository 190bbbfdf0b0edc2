import { useFetcher } from "@remix-run/react";
import { useEffect, useState } from "react";
import { Field } from "~/components/Field";
import { formatTime } from "~/lib/live";
import type { ApiTokenInfo } from "~/lib/operations";
import { failureOf, fieldError, OutcomeMessage, useResetOnSuccess, type SettingsOutcome } from "./Outcome";

/** The caller's personal API tokens (not the workspace's): create, copy once, revoke. */
export function ApiTokensSection({ apiTokens }: { apiTokens: ApiTokenInfo[] }) {
  const create = useFetcher<SettingsOutcome>();
  const revoke = useFetcher<SettingsOutcome>();
  const form = useResetOnSuccess(create);
  const [copied, setCopied] = useState(false);
  const error = failureOf(create.data);
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
      {apiTokens.length === 0 ? (
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
            {apiTokens.map((apiToken) => (
              <tr key={apiToken.id}>
                <td>{apiToken.name}</td>
                <td>{formatTime(apiToken.createdAt)}</td>
                <td>{apiToken.lastUsedAt ? formatTime(apiToken.lastUsedAt) : "never"}</td>
                <td>
                  {apiToken.revokedAt ? <span className="badge status-canceled">revoked</span> : <span className="badge status-succeeded">active</span>}
                </td>
                <td>
                  {apiToken.revokedAt ? null : (
                    <revoke.Form method="post" className="inline">
                      <input type="hidden" name="intent" value="revokeToken" />
                      <input type="hidden" name="id" value={apiToken.id} />
                      <button type="submit" className="danger small-button" aria-label={`Revoke token ${apiToken.name}`} disabled={revoke.state !== "idle"}>
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
      <OutcomeMessage outcome={revoke.data} />
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
