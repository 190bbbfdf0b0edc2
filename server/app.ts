import { CSRF_HEADER } from "@algorythmos/domain";
import { healthReport, metricsResponse, postgresCheck, redisCheck, requestTelemetry } from "@algorythmos/platform";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ServerDeps } from "./context.js";
import { errorBody, expectedError, INTERNAL_ERROR } from "./errors.js";
import { createGraphQL, type Yoga } from "./graphql/yoga.js";
import { ChannelHub } from "./realtime.js";
import { clientIp, rateLimit, refuseLargeBodies } from "./limits.js";
import { createWebhookRoutes } from "./hooks.js";
import { createApprovalPages } from "./approvals-page.js";
import { createRestApi, MAX_JSON_BODY_BYTES } from "./rest/index.js";
import { answerUnmatched, graphqlReply, restReply } from "./rest/fallback.js";
import { isCrossOriginWrite, refuseCrossOriginWrites } from "./origins.js";
import { securityHeaders } from "./security-headers.js";
import { compression } from "./compression.js";
import { createStudioHandler } from "./studio.js";

export interface ServerApp {
  app: Hono;
  yoga: Yoga;
  /** Flipped by the process once everything it serves is up; /healthz answers 503 before. */
  setReady(ready: boolean): void;
}

/** The HTTP surface: /healthz, /graphql, /api/*, then the Remix studio for everything else. */
export async function createServerApp(deps: ServerDeps, options: { studio?: boolean } = {}): Promise<ServerApp> {
  const hub = new ChannelHub(deps.subscriber);
  const yoga = createGraphQL(deps, hub);
  let ready = false;
  const app = new Hono();
  app.use("*", requestTelemetry()); // a span and the request metrics for every request (docs/observability.md)
  app.use("*", securityHeaders());
  app.use("*", compression()); // brotli/gzip for pages and API answers, never for event streams (server/compression.ts)

  app.onError((caught, c) => {
    const error = expectedError(caught);
    if (error) {
      const retryAfter = (error.details as { retryAfter?: number } | undefined)?.retryAfter;
      if (retryAfter) c.header("Retry-After", String(retryAfter));
      if (error.code === "SERVICE_UNAVAILABLE") deps.logger.warn("HTTP request during an outage", { path: c.req.path, error: caught });
      return c.json(errorBody(error.code, error.message, error.details), error.status);
    }
    if (caught instanceof HTTPException) return caught.getResponse();
    deps.logger.error("unexpected HTTP error", { error: caught, path: c.req.path });
    return c.json(errorBody(INTERNAL_ERROR.code, INTERNAL_ERROR.message), INTERNAL_ERROR.status);
  });

  app.get("/healthz", async (c) => {
    const { httpStatus, body } = await healthReport(ready, { postgres: postgresCheck(deps.db), redis: redisCheck(deps.redis) });
    return c.json(body, httpStatus);
  });
  app.get("/metrics", async (c) => {
    const { status, contentType, body } = await metricsResponse(deps.env.METRICS_TOKEN, c.req.header("authorization"));
    return c.body(body, status as 200, { "content-type": contentType, "cache-control": "no-store" });
  });

  // One limiter for every limited route: it remembers which credentials have authenticated.
  const limited = rateLimit(deps);
  app.use("/graphql", limited);
  app.use("/graphql", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: true, graphql: true }));
  app.use("/graphql", refuseLargeBodies(MAX_JSON_BODY_BYTES, (c, message) => c.json({ errors: [{ message, extensions: { code: "PAYLOAD_TOO_LARGE" } }] }, 413)));
  app.use("/api/*", limited);
  app.use("/api/*", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: true }));
  app.on(["GET", "POST", "OPTIONS"], "/graphql", (c) => yoga.fetch(c.req.raw, { ip: clientIp(c, deps.env) }));
  app.route("/api", createRestApi(deps));
  app.use("/hooks/*", limited);
  app.route("/hooks", createWebhookRoutes(deps, hub));
  app.route("/approvals", createApprovalPages(deps)); // R33: the signed single-use approval links (no session needed)
  // Anything else under the API prefixes is a JSON 404 or 405, never the studio's page.
  for (const [prefix, reply] of [["/graphql", graphqlReply], ["/api", restReply], ["/hooks", restReply]] as const) {
    // Yoga answers GraphQL's GET only: HEAD /graphql is not a GraphQL request.
    const unmatched = answerUnmatched(app, prefix, reply, { headFromGet: prefix !== "/graphql" });
    app.all(prefix, unmatched);
    app.all(`${prefix}/*`, unmatched);
  }

  if (options.studio !== false) {
    const studio = await createStudioHandler(deps, async (request, query, variables, ip) => {
      // The studio reaches the API through the GraphQL schema, in-process, as the signed-in user. It vouches
      // for the browser's request (the CSRF header) only when that request is not a cross-origin write, so a
      // foreign form can never become a trusted call, even if it got past the check above.
      const headers = new Headers({ "content-type": "application/json" });
      if (!isCrossOriginWrite(deps.env, request)) headers.set(CSRF_HEADER, "1");
      const cookie = request.headers.get("cookie");
      if (cookie) headers.set("cookie", cookie);
      const response = await yoga.fetch(new URL("/graphql", request.url), {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      }, { ip });
      return response.json();
    });
    app.route("/", studio);
  }

  return { app, yoga, setReady: (value) => void (ready = value) };
}
