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

/** Runs `remix build` when the studio's build is missing, older than its sources, or for another asset prefix. */
export async function buildStudioIfStale(root: string, log: (message: string) => void, assetUrlPrefix = "/build/"): Promise<void> {
  const output = path.join(root, "build/index.js");
  const sources = ["app", "packages/domain/src", "remix.config.js"].map((entry) => path.join(root, entry));
  if (existsSync(output) && statSync(output).mtimeMs >= newestChange(sources) && builtAssetPrefix(output) === assetUrlPrefix) return;
  log("Building the studio (remix build)…");
  execFileSync(path.join(root, "node_modules/.bin/remix"), ["build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: remixBuildEnv(assetUrlPrefix) });
}

/**
 * Remix's classic compiler loads Vite's CommonJS build (through @vanilla-extract/integration), whose
 * deprecation notice on every build is not ours to act on: it would only teach users to ignore the output.
 */
export function remixBuildEnv(assetUrlPrefix = "/build/"): NodeJS.ProcessEnv {
  return { ...process.env, ASSET_URL_PREFIX: assetUrlPrefix, VITE_CJS_IGNORE_WARNING: "true" };
}
