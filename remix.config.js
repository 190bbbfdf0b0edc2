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
  publicPath: "/build/",
  // @algorythmos/domain ships TypeScript source, so it must be bundled. The Yjs family, Tiptap and
  // React Flow are bundled too, so the server and the browser share one copy of each (Yjs warns and
  // misbehaves when two copies meet) and ESM/CJS interop is settled by esbuild, not at runtime.
  serverDependenciesToBundle: [/^@algorythmos\//, /^@tiptap\//, /^@xyflow\//, /^y-/, /^@y\//, /^yjs/, /^lib0/],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
};
