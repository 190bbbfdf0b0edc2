/**
 * The chaos suite's own cluster: a private PostgreSQL (initdb/pg_ctl from /usr/lib/postgresql) and a private
 * redis-server, both on free loopback ports with their data in a temp dir, and the real processes
 * (2 × server, 2 × collab, 2 × worker) as separate OS processes, each in its own process group so a
 * SIGKILL reaches exactly it. Everything started here is stopped by `stop()`, and also when this process
 * exits or is interrupted (see `registerCleanup`). The machine's own PostgreSQL and Redis are never touched.
 */
import { EnvSchema, applyMigrations, ensureDatabase } from "@algorythmos/platform";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import { sleep, waitUntil } from "./util.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Kills a process group (the child and anything it spawned); ignores a group that is already gone. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals) {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

// ---------- PostgreSQL ----------

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(path.join(root, name, "bin", "pg_ctl"))) : [];
  if (!versions.length) throw new Error("No PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, "bin");
}

/** A private PostgreSQL cluster; `restartImmediate` is `pg_ctl -m immediate` (a crash, then WAL recovery). */
export class PrivatePostgres {
  readonly bin = postgresBin();
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  url = "";
  port = 0;
  private running = false;

  constructor(private readonly baseDir: string) {
    this.dataDir = path.join(baseDir, "pgdata");
    this.socketDir = path.join(baseDir, "pgsock");
    this.logFile = path.join(baseDir, "postgres.log");
  }

  /** PostgreSQL refuses to run as root: then every pg command runs as the `postgres` user. */
  private command(command: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", path.join(this.bin, command), ...args]] : [path.join(this.bin, command), args];
  }

  /** Async, so the suite's own clients keep running (editing, calling the API) while PostgreSQL is down. */
  private runAsync(command: string, args: string[]): Promise<void> {
    const [file, argv] = this.command(command, args);
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`${command} ${args.join(" ")} failed (${code}): ${output}`));
      });
    });
  }

  /** Synchronous: for initdb, and for the exit handler, which cannot wait. */
  private run(command: string, args: string[]) {
    const [file, argv] = this.command(command, args);
    const result = spawnSync(file, argv, { encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr || result.stdout || result.error}`);
  }

  async start() {
    this.port ||= await freePort();
    if (!existsSync(path.join(this.dataDir, "PG_VERSION"))) {
      mkdirSync(this.dataDir, { recursive: true });
      mkdirSync(this.socketDir, { recursive: true });
      if (process.getuid?.() === 0) {
        const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
        const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
        for (const dir of [this.dataDir, this.socketDir]) chownSync(dir, uid, gid);
        chownSync(this.baseDir, uid, gid);
      }
      chmodSync(this.dataDir, 0o700);
      this.run("initdb", ["-D", this.dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    }
    // fsync off: the suite crashes processes, never the machine, so the OS page cache survives every fault.
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.socketDir} -c max_connections=300 -c fsync=off -c synchronous_commit=on`;
    await this.runAsync("pg_ctl", ["-D", this.dataDir, "-l", this.logFile, "-o", options, "-w", "-t", "60", "start"]);
    this.running = true;
    this.url = `postgres://postgres@127.0.0.1:${this.port}/chaos`;
  }

  /** An immediate stop (no checkpoint, clients cut) — what a crash looks like to its clients. */
  async stopImmediate() {
    if (!this.running) return;
    await this.runAsync("pg_ctl", ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]);
    this.running = false;
  }

  /** pg_ctl -m immediate restart: down for `downMs`, then up again on the same port (crash recovery from WAL). */
  async restartImmediate(downMs = 0) {
    await this.stopImmediate();
    if (downMs) await sleep(downMs);
    await this.start();
  }

  /** Synchronous so it can run in an exit handler. */
  stopSync() {
    if (!this.running) return;
    try {
      this.run("pg_ctl", ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]);
    } catch {
      const pidFile = path.join(this.dataDir, "postmaster.pid");
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
        try {
          if (pid) process.kill(pid, "SIGQUIT");
        } catch {
          // gone
        }
      }
    }
    this.running = false;
  }
}

