import { authenticate, hitRateLimit, readCookie, SESSION_COOKIE } from "@algorythmos/platform";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { bearerToken, sessionRevocations } from "./auth.js";
import type { Caller, ServerDeps } from "./context.js";
import { AppError } from "./errors.js";

const WINDOW_SECONDS = 60;

/**
 * The client's address, for per-address limits. Behind a trusted proxy (TRUST_PROXY, which replaces a client's own
 * X-Forwarded-For) every socket is the proxy's, so the address is the last X-Forwarded-For entry — the one the
 * proxy itself saw; otherwise the socket's. Without this, all users behind the proxy shared one budget.
 */
export function clientIp(c: Context, env: { TRUST_PROXY: boolean }): string | null {
  if (env.TRUST_PROXY) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // in-process requests (app.request) have no socket
  }
}

const digest = (value: string) => createHash("sha256").update(value).digest("base64url").slice(0, 22);

/**
 * Credentials this process has seen authenticate, by digest, for a minute: they decide only which budget a
 * request spends (every request is still authenticated by its handler). Bounded, oldest first out.
 */
class RecentlyValidCredentials {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 60_000,
  ) {}
  has(id: string): boolean {
    const until = this.seen.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.seen.delete(id);
    return false;
  }
  add(id: string): void {
    this.seen.delete(id);
    this.seen.set(id, Date.now() + this.ttlMs);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }
  delete(id: string): void {
    this.seen.delete(id);
  }
}

/**
 * Requests per minute per valid credential (bearer token or session), or per IP for everyone else, counted in
 * Redis so the limit holds across server instances. Over the limit: 429 with Retry-After.
 * A credential gets a budget of its own only once it has authenticated: a made-up one (a random cookie, a
 * forged JWT) spends its address's budget like an anonymous call (issue #12 item 13). A credential not seen
 * before costs one check (a JWT signature, or an API token's hash index) — the same one its handler makes.
 * Create one per process and mount it on every limited route.
 */
export function rateLimit(deps: ServerDeps): MiddlewareHandler {
  const key = (subject: string) => `${deps.env.REDIS_PREFIX}rate:${subject}`;
  const limit = deps.env.RATE_LIMIT_PER_MINUTE;
  const valid = new RecentlyValidCredentials();
  return async (c, next) => {
    const credential = bearerToken(c.req.header("authorization")) ?? readCookie(c.req.header("cookie"), SESSION_COOKIE);
    const id = credential ? digest(credential) : null;
    let known = id !== null && valid.has(id);
    if (id !== null && !known && (await authenticate(deps.db, deps.env.JWT_SECRET, credential, sessionRevocations(deps)))) {
      valid.add(id);
      known = true;
    }
    const result = await hitRateLimit(deps.redis, key(known ? `cred:${id}` : `ip:${clientIp(c, deps.env) ?? "local"}`), limit, WINDOW_SECONDS);
    if (!result.allowed) {
      const message = `Too many requests: at most ${limit} per minute; retry in ${result.retryAfter} s`;
      c.header("Retry-After", String(result.retryAfter));
      if (c.req.path === "/graphql") {
        return c.json({ errors: [{ message, extensions: { code: "RATE_LIMITED", retryAfter: result.retryAfter } }] }, 429);
      }
      return c.json({ error: { code: "RATE_LIMITED", message, details: { retryAfter: result.retryAfter } } }, 429);
    }
    await next();
    if (id !== null && c.res.status === 401) valid.delete(id); // revoked since: back to the address's budget
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

/**
 * Refuses a body over `maxBytes` with 413 (worded by `reply`) before anything reads it. The answer carries
 * `Connection: close`: the rest of the refused body is never read, so the connection cannot carry another
 * request, and a pooling client (undici, Node's fetch) must open a new one instead of failing on this one.
 */
export function refuseLargeBodies(maxBytes: number, reply: (c: Context, message: string) => Response): MiddlewareHandler {
  const refuse = (c: Context) => {
    c.header("Connection", "close");
    return reply(c, `The body is larger than ${maxBytes} bytes`);
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: refuse });
  return async (c, next) => {
    // A Content-Length says it all (Node's parser never reads past it), and reading it from the header spares
    // what `bodyLimit`'s first look at `c.req.raw.body` costs: @hono/node-server then builds a full web Request
    // (a stream over the socket, an AbortController) for every request — a tenth of a GraphQL request's CPU.
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      return parseInt(length, 10) > maxBytes ? refuse(c) : next();
    }
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    return streamed(c, next); // chunked: counted as it streams
  };
}
