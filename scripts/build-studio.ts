import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Newest modification time under the given paths (files or folders). */
function newestChange(paths: string[]): number {
  let newest = 0;
  for (const target of paths) {
    if (!existsSync(target)) continue;
    const stat = statSync(target);
    if (stat.isDirectory()) {
      newest = Math.max(newest, newestChange(readdirSync(target).map((name) => path.join(target, name))));
    } else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

/** The ASSET_URL_PREFIX a build was made for (its `publicPath`). */
function builtAssetPrefix(output: string): string | null {
  return /\bpublicPath = "([^"]*)"/.exec(readFileSync(output, "utf8"))?.[1] ?? null;
}

/** Whether a build was made in development mode (its JSX compiled to jsxDEV, which a production React lacks). */
function builtForDevelopment(output: string): boolean {
  return readFileSync(output, "utf8").includes("jsxDEV");
}

/**
 * Runs `remix build` when the studio's build is missing, older than its sources, for another asset prefix, or made in
 * development mode (an older checkout's `npm test` made those).
 */
export async function buildStudioIfStale(root: string, log: (message: string) => void, assetUrlPrefix = "/build/"): Promise<void> {
  const output = path.join(root, "build/index.js");
  const sources = ["app", "packages/domain/src", "remix.config.js"].map((entry) => path.join(root, entry));
  if (existsSync(output) && statSync(output).mtimeMs >= newestChange(sources) && builtAssetPrefix(output) === assetUrlPrefix && !builtForDevelopment(output)) return;
  log("Building the studio (remix build)…");
  execFileSync(path.join(root, "node_modules/.bin/remix"), ["build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: remixBuildEnv(assetUrlPrefix) });
}

/**
 * Always a production build: the server runs Remix in production mode everywhere (server/studio.ts), and `remix build`
 * under `NODE_ENV=test` (vitest's) would compile JSX for development, which a production server cannot render.
 * Remix's classic compiler loads Vite's CommonJS build (through @vanilla-extract/integration), whose
 * deprecation notice on every build is not ours to act on: it would only teach users to ignore the output.
 */
export function remixBuildEnv(assetUrlPrefix = "/build/"): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: "production", ASSET_URL_PREFIX: assetUrlPrefix, VITE_CJS_IGNORE_WARNING: "true" };
}
