import { Hono } from "hono";
import { callerFromRequest } from "../auth.js";
import type { Caller, ServerDeps } from "../context.js";
import { errorBody } from "../errors.js";
import { clientIp, refuseLargeBodies } from "../limits.js";
import { openApiDocument } from "./openapi.js";
import { parseQuery, readJson, readJsonObject, REST_ROUTES, type RestRoute } from "./routes.js";

/**
 * REST compatibility routes: thin JSON handlers over the same services as GraphQL, served from the route
 * table the OpenAPI document is generated from (routes.ts). Lists return { items, nextCursor }; creates
 * answer 201; errors { error: { code, message, details } }.
 */
type Env = { Variables: { caller: Caller } };

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** `/workflows/{id}` → Hono's `/workflows/:id`. */
const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

/**
 * Outside production every response is checked against its documented schema before it is sent: a handler
 * that drifted from the document fails loudly (a logged 500) in tests and development, never silently.
 */
function checkResponse(deps: ServerDeps, route: RestRoute, value: unknown): void {
  if (deps.env.NODE_ENV === "production") return;
  const checked = route.response.safeParse(value);
  if (!checked.success) {
    throw new Error(`The response of ${route.operationId} does not match its OpenAPI schema: ${checked.error.message}`);
  }
}

export function createRestApi(deps: ServerDeps) {
  const api = new Hono<Env>();
  api.use("*", refuseLargeBodies(MAX_JSON_BODY_BYTES, (c, message) => c.json(errorBody("PAYLOAD_TOO_LARGE", message), 413)));
  api.use("*", async (c, next) => {
    c.set("caller", await callerFromRequest(deps, c.req.raw, clientIp(c, deps.env)));
    await next();
  });

  for (const route of REST_ROUTES) {
    api.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
      const value = await route.handle({
        deps,
        c,
        caller: c.get("caller"),
        query: route.query ? parseQuery(route.query, c.req.query()) : undefined,
        param: (name) => c.req.param(name) ?? "",
        json: () => readJson(c),
        jsonObject: () => readJsonObject(c),
      });
      checkResponse(deps, route, value);
      return c.json(value as never, route.status);
    });
  }
  const openApi = openApiDocument();
  api.get("/openapi.json", (c) => c.json(openApi));
  return api;
}
