import { newId, RefreshSessionInput } from "@algorythmos/domain";
import { hashApiToken, revokeSessions, signAccessToken, transaction } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError } from "../errors.js";
import { requireUser } from "./access.js";
import { limitAuthAttempts } from "../limits.js";

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
const REFRESH_TOKEN_PREFIX = "alg_rt_";

export interface UserView {
  id: string;
  email: string;
  name: string;
}

export interface AuthPayload {
  /** A short-lived access token (JWT) for `Authorization: Bearer`. */
  token: string;
  /** Exchanged once for the next pair through refreshSession. */
  refreshToken: string;
  user: UserView;
}

async function newRefreshToken(deps: ServerDeps, userId: string, familyId: string, tx = deps.db as Pick<ServerDeps["db"], "refreshToken">) {
  const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  await tx.refreshToken.create({
    data: { id: newId("rft"), userId, familyId, tokenHash: hashApiToken(token), expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS) },
  });
  return token;
}

/**
 * A new session: an access token and the first refresh token of a new family. The family id is the session id
 * every access token of the session carries, so ending the family ends them too.
 */
export async function issueSession(deps: ServerDeps, user: UserView): Promise<AuthPayload> {
  const sessionId = newId("rft");
  return {
    token: await signAccessToken(deps.env.JWT_SECRET, { userId: user.id, sessionId }),
    refreshToken: await newRefreshToken(deps, user.id, sessionId),
    user,
  };
}

/** Ends sessions everywhere: their access tokens first (Redis, checked by every request), then their refresh tokens. */
async function endSessions(deps: ServerDeps, tx: Pick<ServerDeps["db"], "refreshToken">, familyIds: string[]): Promise<void> {
  await revokeSessions(deps.redis, deps.env.REDIS_PREFIX, familyIds);
  await tx.refreshToken.updateMany({ where: { familyId: { in: familyIds }, revokedAt: null }, data: { revokedAt: new Date() } });
}

/**
 * Rotation with reuse detection: a refresh token works once. Presenting one that was already used means a
 * copy exists elsewhere, so the whole family is revoked and both holders must sign in again.
 */
export async function refreshSession(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<AuthPayload> {
  await limitAuthAttempts(deps, caller);
  const parsed = RefreshSessionInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const invalid = () => new AppError("UNAUTHENTICATED", "The refresh token is invalid, expired or revoked; sign in again");
  const outcome = await transaction(deps.db, async (tx) => {
    const row = await tx.refreshToken.findUnique({
      where: { tokenHash: hashApiToken(parsed.data.refreshToken) },
      select: { id: true, familyId: true, usedAt: true, revokedAt: true, expiresAt: true, user: { select: { id: true, email: true, name: true } } },
    });
    if (!row || row.revokedAt || row.expiresAt < new Date()) return null;
    if (row.usedAt) {
      await endSessions(deps, tx, [row.familyId]);
      return "reused" as const;
    }
    // Conditional update: of two concurrent refreshes with one token, only one wins.
    const claimed = await tx.refreshToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count !== 1) return null;
    return { user: row.user, sessionId: row.familyId, refreshToken: await newRefreshToken(deps, row.user.id, row.familyId, tx) };
  });
  if (outcome === "reused") {
    deps.logger.warn("refresh token reused; family revoked", {});
    throw invalid();
  }
  if (!outcome) throw invalid();
  const token = await signAccessToken(deps.env.JWT_SECRET, { userId: outcome.user.id, sessionId: outcome.sessionId });
  return { token, refreshToken: outcome.refreshToken, user: outcome.user };
}

/** Ends the session the refresh token belongs to (its whole family), access tokens included. */
export async function logOut(deps: ServerDeps, rawInput: unknown): Promise<boolean> {
  const parsed = RefreshSessionInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const row = await deps.db.refreshToken.findUnique({ where: { tokenHash: hashApiToken(parsed.data.refreshToken) }, select: { familyId: true } });
  if (!row) return false;
  await endSessions(deps, deps.db, [row.familyId]);
  return true;
}

/**
 * Ends the session the caller's own access token belongs to, refresh tokens included: the studio's log out,
 * which holds only the access token (in its cookie). An API token has no session: revoke it with revokeApiToken.
 */
export async function endCurrentSession(deps: ServerDeps, caller: Caller): Promise<boolean> {
  requireUser(caller);
  const sessionId = caller.principal?.sessionId;
  if (!sessionId) throw badInput("Only a session's access token can end its session; API tokens are revoked with revokeApiToken");
  await endSessions(deps, deps.db, [sessionId]);
  return true;
}
