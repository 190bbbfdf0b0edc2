/**
 * `npx tsx tests/start/fresh-clone.ts [--user NAME]` (the README's command; there is no npm script for it): issue
 * #18's "done when", end to end and too slow for npm test (npm ci + remix build, a few minutes). A clone of HEAD
 * in a new folder of mode 700 gets `npm ci`, which must print no warning, then `npm start`, whose output must be
 * the banner only; the studio answers, Ctrl-C ends it with code 0, and nothing it started is left running. With
 * --user NAME it all runs as that (non-root) user, in a folder of that user's (made with useradd when missing).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, relocatedDataDir } from "../../scripts/embedded-services.js";
import { leftovers, repoRoot } from "./support.js";

const userIndex = process.argv.indexOf("--user");
const user = userIndex > 0 ? process.argv[userIndex + 1] : null;
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

/** Runs as `user` when given (runuser keeps this script's environment minimal and the user's own HOME). */
function command(args: string[]): [string, string[]] {
  return user ? ["runuser", ["-u", user, "--", ...args]] : [args[0]!, args.slice(1)];
}

let uid: number | undefined;
let gid: number | undefined;
if (user) {
  if (spawnSyncOk("id", ["-u", user]) === false) execFileSync("useradd", ["--create-home", user]);
  uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }));
  gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }));
}
const home = mkdtempSync(path.join(tmpdir(), "fresh-clone-"));
chmodSync(home, 0o700);
if (uid !== undefined) chownSync(home, uid, gid!);
const project = path.join(home, "studio");
console.log(`clone of HEAD in ${project} (folder mode 700${user ? `, user ${user}` : ", root"})`);

try {
  // Cloned by this (root) process, then handed to the user: git refuses another user's repository as a source.
  execFileSync("git", ["clone", "--quiet", repoRoot, project], { stdio: "ignore" });
  if (uid !== undefined) execFileSync("chown", ["-R", `${uid}:${gid}`, project]);
  const ci = run(["npm", "ci", "--no-audit", "--no-fund"], project);
  const warnings = ci.split("\n").filter((line) => /\bwarn|EBADENGINE|deprecat/i.test(line));
  check(warnings.length === 0, `npm ci prints no warning${warnings.length ? `:\n  ${warnings.join("\n  ")}` : ""}`);

  const port = await freePort();
  const [bin, args] = command(["npm", "start"]);
  const start = spawn(bin, args, { cwd: project, env: { PATH: process.env.PATH, HOME: user ? `/home/${user}` : process.env.HOME, LANG: "C.UTF-8", PORT: String(port) } as unknown as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  start.stdout.on("data", (chunk) => (output += chunk));
  start.stderr.on("data", (chunk) => (output += chunk));
  // npm and tsx end themselves with the signal their child got (so a shell sees "interrupted"): code null, SIGINT.
  const exited = new Promise<string>((resolve) => start.once("exit", (code, signal) => resolve(code === null ? String(signal) : String(code))));
  const deadline = Date.now() + 300_000;
  while (!/running at http/.test(output) && start.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  const url = /running at (http:\/\/\S+)/.exec(output)?.[1];
  check(Boolean(url), `npm start prints its URL${url ? "" : `; it printed:\n${output}`}`);
  if (url) {
    check((await fetch(`${url}/healthz`)).status === 200, "GET /healthz is 200");
    const page = await fetch(`${url}/login`);
    check(page.status === 200, "the studio's log-in page is 200");
  }
  process.kill(-start.pid!, "SIGINT"); // what Ctrl-C does: the whole foreground group
  const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve("timeout"), 30_000))]);
  // runuser reports its child's SIGINT as exit 130 and prints "Interrupt".
  check(code === "0" || code === "SIGINT" || (user !== null && code === "130"), `Ctrl-C ends npm start (exit ${code})`);
  check(/Stopping…/.test(output), "npm start stopped what it started (it printed Stopping…)");
  const lines = output.split("\n").map((line) => line.trim()).filter(Boolean);
  const expected = [/^> /, ...(user ? [/^Interrupt$/] : []), /^Building the studio \(remix build\)…$/, /^Algorythmos Studio is running at /, /^Demo login: /, /^Press Ctrl-C to stop\.$/, /^Stopping…$/];
  const noise = lines.filter((line) => !expected.some((pattern) => pattern.test(line)));
  check(noise.length === 0, `npm start prints nothing but its banner${noise.length ? `; also:\n  ${noise.join("\n  ")}` : ""}`);
  const left = await leftovers([project, relocatedDataDir(path.join(project, ".data/postgres"))]);
  check(left.length === 0, `nothing left running${left.length ? `:\n  ${left.join("\n  ")}` : ""}`);
} finally {
  rmSync(relocatedDataDir(path.join(project, ".data/postgres")), { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
process.exit(failures.length ? 1 : 0);

/** Runs to the end and returns stdout and stderr together (npm writes its warnings to stderr). */
function run(args: string[], cwd: string): string {
  const [bin, rest] = command(args);
  const result = spawnSync(bin, rest, { cwd, encoding: "utf8", env: userEnv(), maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed (${result.error?.message ?? result.status}):\n${output}`);
  return output;
}

function spawnSyncOk(bin: string, args: string[]): boolean {
  try {
    execFileSync(bin, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** This environment without npm's own variables (npx sets npm_config_cache to root's cache), HOME the user's. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, HOME: user ? `/home/${user}` : process.env.HOME } as unknown as NodeJS.ProcessEnv;
}
