/**
 * Issue #18 defect 1: `npm start` as root in a folder of mode 700 (root's home in most containers). It used
 * to crash with `spawn …/initdb EACCES` (an unhandled 'error' event), leave its redis-server running and a
 * world-readable pg-password-* file in /tmp. Now it works there, Ctrl-C leaves nothing running, and a failure
 * is one line with its fix after everything it started has stopped.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, relocatedDataDir } from "../../scripts/embedded-services.js";
import { copyProject, leftovers, npmStart, type StartProcess } from "./support.js";

const isRoot = process.getuid?.() === 0;
const passwordFiles = () => readdirSync(tmpdir()).filter((name) => name.startsWith("pg-password-"));

describe.skipIf(!isRoot)("npm start as root in a folder only root can enter", () => {
  let home: string;
  let project: string;
  let relocated: string;

  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), "start-root-home-"));
    chmodSync(home, 0o700);
    project = path.join(home, "studio");
    copyProject(project);
    relocated = relocatedDataDir(path.join(project, ".data/postgres"));
  }, 60_000);

  // A test that fails midway must not leave its npm start running (SIGKILL: its services follow by the tether).
  let running: StartProcess | null = null;
  const track = (start: StartProcess) => (running = start);
  afterEach(() => {
    if (running?.child.exitCode === null) running.child.kill("SIGKILL");
    running = null;
  });

  afterAll(() => {
    rmSync(relocated, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("serves the studio with the demo login, prints only its banner, and Ctrl-C leaves nothing behind", async () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const before = passwordFiles();
    const start = track(npmStart(project, { PORT: String(await freePort()) }));
    const url = await start.url;

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const login = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: 'mutation { logIn(input: { email: "demo@algorythmos.dev", password: "demo-password" }) { accessToken } }' }),
    });
    expect(JSON.stringify(await login.json())).toContain("accessToken");
    // The data is where the postgres user can own it; the password file is gone, none was put in /tmp.
    expect(existsSync(path.join(relocated, "PG_VERSION"))).toBe(true);
    expect(passwordFiles()).toEqual(before);
    expect(readdirSync(path.join(project, ".data")).filter((name) => name.includes("password"))).toEqual([]);

    start.child.kill("SIGINT");
    expect(await start.exited).toBe(0);
    expect(await leftovers([project, relocated])).toEqual([]);
    // Nothing but the banner and the stop line: no warnings, no deprecation notices, no log lines.
    const lines = start.output().split("\n").map((line) => line.trim()).filter(Boolean);
    expect(lines).toEqual([`Algorythmos Studio is running at ${url}`, "Demo login: demo@algorythmos.dev / demo-password", "Press Ctrl-C to stop.", "Stopping…"]);
  }, 120_000);

  it("a failure of redis-server is one line with its fix, and the PostgreSQL that did start is stopped", async () => {
    // A PATH with the tools npm start needs but no redis-server (on merged-/usr systems /bin has it too).
    const bin = path.join(home, "bin-without-redis");
    mkdirSync(bin, { recursive: true });
    for (const tool of ["id", "useradd"]) symlinkSync(execFileSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), path.join(bin, tool));
    const start = track(npmStart(project, { PORT: String(await freePort()), PATH: bin }));
    expect(await start.exited).toBe(1);
    const lines = start.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npm start failed: redis-server is not on PATH: install it .*REDIS_URL=/);
    expect(await leftovers([project, relocated])).toEqual([]);
  }, 90_000);

  it("a failure of PostgreSQL is one line with its fix, and the redis-server that did start is stopped", async () => {
    // A data folder PostgreSQL refuses (made by a version that does not exist).
    writeFileSync(path.join(relocated, "PG_VERSION"), "99\n");
    try {
      const start = track(npmStart(project, { PORT: String(await freePort()) }));
      expect(await start.exited).toBe(1);
      const lines = start.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npm start failed: The embedded PostgreSQL did not start \(.*incompatible.*\): see .*postgres\.log, or set DATABASE_URL\.$/);
      expect(await leftovers([project, relocated])).toEqual([]);
    } finally {
      rmSync(relocated, { recursive: true, force: true });
    }
  }, 90_000);
});
