import { CSRF_HEADER } from "@algorythmos/domain";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ServerDeps } from "./context.js";
import { expectedError } from "./errors.js";
import { createGraphQL, type Yoga } from "./graphql/yoga.js";
import { ChannelHub } from "./realtime.js";
import { clientIp, rateLimit } from "./limits.js";
import { createWebhookRoutes } from "./hooks.js";
import { createRestApi, MAX_JSON_BODY_BYTES } from "./rest/index.js";
import { bodyLimit } from "hono/body-limit";
import { isCrossOriginWrite, refuseCrossOriginWrites } from "./origins.js";
import { securityHeaders } from "./security-headers.js";
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
  app.use("*", securityHeaders());

  app.onError((caught, c) => {
    const error = expectedError(caught);
    if (error) {
      const retryAfter = (error.details as { retryAfter?: number } | undefined)?.retryAfter;
      if (retryAfter) c.header("Retry-After", String(retryAfter));
      if (error.code === "SERVICE_UNAVAILABLE") deps.logger.warn("HTTP request during an outage", { path: c.req.path, error: caught });
      return c.json({ error: { code: error.code, message: error.message, details: error.details ?? null } }, error.status);
    }
    if (caught instanceof HTTPException) return caught.getResponse();
    deps.logger.error("unexpected HTTP error", { error: caught, path: c.req.path });
    return c.json({ error: { code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side; it has been logged", details: null } }, 500);
  });

  app.get("/healthz", async (c) => {
    const [database, redis] = await Promise.all([
      deps.db.$queryRaw`SELECT 1`.then(() => "ok", (error: Error) => `down: ${error.message}`),
      deps.redis.ping().then(() => "ok", (error: Error) => `down: ${error.message}`),
    ]);
    const healthy = ready && database === "ok" && redis === "ok";
    return c.json({ status: healthy ? "ok" : ready ? "degraded" : "starting", database, redis }, healthy ? 200 : 503);
  });

  // One limiter for every limited route: it remembers which credentials have authenticated.
  const limited = rateLimit(deps);
  app.use("/graphql", limited);
  app.use("/graphql", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: true, graphql: true }));
  app.use(
    "/graphql",
    bodyLimit({
      maxSize: MAX_JSON_BODY_BYTES,
      onError: (c) =>
        c.json({ errors: [{ message: `The body is larger than ${MAX_JSON_BODY_BYTES} bytes`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] }, 413),
    }),
  );
  app.use("/api/*", limited);
  app.use("/api/*", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: true }));
  app.on(["GET", "POST", "OPTIONS"], "/graphql", (c) => yoga.fetch(c.req.raw, { ip: clientIp(c) }));
  app.route("/api", createRestApi(deps));
  app.use("/hooks/*", limited);
  app.route("/hooks", createWebhookRoutes(deps, hub));

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
