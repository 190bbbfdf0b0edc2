/// <reference types="@remix-run/dev" />
/// <reference types="@remix-run/node" />
import type { StudioLoadContext } from "@algorythmos/domain";

declare module "@remix-run/server-runtime" {
  // The Hono server passes `{ graphql, cspNonce }` as the load context (server/studio.ts).
  interface AppLoadContext extends StudioLoadContext {
    /** The response's CSP nonce (server/security-headers.ts): entry.server.tsx gives it to Remix's inline scripts. */
    cspNonce: string;
  }
  // remix.config.js turns single fetch on; this makes useLoaderData's types follow it.
  interface Future {
    v3_singleFetch: true;
  }
}
