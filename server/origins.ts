import { isSameOrigin, readCookie, SESSION_COOKIE, type Env } from "@algorythmos/platform";
import type { MiddlewareHandler } from "hono";
import { bearerToken, CSRF_HEADER } from "./auth.js";

/**
 * Which browser origins may act on the studio with the visitor's cookie (issue #12 items 2 and 3): the studio's
 * own origin (the host the request was sent to, as the collab and graphql-ws upgrades check it) and those listed
 * in ALLOWED_ORIGINS. The same list decides CORS (may a page read our answers) and CSRF (may a page make a
 * cookie-authenticated request change anything). SameSite=Lax on the session cookie is a second layer only: a
 * page on another port of the same host is the same site, and gets the cookie.
 */
export function isAllowedOrigin(env: Pick<Env, "ALLOWED_ORIGINS">, origin: string, host: string | null): boolean {
  return isSameOrigin(origin, host ?? undefined) || env.ALLOWED_ORIGINS.includes(origin.toLowerCase());
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Is this a state-changing request a browser sent on behalf of another origin? Browsers send `Origin` on every
 * POST (and `Sec-Fetch-Site` on every request); a request with neither did not come from a browser page, so no
 * ambient cookie can have been abused. "same-site" is not enough: another port of our host is the same site.
 */
export function isCrossOriginWrite(env: Pick<Env, "ALLOWED_ORIGINS">, request: Request): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const origin = request.headers.get("origin");
  if (origin !== null) return !isAllowedOrigin(env, origin, request.headers.get("host"));
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

export const CROSS_ORIGIN_MESSAGE = "Requests from another origin may not change anything here; use the studio, or an API token";

/**
 * Refuses cross-origin writes with 403 FORBIDDEN before anything runs. `onlyWithSessionCookie`: the API routes
 * check only requests the session cookie authenticates (a bearer token is not ambient, so not forgeable);
 * the studio's pages check every write (its forms log in, too).
 */
export function refuseCrossOriginWrites(env: Env, options: { onlyWithSessionCookie: boolean; graphql?: boolean }): MiddlewareHandler {
  return async (c, next) => {
    const request = c.req.raw;
    if (options.onlyWithSessionCookie) {
      const cookieAuthenticated = !bearerToken(request.headers.get("authorization")) && readCookie(request.headers.get("cookie"), SESSION_COOKIE) !== null;
      if (!cookieAuthenticated) return next();
    }
    if (!isCrossOriginWrite(env, request)) return next();
    if (options.graphql) return c.json({ errors: [{ message: CROSS_ORIGIN_MESSAGE, extensions: { code: "FORBIDDEN" } }] }, 403);
    return c.json({ error: { code: "FORBIDDEN", message: CROSS_ORIGIN_MESSAGE, details: null } }, 403);
  };
}

/** Headers a page on an allowed origin may send to /graphql (the CORS preflight's answer). */
const CORS_HEADERS = ["content-type", "authorization", CSRF_HEADER, "accept"];

/**
 * Yoga's CORS answer for one request: allowed origins get their own origin back, with credentials; any other
 * origin gets no CORS headers at all, so its page can neither read an answer nor pass a preflight.
 */
export function corsFor(env: Pick<Env, "ALLOWED_ORIGINS">, request: Request) {
  const origin = request.headers.get("origin");
  if (!origin || !isAllowedOrigin(env, origin, request.headers.get("host"))) return false as const;
  return { origin: [origin], credentials: true, methods: ["GET", "POST", "OPTIONS"], allowedHeaders: CORS_HEADERS, maxAge: 600 };
}
