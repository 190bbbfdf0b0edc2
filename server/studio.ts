import type { StudioLoadContext } from "@algorythmos/domain";
import { serveStatic } from "@hono/node-server/serve-static";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import { Hono } from "hono";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerDeps } from "./context.js";
import { clientIp } from "./limits.js";
import { refuseCrossOriginWrites } from "./origins.js";

/** Runs a GraphQL operation for the studio as the request's user; `ip` is the browser's address. */
export type StudioGraphQL = (request: Request, query: string, variables: Record<string, unknown> | undefined, ip: string | null) => ReturnType<StudioLoadContext["graphql"]>;

/** Serves the built Remix studio: hashed assets from public/build, every other path through Remix. */
export async function createStudioHandler(deps: ServerDeps, graphql: StudioGraphQL) {
  const buildPath = path.resolve(deps.env.REMIX_BUILD_PATH);
  if (!existsSync(buildPath)) {
    throw new Error(`The studio is not built (${buildPath} is missing): run \`npm run build\` first`);
  }
  const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;
  // Production mode in every environment: Remix then sanitises errors, so no stack trace reaches a page (they are logged).
  const handleRequest = createRequestHandler(build, "production");

  const studio = new Hono();
  studio.use(
    "/build/*",
    serveStatic({
      root: "./public",
      onFound: (_path, c) => c.header("Cache-Control", "public, max-age=31536000, immutable"),
    }),
  );
  studio.use("/favicon.svg", serveStatic({ root: "./public" }));
  // Every write to a studio page (its actions, log-in included) must come from an allowed origin.
  studio.use("*", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: false }));
  studio.all("*", (c) => {
    const ip = clientIp(c);
    const loadContext: StudioLoadContext & { cspNonce: string } = {
      graphql: (request, query, variables) => graphql(request, query, variables, ip) as never,
      cspNonce: c.get("cspNonce"),
    };
    return handleRequest(c.req.raw, loadContext as never);
  });
  return studio;
}
