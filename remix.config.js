/**
 * Remix classic compiler (the owner asked for remix.config.js; the Vite plugin would ignore it).
 * The Hono server imports build/index.js in-process and serves public/build under /build/.
 * @type {import('@remix-run/dev').AppConfig}
 */
export default {
  appDirectory: "app",
  serverModuleFormat: "esm",
  serverPlatform: "node",
  serverBuildPath: "build/index.js",
  assetsBuildDirectory: "public/build",
  // ASSET_URL_PREFIX (parsed and documented in packages/platform/src/env.ts) lets a CDN serve the assets; the
  // server refuses a build made for another prefix than its own.
  publicPath: process.env.ASSET_URL_PREFIX || "/build/",
  // @algorythmos/domain ships TypeScript source, so it must be bundled; Tiptap and React Flow are bundled so
  // esbuild, not Node at runtime, settles their ESM/CJS interop. yjs, lib0 and y-* stay external on purpose:
  // the server build runs in the same process as the collab service, and two copies of Yjs in one process
  // break its constructor checks ("Yjs was already imported").
  serverDependenciesToBundle: [/^@algorythmos\//, /^@tiptap\//, /^@xyflow\//],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
};
