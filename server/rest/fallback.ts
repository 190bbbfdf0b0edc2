import type { Context, Handler, Hono } from "hono";
import { errorBody } from "../errors.js";

/** How an API surface words its 404 and 405 answers (REST's error body, or GraphQL's `errors`). */
export type UnmatchedReply = (c: Context, status: 404 | 405, code: "NOT_FOUND" | "METHOD_NOT_ALLOWED", message: string, allow: string[]) => Response;

export const restReply: UnmatchedReply = (c, status, code, message, allow) =>
  c.json(errorBody(code, message, status === 405 ? { allow } : null), status);

export const graphqlReply: UnmatchedReply = (c, status, code, message) => c.json({ errors: [{ message, extensions: { code } }] }, status);

/** `/workflows/:id` → a regular expression for whole paths (a parameter is one segment; like Hono, strict about a trailing "/"). */
const patternOf = (path: string) =>
  new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:\w+/g, "/[^/]+").replace(/\/\*$/, "(?:/.*)?")}$`);

/**
 * The answer for a request under `prefix` that no route of `app` took: 405 METHOD_NOT_ALLOWED with an `Allow`
 * header when the path is served for other methods, 204 with `Allow` for OPTIONS there, else 404 NOT_FOUND —
 * always JSON, so API clients never get the studio's HTML page. Mount it after the routes, for `prefix` and
 * `prefix/*`. The routes are read on first use, when every one is registered. GET routes also answer HEAD
 * (Hono serves HEAD through them) unless `headFromGet` is false.
 */
export function answerUnmatched(app: Hono<any>, prefix: string, reply: UnmatchedReply, options: { headFromGet?: boolean } = {}): Handler {
  let routes: { method: string; pattern: RegExp }[] | null = null;
  const served = () =>
    (routes ??= app.routes
      .filter((route) => route.method !== "ALL" && (route.path === prefix || route.path.startsWith(`${prefix}/`)))
      .map((route) => ({ method: route.method.toUpperCase(), pattern: patternOf(route.path) })));
  return (c) => {
    const path = c.req.path;
    const methods = new Set(served().filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (methods.has("GET") && options.headFromGet !== false) methods.add("HEAD");
    if (!methods.size) return reply(c, 404, "NOT_FOUND", `No route ${c.req.method} ${path}`, []);
    const allow = [...methods].sort();
    c.header("Allow", allow.join(", "));
    if (c.req.method === "OPTIONS" && !methods.has("OPTIONS")) return c.body(null, 204);
    return reply(c, 405, "METHOD_NOT_ALLOWED", `${path} does not take ${c.req.method}; it takes ${allow.join(", ")}`, allow);
  };
}
