import { CreateApiTokenInput, newId } from "@algorythmos/domain";
import { hashApiToken, newApiToken } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { forbidden, fromZodError, notFound } from "../errors.js";
import { requireUser } from "./access.js";

export interface ApiTokenView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const API_TOKEN_SELECT = { id: true, name: true, createdAt: true, lastUsedAt: true, revokedAt: true } as const;

/** Personal API tokens: shown once at creation, stored only as a hash, revocable. */
export async function createApiToken(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<{ token: string; apiToken: ApiTokenView }> {
  const userId = requireUser(caller);
  // A leaked token must not be able to mint more tokens that outlive its revocation.
  if (caller.principal?.via === "api-token") throw forbidden("API tokens cannot create API tokens; sign in instead");
  const parsed = CreateApiTokenInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const token = newApiToken();
  const apiToken = await deps.db.apiToken.create({
    data: { id: newId("tok"), userId, name: parsed.data.name, tokenHash: hashApiToken(token) },
    select: API_TOKEN_SELECT,
  });
  return { token, apiToken };
}

export async function listApiTokens(deps: ServerDeps, caller: Caller): Promise<ApiTokenView[]> {
  return deps.db.apiToken.findMany({ where: { userId: requireUser(caller) }, orderBy: { createdAt: "desc" }, select: API_TOKEN_SELECT });
}

export async function revokeApiToken(deps: ServerDeps, caller: Caller, id: string): Promise<ApiTokenView> {
  const userId = requireUser(caller);
  const existing = await deps.db.apiToken.findFirst({ where: { id, userId }, select: { id: true } });
  if (!existing) throw notFound("API token");
  return deps.db.apiToken.update({ where: { id }, data: { revokedAt: new Date() }, select: API_TOKEN_SELECT });
}
