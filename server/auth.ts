import { CSRF_HEADER } from "@algorythmos/domain";
import { authenticate, readCookie, redisSessionRevocations, SESSION_COOKIE, type SessionRevocations } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "./context.js";
import { AppError } from "./errors.js";

/**
 * How callers prove who they are:
 * - API consumers: `Authorization: Bearer <JWT or personal API token>`.
 * - The studio: the httpOnly session cookie. Cookie-authenticated writes must carry the CSRF header, which a
 *   cross-site page cannot send without a CORS preflight we never grant; cookie-authenticated WebSockets
 *   must come from our own origin.
 */
export { CSRF_HEADER };

export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** Ended sessions, from Redis: one EXISTS per JWT-authenticated request, so a logout reaches every process at once. */
export const sessionRevocations = (deps: ServerDeps): SessionRevocations => redisSessionRevocations(deps.redis, deps.env.REDIS_PREFIX);

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Resolves the caller of an HTTP request. A bad bearer token is an error, not an anonymous call. */
export async function callerFromRequest(deps: ServerDeps, request: Request, ip: string | null): Promise<Caller> {
  const bearer = bearerToken(request.headers.get("authorization"));
  if (bearer) {
    const principal = await authenticate(deps.db, deps.env.JWT_SECRET, bearer, sessionRevocations(deps));
    if (!principal) throw new AppError("UNAUTHENTICATED", "The bearer token is invalid, expired or revoked");
    return { principal, ip };
  }
  const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (!cookie) return { principal: null, ip };
  if (!SAFE_METHODS.has(request.method) && !request.headers.get(CSRF_HEADER)) {
    throw new AppError("FORBIDDEN", `Cookie-authenticated requests must send the ${CSRF_HEADER} header`);
  }
  return { principal: await authenticate(deps.db, deps.env.JWT_SECRET, cookie, sessionRevocations(deps)), ip };
}
