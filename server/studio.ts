import type { StudioLoadContext } from "@algorythmos/domain";
import type { Env } from "@algorythmos/platform";
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

/** Files under /build/ carry a content hash in their names (Remix's output): cached for good. */
export const HASHED_ASSET_CACHE = "public, max-age=31536000, immutable";
/** Other files in public/ (favicon.svg) keep their names across releases: cached for an hour. */
export const UNHASHED_ASSET_CACHE = "public, max-age=3600";

/**
 * The request as the browser sent it: https when the studio's public address is https (PUBLIC_URL), or when a
 * trusted proxy (TRUST_PROXY) says it received it over TLS. The studio's cookie code reads only the URL.
 */
export function publicRequest(env: Pick<Env, "PUBLIC_URL" | "TRUST_PROXY">, request: Request): Request {
  const url = new URL(request.url);
  const forwarded = env.TRUST_PROXY ? request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() : undefined;
  const https = env.PUBLIC_URL ? new URL(env.PUBLIC_URL).protocol === "https:" : forwarded === "https";
  if (!https || url.protocol === "https:") return request;
  url.protocol = "https:";
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  return new Request(url, {
    method: request.method,
    headers: request.headers,
    body: hasBody ? request.body : undefined,
    signal: request.signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** Serves the built Remix studio: hashed assets from public/build, every other path through Remix. */
export async function createStudioHandler(deps: ServerDeps, graphql: StudioGraphQL) {
  const buildPath = path.resolve(deps.env.REMIX_BUILD_PATH);
  if (!existsSync(buildPath)) {
    throw new Error(`The studio is not built (${buildPath} is missing): run \`npm run build\` first`);
  }
  const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;
  if (build.publicPath !== deps.env.ASSET_URL_PREFIX) {
    throw new Error(
      `The studio was built for ASSET_URL_PREFIX=${build.publicPath} but this server has ${deps.env.ASSET_URL_PREFIX}: ` +
        "build it again with the same ASSET_URL_PREFIX (`ASSET_URL_PREFIX=... npm run build`)",
    );
  }
  // Production mode in every environment: Remix then sanitises errors, so no stack trace reaches a page (they are
  // logged). tests/api/http-conformance.test.ts checks it in development mode.
  const handleRequest = createRequestHandler(build, "production");

  const studio = new Hono();
  // Served here whatever ASSET_URL_PREFIX says, so a CDN can pull them from this origin.
  studio.use(
    "/build/*",
    serveStatic({
      root: "./public",
      onFound: (_path, c) => c.header("Cache-Control", HASHED_ASSET_CACHE),
    }),
  );
  // A missing asset is a plain 404 (never a cached page): the hash in its name names a release that is gone.
  studio.all("/build/*", (c) => c.text("Not found", 404, { "Cache-Control": "no-store" }));
  studio.use("/favicon.svg", serveStatic({ root: "./public", onFound: (_path, c) => c.header("Cache-Control", UNHASHED_ASSET_CACHE) }));
  // Every write to a studio page (its actions, log-in included) must come from an allowed origin.
  studio.use("*", refuseCrossOriginWrites(deps.env, { onlyWithSessionCookie: false }));
  studio.all("*", (c) => {
    const ip = clientIp(c, deps.env);
    const loadContext: StudioLoadContext & { cspNonce: string } = {
      graphql: (request, query, variables) => graphql(request, query, variables, ip) as never,
      cspNonce: c.get("cspNonce"),
    };
    return handleRequest(publicRequest(deps.env, c.req.raw), loadContext as never);
  });
  return studio;
}
