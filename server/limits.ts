import { hitRateLimit, peekRateLimit } from "@algorythmos/platform";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bearerToken } from "./auth.js";
import type { Caller, ServerDeps } from "./context.js";
import { AppError } from "./errors.js";
import { readCookie, SESSION_COOKIE } from "@algorythmos/platform";

const WINDOW_SECONDS = 60;

/** The client's address as the socket sees it (proxies in front should rate-limit on their own). */
export function clientIp(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // in-process requests (app.request) have no socket
  }
}

const digest = (value: string) => createHash("sha256").update(value).digest("base64url").slice(0, 22);

/**
 * Requests per minute per credential (bearer token or session), or per IP for anonymous callers, counted in
 * Redis so the limit holds across server instances. Over the limit: 429 with Retry-After.
 */
export function rateLimit(deps: ServerDeps): MiddlewareHandler {
  const key = (subject: string) => `${deps.env.REDIS_PREFIX}rate:${subject}`;
  const limit = deps.env.RATE_LIMIT_PER_MINUTE;
  return async (c, next) => {
    const credential = bearerToken(c.req.header("authorization")) ?? readCookie(c.req.header("cookie"), SESSION_COOKIE);
    const ip = `ip:${clientIp(c) ?? "local"}`;
    // A credential has its own budget; anonymous calls share their address's. Calls with credentials that
    // turn out invalid also spend their address's budget, so guessing tokens from one address is limited.
    let result = await hitRateLimit(deps.redis, key(credential ? `cred:${digest(credential)}` : ip), limit, WINDOW_SECONDS);
    if (result.allowed && credential) result = await peekRateLimit(deps.redis, key(`bad:${ip}`), limit, WINDOW_SECONDS);
    if (!result.allowed) {
      const message = `Too many requests: at most ${limit} per minute; retry in ${result.retryAfter} s`;
      c.header("Retry-After", String(result.retryAfter));
      if (c.req.path === "/graphql") {
        return c.json({ errors: [{ message, extensions: { code: "RATE_LIMITED", retryAfter: result.retryAfter } }] }, 429);
      }
      return c.json({ error: { code: "RATE_LIMITED", message, details: { retryAfter: result.retryAfter } } }, 429);
    }
    await next();
    if (credential && c.res.status === 401) await hitRateLimit(deps.redis, key(`bad:${ip}`), limit, WINDOW_SECONDS);
  };
}

/** Sign-up and log-in attempts per IP, against password guessing; shared by GraphQL and REST. */
export async function limitAuthAttempts(deps: ServerDeps, caller: Caller): Promise<void> {
  if (!caller.ip) return;
  const result = await hitRateLimit(deps.redis, `${deps.env.REDIS_PREFIX}rate:auth:${caller.ip}`, deps.env.AUTH_RATE_LIMIT_PER_MINUTE, WINDOW_SECONDS);
  if (!result.allowed) {
    throw new AppError("RATE_LIMITED", `Too many sign-in attempts; retry in ${result.retryAfter} s`, { retryAfter: result.retryAfter });
  }
}