// ---------- Redis ----------

/** A private redis-server with AOF on; `kill9` + `start` restarts it from its AOF, `start({ empty: true })` without data. */
export class PrivateRedis {
  readonly dataDir: string;
  port = 0;
  url = "";
  private child: ChildProcess | null = null;

  constructor(baseDir: string) {
    this.dataDir = path.join(baseDir, "redis");
  }

  async start(options: { empty?: boolean } = {}) {
    if (options.empty) rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
    this.port ||= await freePort();
    this.url = `redis://127.0.0.1:${this.port}`;
    const log = openSync(path.join(this.dataDir, "..", "redis.log"), "a");
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", this.dataDir],
      { stdio: ["ignore", log, log], detached: true },
    );
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {}); // refused until it listens
    try {
      await waitUntil("redis-server to answer PING", 15_000, async () => {
        if (this.child?.exitCode !== null) throw new Error("redis-server exited at start (see redis.log)");
        try {
          if (probe.status !== "ready") await probe.connect();
          return (await probe.ping()) === "PONG";
        } catch {
          probe.disconnect();
          return false;
        }
      });
    } finally {
      probe.disconnect();
    }
  }

  get pid() {
    return this.child?.pid;
  }

  /** kill -9: the AOF keeps what was fsynced (appendfsync everysec: up to ~1 s may be lost). */
  async kill9() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    killGroup(child.pid, "SIGKILL");
    await exited;
    this.child = null;
  }

  stopSync() {
    killGroup(this.child?.pid, "SIGKILL");
  }
}

// ---------- the studio's processes ----------

export type Role = "server" | "collab" | "worker";

const ENTRY: Record<Role, string> = { server: "server/main.ts", collab: "collab/main.ts", worker: "worker/main.ts" };

export class AppProcess {
  child: ChildProcess | null = null;
  readonly logFile: string;
  /** How many times it has exited (killed or stopped). */
  exits = 0;
  /** Started and ready (healthy, or for a worker: its run worker started), and not exited since. */
  ready = false;
  /** Where this start's output begins in the log file (each start appends). */
  private logOffset = 0;

  constructor(
    readonly role: Role,
    readonly index: number,
    readonly port: number,
    private readonly baseDir: string,
    private env: Record<string, string>,
  ) {
    this.logFile = path.join(baseDir, `${role}-${index}.log`);
  }

  get name() {
    return `${this.role}-${this.index}`;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  get alive() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Extra env for the next start (e.g. a fault switch); `null` removes a key. */
  setEnv(changes: Record<string, string | null>) {
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete this.env[key];
      else this.env[key] = value;
    }
  }

  /**
   * `node --import tsx <entry>`: what `npm run <role>` runs, as one process (the `tsx` CLI would be a wrapper
   * relaying signals, and a SIGKILL would kill only the wrapper).
   */
  async start(timeoutMs = 60_000) {
    this.logOffset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const log = openSync(this.logFile, "a");
    const child = spawn(process.execPath, ["--import", "tsx", ENTRY[this.role]], {
      cwd: repoRoot,
      env: this.env as NodeJS.ProcessEnv,
      stdio: ["ignore", log, log],
      detached: true,
    });
    this.child = child;
    this.ready = false;
    child.once("exit", () => {
      this.exits++;
      if (this.child === child) this.ready = false;
    });
    await this.waitReady(timeoutMs);
    if (this.child === child && this.alive) this.ready = true;
  }

