import { credentialTypes, type CredentialSecret, type CredentialType } from "@algorythmos/domain";
import { decryptSecret } from "@algorythmos/platform";
import { StepError } from "../errors.js";
import type { EngineDeps } from "./types.js";

/** A credential of the run's workspace, decrypted and checked against its type's schema (never logged). */
export async function loadCredential<C extends CredentialType>(deps: Pick<EngineDeps, "db" | "env">, workspaceId: string, id: string, type: C): Promise<CredentialSecret<C>> {
  const row = await deps.db.credential.findFirst({ where: { id, workspaceId }, select: { name: true, type: true, secret: true } });
  if (!row) throw new StepError(`Credential "${id}" does not exist in this workspace`);
  if (row.type !== type) throw new StepError(`Credential "${row.name}" is a ${row.type} credential, not ${type}`);
  let secret: unknown;
  try {
    secret = decryptSecret(deps.env.CREDENTIALS_KEY, row.secret);
  } catch {
    throw new StepError(`Credential "${row.name}" cannot be decrypted (was CREDENTIALS_KEY changed?)`);
  }
  const parsed = credentialTypes[type].secretSchema.safeParse(secret);
  if (!parsed.success) throw new StepError(`Credential "${row.name}" is not a valid ${type} credential`);
  return parsed.data as CredentialSecret<C>;
}
