import { CreateCredentialInput, newId } from "@algorythmos/domain";
import { encryptSecret, isUniqueViolation } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { requireWorkspaceRole } from "./access.js";

/** What the API shows of a credential: never the secret. */
export interface CredentialView {
  id: string;
  workspaceId: string;
  name: string;
  type: string;
  createdAt: Date;
}

const CREDENTIAL_SELECT = { id: true, workspaceId: true, name: true, type: true, createdAt: true } as const;

export async function createCredential(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<CredentialView> {
  const parsed = CreateCredentialInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "write");
  try {
    return await deps.db.credential.create({
      data: { id: newId("cred"), workspaceId: input.workspaceId, name: input.name, type: input.type, secret: encryptSecret(deps.env.CREDENTIALS_KEY, input.secret) },
      select: CREDENTIAL_SELECT,
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("CONFLICT", `A credential named "${input.name}" already exists in this workspace`, { fields: [{ path: ["input", "name"], message: "Already taken" }] });
    }
    throw error;
  }
}

export async function listCredentials(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<CredentialView[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "read");
  return deps.db.credential.findMany({ where: { workspaceId }, orderBy: { name: "asc" }, select: CREDENTIAL_SELECT });
}

export async function deleteCredential(deps: ServerDeps, caller: Caller, id: string): Promise<CredentialView> {
  const row = await deps.db.credential.findUnique({ where: { id }, select: CREDENTIAL_SELECT });
  if (!row) throw notFound("Credential");
  await requireWorkspaceRole(deps.db, caller, row.workspaceId, "write", "Credential");
  await deps.db.credential.delete({ where: { id } });
  return row;
}