  async waitReady(timeoutMs: number) {
    const child = this.child!;
    await waitUntil(`${this.name} to become ready`, timeoutMs, async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.name} exited while starting (${child.exitCode ?? child.signalCode}):\n${this.tail()}`);
      }
      if (this.role === "worker") return this.output().includes("run worker started");
      const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      return response?.status === 200;
    });
  }

  /** Sends `signal` to the process group and resolves when it has exited (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 20_000): Promise<{ exitCode: number | null; signal: string | null; ms: number }> {
    const child = this.child;
    const started = Date.now();
    if (!child || child.exitCode !== null || child.signalCode !== null) return { exitCode: child?.exitCode ?? null, signal: child?.signalCode ?? null, ms: 0 };
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    killGroup(child.pid, signal);
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    return { exitCode: child.exitCode, signal: child.signalCode, ms: Date.now() - started };
  }

  killSync() {
    if (this.alive) killGroup(this.child?.pid, "SIGKILL");
  }

  tail(chars = 3000) {
    try {
      return readFileSync(this.logFile, "utf8").slice(-chars);
    } catch {
      return "";
    }
  }

  /** What the current start has written so far. */
  output() {
    try {
      return readFileSync(this.logFile).subarray(this.logOffset).toString("utf8");
    } catch {
      return "";
    }
  }
}

export interface ClusterOptions {
  /** Settings passed to every process, beyond the required ones (only those the processes know are passed). */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

/**
 * Settings the suite asks for when the processes know them (EnvSchema has the key): short reconcile, lock
 * and stalled intervals, high rate limits (the suite drives the API from one address).
 */
const WANTED_SETTINGS: Record<string, string> = {
  RATE_LIMIT_PER_MINUTE: "1000000",
  AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
  WORKER_CONCURRENCY: "10",
};

export class Cluster {
  readonly baseDir: string;
  readonly postgres: PrivatePostgres;
  readonly redis: PrivateRedis;
  readonly servers: AppProcess[] = [];
  readonly collabs: AppProcess[] = [];
  readonly workers: AppProcess[] = [];
  readonly env: Record<string, string> = {};
  /** Settings the processes did not know (not passed), reported so nobody thinks they were in effect. */
  readonly unknownSettings: string[] = [];
  private stopped = false;

  constructor(private readonly options: ClusterOptions = {}) {
    this.baseDir = mkdtempSync(path.join(os.tmpdir(), "algo-chaos-"));
    chmodSync(this.baseDir, 0o755);
    this.postgres = new PrivatePostgres(this.baseDir);
    this.redis = new PrivateRedis(this.baseDir);
    registerCleanup(this);
    this.reaper = startReaper(this.baseDir, this.postgres);
  }

  /** A watchdog that cleans up if this process dies without running its exit handler (SIGKILL). */
  private readonly reaper: ChildProcess;

  get all() {
    return [...this.servers, ...this.collabs, ...this.workers];
  }

  log(line: string) {
    this.options.log?.(line);
  }

  async start() {
    const t0 = Date.now();
    // The server processes serve the studio: on a fresh clone nothing has built it yet (npm run chaos, or the
    // chaos tier as the first file of npm test).
    await buildStudioIfStale(repoRoot, (line) => this.log(`  ${line}`));
    await this.postgres.start();
    await ensureDatabase(this.postgres.url);
    await applyMigrations(this.postgres.url, path.join(repoRoot, "prisma/migrations"));
    await this.redis.start();
    this.log(`  postgres ${this.postgres.url} · redis ${this.redis.url} · data in ${this.baseDir} (${Date.now() - t0} ms)`);

    const known = new Set(Object.keys(EnvSchema.shape));
    const settings: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...WANTED_SETTINGS, ...this.options.settings })) {
      if (known.has(key)) settings[key] = value;
      else this.unknownSettings.push(key);
    }
    Object.assign(this.env, {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      DATABASE_URL: this.postgres.url,
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: `chaos:${randomBytes(3).toString("hex")}:`,
      JWT_SECRET: randomBytes(32).toString("hex"),
      CREDENTIALS_KEY: randomBytes(32).toString("base64"),
      HTTP_ALLOW_HOSTS: "127.0.0.1,localhost",
      LOG_LEVEL: "info",
      // Marks the cluster's processes, so the watchdog finds exactly them (see startReaper).
      CHAOS_CLUSTER: this.baseDir,
      ...settings,
    });
    for (let index = 0; index < 2; index++) {
      this.servers.push(new AppProcess("server", index, await freePort(), this.baseDir, { ...this.env, PORT: String(0) }));
      this.collabs.push(new AppProcess("collab", index, await freePort(), this.baseDir, { ...this.env }));
      this.workers.push(new AppProcess("worker", index, 0, this.baseDir, { ...this.env }));
    }
    for (const server of this.servers) server.setEnv({ PORT: String(server.port) });
    for (const collab of this.collabs) collab.setEnv({ COLLAB_PORT: String(collab.port) });
    // Two at a time (one per core): the boots are CPU-bound.
    for (let index = 0; index < this.all.length; index += 2) await Promise.all(this.all.slice(index, index + 2).map((process) => process.start()));
    this.log(`  2 × server, 2 × collab, 2 × worker up (${Date.now() - t0} ms)`);
  }

  /** Makes sure every process is up (a scenario that failed half-way may have left one down). */
  async ensureAllUp() {
    for (const process of this.all) if (!process.alive) await process.start();
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.all.map((process) => process.stop("SIGTERM", 5_000)));
    await this.redis.kill9(); // waits for its exit, so nothing writes into the temp dir while it is removed
    this.stopSync();
  }

  /** Synchronous kill of everything (exit handler, Ctrl-C). */
  stopSync() {
    killGroup(this.reaper.pid, "SIGKILL");
    for (const process of this.all) process.killSync();
    this.redis.stopSync();
    this.postgres.stopSync();
    clusters.delete(this);
    if (process.env.CHAOS_KEEP_DATA) return;
    try {
      // Retried: a process killed a moment ago may still be writing its last bytes into the dir.
      rmSync(this.baseDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      console.error(`could not remove ${this.baseDir}: ${(error as Error).message}`);
    }
  }
}

/**
 * Started detached, so it outlives this process: once this process is gone (even by SIGKILL, when no exit
 * handler runs) it stops PostgreSQL, kills the processes that are this cluster's — found by what they carry
 * (the app processes' CHAOS_CLUSTER environment; redis-server's working directory, its --dir), never by a
 * recorded pid that may since have been reused — and removes the temp dir.
 */
function startReaper(baseDir: string, postgres: PrivatePostgres): ChildProcess {
  const pgCtl = `${process.getuid?.() === 0 ? "runuser -u postgres -- " : ""}${path.join(postgres.bin, "pg_ctl")}`;
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `[ -f "$1/pgdata/postmaster.pid" ] && ${pgCtl} -D "$1/pgdata" -m immediate stop >/dev/null 2>&1`,
    `for p in /proc/[0-9]*; do pid=\${p#/proc/}; [ "$pid" = "$$" ] && continue;`,
    `  if grep -qaF "CHAOS_CLUSTER=$1" "$p/environ" 2>/dev/null || [ "$(readlink "$p/cwd" 2>/dev/null)" = "$1/redis" ]; then kill -9 "$pid" 2>/dev/null; fi`,
    `done`,
    process.env.CHAOS_KEEP_DATA ? "true" : `rm -rf "$1"`,
  ].join("\n");
  const reaper = spawn("bash", ["-c", script, "chaos-reaper", baseDir], { stdio: "ignore", detached: true });
  reaper.unref();
  return reaper;
}

const clusters = new Set<Cluster>();
let handlersInstalled = false;

/** Every cluster is torn down when this process exits, however it exits (Ctrl-C, an uncaught error, a test end). */
function registerCleanup(cluster: Cluster) {
  clusters.add(cluster);
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanAll = () => {
    for (const each of [...clusters]) each.stopSync();
  };
  process.once("exit", cleanAll);
  if (process.env.VITEST) return; // vitest owns the signals of its workers; the exit handler still cleans up
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every process the chaos suite started`);
      cleanAll();
      process.exit(130);
    });
  }
}
