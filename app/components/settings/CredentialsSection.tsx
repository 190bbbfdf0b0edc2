import { CREDENTIAL_TYPE_NAMES, credentialTypes, type CredentialField, type CredentialType } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useState } from "react";
import { Field } from "~/components/Field";
import { formatTime } from "~/lib/live";
import type { CredentialInfo, RoleName } from "~/lib/operations";
import { failureOf, fieldError, OutcomeMessage, type SettingsOutcome } from "./Outcome";

const DEFAULT_TYPE: CredentialType = "openai";

interface CredentialsSectionProps {
  role: RoleName;
  credentials: CredentialInfo[];
  /** Why the list could not be loaded (the rest of the page still works). */
  credentialsError: string | null;
}

/** The workspace's credentials; everyone but viewers can add and delete them. */
export function CredentialsSection({ role, credentials, credentialsError }: CredentialsSectionProps) {
  const create = useFetcher<SettingsOutcome>();
  const remove = useFetcher<SettingsOutcome>();
  // The form's state is React's alone: the chosen type decides which inputs exist (keyed by type, so a new type
  // starts empty), and a save that succeeded remounts the whole form (`generation`) with the type it was saved
  // as. A DOM form.reset() here once put the select back on OpenAI while React kept Postmark's inputs (#17).
  const [type, setType] = useState<CredentialType>(DEFAULT_TYPE);
  const [generation, setGeneration] = useState(0);
  const typeId = useId();
  const canWrite = role !== "viewer";
  const error = failureOf(create.data);
  const saved = create.state === "idle" && create.data?.ok ? create.data : undefined;
  useEffect(() => {
    if (saved) setGeneration((n) => n + 1);
  }, [saved]);
  const fields: readonly CredentialField[] = credentialTypes[type].fields;
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
      <OutcomeMessage outcome={remove.data} />
      {canWrite ? (
        <create.Form key={generation} method="post" className="stack" style={{ marginTop: "1rem" }} autoComplete="off" data-testid="credential-form">
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
          {fields.map((field) => (
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
          {/* Errors of inputs this form shows sit beside them; anything else (another field, a conflict) shows here. */}
          <OutcomeMessage outcome={create.data} shownFields={["name", ...fields.map((field) => field.key)]} />
        </create.Form>
      ) : null}
    </section>
  );
}
