/**
 * `npm run cluster`: the self-hosted topology on one machine, without Docker (docs/deploy.md). Caddy in front
 * with deploy/Caddyfile — the file docker-compose.yml mounts — routing /collab/* to N collab processes and the
 * rest to N servers, and N workers, each a separate process on a free loopback port. Against DATABASE_URL /
 * REDIS_URL when they are given, else an embedded PostgreSQL and a private redis-server as `npm start` runs
 * them (data under .data/cluster/). Ctrl-C or SIGTERM stops everything it started; a second one kills at once.
 *
 *   npm run cluster                                   2 × server, 2 × collab, 2 × worker at http://localhost:3000
 *   npm run cluster -- --servers 3 --workers 4 --port 8080
 *   CLUSTER_SERVERS=3 CLUSTER_COLLABS=2 CLUSTER_WORKERS=4 CLUSTER_PORT=8080 npm run cluster
 *
 * `--state-file <path>` writes the cluster's addresses and pids as JSON once everything is up (tests, tools).
 */
import { applyMigrations, createLogger, ensureDatabase, loadEnv, localStudioAllowHosts } from "@algorythmos/platform";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { buildStudioIfStale } from "./build-studio.js";
import { freePort, startEmbeddedPostgres, startPrivateRedis, type Service } from "./embedded-services.js";
import { createServerDeps } from "../server/deps.js";
import { seedDemo, DEMO_LOGIN } from "./seed.js";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(root, ".data/cluster");
const MAX_PER_ROLE = 16;
const READY_TIMEOUT_MS = 120_000;
/** Longer than any process's own drain (worker: WORKER_DRAIN_TIMEOUT_MS 10 s + 5 s), so they finish it. */
const STOP_GRACE_MS = 25_000;

type Role = "server" | "collab" | "worker";
const ENTRY: Record<Role, string> = { server: "server/main.ts", collab: "collab/main.ts", worker: "worker/main.ts" };

interface Options {
  servers: number;
  collabs: number;
  workers: number;
  port: number;
  stateFile: string | null;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      servers: { type: "string" },
      collabs: { type: "string" },
      workers: { type: "string" },
      port: { type: "string" },
      "state-file": { type: "string" },
    },
    strict: true,
  });
  const count = (name: string, given: string | undefined) => {
    const value = Number(given ?? 2);
    if (!Number.isInteger(value) || value < 1 || value > MAX_PER_ROLE) throw new Error(`--${name} must be a whole number from 1 to ${MAX_PER_ROLE} (got "${given}")`);
    return value;
  };
  const port = Number(values.port ?? env.CLUSTER_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, or 0 for any free one (got "${values.port ?? env.CLUSTER_PORT}")`);
  return {
    servers: count("servers", values.servers ?? env.CLUSTER_SERVERS),
    collabs: count("collabs", values.collabs ?? env.CLUSTER_COLLABS),
    workers: count("workers", values.workers ?? env.CLUSTER_WORKERS),
    port,
    stateFile: values["state-file"] ?? null,
  };
}

/** One child process: its own process group (a terminal's Ctrl-C reaches only us, and we stop it once). */
class Member {
  child: ChildProcess | null = null;
  private readonly recent: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    /** Where it answers GET /healthz (Caddy's is the servers', through the proxy). */
    readonly healthUrl: string,
  ) {}

  get alive() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(command: string, args: string[], env: NodeJS.ProcessEnv) {
    if (stopping) throw new Error("the cluster is stopping");
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.child = child;
    for (const [stream, out] of [[child.stdout!, process.stdout], [child.stderr!, process.stderr]] as const) {
      createInterface({ input: stream }).on("line", (line) => {
        this.recent.push(line);
        if (this.recent.length > 40) this.recent.shift();
        out.write(`${this.name.padEnd(9)}│ ${line}\n`);
      });
    }
    child.once("exit", (code, signal) => {
      if (!stopping) console.error(`${this.name} exited (${signal ?? code}) — the cluster keeps running without it`);
    });
  }

  async waitReady(deadline: number): Promise<void> {
    for (;;) {
      if (!this.alive) throw new Error(`${this.name} exited while starting (${this.child?.signalCode ?? this.child?.exitCode}):\n${this.recent.join("\n")}`);
      const response = await fetch(this.healthUrl, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      if (response?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${this.recent.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  signal(signal: NodeJS.Signals) {
    if (!this.alive) return;
    try {
      process.kill(-this.child!.pid!, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

interface ClusterSecrets {
  JWT_SECRET: string;
  CREDENTIALS_KEY: string;
  POSTGRES_PASSWORD: string;
}

/** Secrets for the cluster's own services, made once and kept with its data (mode 600) so sessions survive restarts. */
function clusterSecrets(): ClusterSecrets {
  const file = path.join(dataDir, "secrets.json");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const secrets: ClusterSecrets = { JWT_SECRET: randomBytes(32).toString("base64url"), CREDENTIALS_KEY: randomBytes(32).toString("base64"), POSTGRES_PASSWORD: randomBytes(24).toString("base64url") };
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, "utf8")) as ClusterSecrets;
}

let stopping = false;
const members: Member[] = [];
const services: Service[] = [];

/** App processes first (servers finish their requests, workers their steps, collab stores), then the proxy, then the services. */
async function stopAll(): Promise<void> {
  stopping = true;
  const proxy = members.filter((member) => member.name === "proxy");
  await Promise.all(members.filter((member) => !proxy.includes(member)).map((member) => member.stop(STOP_GRACE_MS)));
  await Promise.all(proxy.map((member) => member.stop(5_000)));
  for (const service of services.reverse()) await service.stop().catch(() => {});
}

// Whatever ends this process, no child outlives it.
process.on("exit", () => {
  for (const member of members) member.signal("SIGKILL");
});
let firstSignalAt = 0;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    // A supervisor may deliver one signal twice (timeout(1) sends it to the process and to its group): only a
    // second one a moment later is a person insisting.
    if (stopping && Date.now() - firstSignalAt < 1_000) return;
    firstSignalAt ||= Date.now();
    if (stopping) {
      console.error(`${signal} again: killing every process of the cluster now`);
      process.exit(130);
    }
    console.log(`\n${signal}: stopping the cluster…`);
    stopAll().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`stopping failed: ${error.message}`);
        process.exit(1);
      },
    );
  });
}

async function main() {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (spawnSync("caddy", ["version"]).error) {
    throw new Error("caddy is not on PATH: install it (`apt-get install caddy`, `brew install caddy`) — it is the cluster's reverse proxy");
  }
  // Traversable by the `postgres` user the embedded PostgreSQL runs as under root (Caddy would make it 700).
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o755);
  const given = process.env;
  // Recorded as soon as each runs; one that comes up after a Ctrl-C is stopped right away.
  const started = async (service: Service) => {
    services.push(service);
    if (stopping) await service.stop();
    return service;
  };
  const [postgres, redis] = await Promise.all([
    given.DATABASE_URL
      ? null
      : startEmbeddedPostgres({ root, dataDir: path.join(dataDir, "postgres"), password: clusterSecrets().POSTGRES_PASSWORD, logFile: path.join(dataDir, "postgres.log") }).then(started),
    given.REDIS_URL ? null : startPrivateRedis(path.join(dataDir, "redis")).then(started),
  ]);
  const proxyPort = options.port || (await freePort());
  const proxyUrl = `http://localhost:${proxyPort}`;
  const base: NodeJS.ProcessEnv = {
    ...given,
    NODE_ENV: given.NODE_ENV ?? "production",
    HOST: "127.0.0.1",
    DATABASE_URL: given.DATABASE_URL ?? postgres!.url,
    REDIS_URL: given.REDIS_URL ?? redis!.url,
    ...(given.JWT_SECRET && given.CREDENTIALS_KEY ? {} : { JWT_SECRET: clusterSecrets().JWT_SECRET, CREDENTIALS_KEY: clusterSecrets().CREDENTIALS_KEY }),
    // The demo workflow calls the studio through the proxy: only that port of loopback.
    HTTP_ALLOW_HOSTS: given.HTTP_ALLOW_HOSTS ?? localStudioAllowHosts(proxyPort),
  };
  const env = loadEnv(base); // every process parses the same: fail here, once, with the message

  // The migrate step of docker-compose.yml: once, before any process starts (each would also apply it).
  await ensureDatabase(env.DATABASE_URL);
  await applyMigrations(env.DATABASE_URL, path.join(root, "prisma/migrations"));
  await buildStudioIfStale(root, (message) => console.log(message));

  const ports = async (count: number) => Promise.all(Array.from({ length: count }, () => freePort()));
  const serverPorts = await ports(options.servers);
  const collabPorts = await ports(options.collabs);
  const workerPorts = await ports(options.workers);
  const node = (role: Role): [string, string[]] => [process.execPath, ["--import", "tsx", ENTRY[role]]];
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const app: Member[] = [];
  serverPorts.forEach((port, index) => {
    const member = new Member(`server-${index + 1}`, port, `http://127.0.0.1:${port}/healthz`);
    member.start(...node("server"), { ...base, PORT: String(port) });
    app.push(member);
  });
  collabPorts.forEach((port, index) => {
    const member = new Member(`collab-${index + 1}`, port, `http://127.0.0.1:${port}/healthz`);
    member.start(...node("collab"), { ...base, COLLAB_PORT: String(port) });
    app.push(member);
  });
  workerPorts.forEach((port, index) => {
    const member = new Member(`worker-${index + 1}`, port, `http://127.0.0.1:${port}/healthz`);
    member.start(...node("worker"), { ...base, WORKER_HEALTH_PORT: String(port) });
    app.push(member);
  });
  members.push(...app);
  await Promise.all(app.map((member) => member.waitReady(deadline)));

  const upstreams = (list: number[]) => `to ${list.map((port) => `127.0.0.1:${port}`).join(" ")}`;
  const adminPort = await freePort();
  const proxy = new Member("proxy", proxyPort, `http://127.0.0.1:${proxyPort}/healthz`);
  proxy.start("caddy", ["run", "--config", path.join(root, "deploy/Caddyfile"), "--adapter", "caddyfile"], {
    ...given,
    SITE_ADDRESS: `http://:${proxyPort}`,
    PROXY_BIND: "127.0.0.1",
    PROXY_ADMIN: `127.0.0.1:${adminPort}`,
    SERVER_UPSTREAMS: upstreams(serverPorts),
    COLLAB_UPSTREAMS: upstreams(collabPorts),
    // Caddy's autosaved config and storage stay with the cluster's data, not in the user's home.
    XDG_CONFIG_HOME: path.join(dataDir, "caddy"),
    XDG_DATA_HOME: path.join(dataDir, "caddy"),
  });
  members.push(proxy);
  await proxy.waitReady(deadline);

  if (postgres) {
    // The demo only in the cluster's own database: never a known password in a database someone gave us.
    const deps = createServerDeps(env, createLogger("cluster", "warn"));
    await seedDemo(deps, proxyUrl);
    await deps.close();
  }

  const state = {
    url: proxyUrl,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    proxy: { pid: proxy.child!.pid!, port: proxyPort },
    servers: app.filter((member) => member.name.startsWith("server")).map((member) => ({ name: member.name, pid: member.child!.pid!, port: member.port })),
    collabs: app.filter((member) => member.name.startsWith("collab")).map((member) => ({ name: member.name, pid: member.child!.pid!, port: member.port })),
    workers: app.filter((member) => member.name.startsWith("worker")).map((member) => ({ name: member.name, pid: member.child!.pid!, port: member.port })),
  };
  if (options.stateFile) writeFileSync(options.stateFile, JSON.stringify(state, null, 2));
  console.log(
    [
      "",
      `  Algorythmos Studio cluster at ${proxyUrl}`,
      `  Caddy (deploy/Caddyfile) → ${options.servers} × server, ${options.collabs} × collab; ${options.workers} × worker`,
      ...app.map((member) => `    ${member.name.padEnd(9)} pid ${member.child!.pid}, http://127.0.0.1:${member.port}/healthz`),
      ...(postgres ? [`  Demo login: ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}`] : []),
      "  Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}

main().catch(async (error: Error) => {
  if (stopping) return; // a signal arrived mid-start: its handler stops what did start
  console.error(`npm run cluster failed: ${error.message}`);
  await stopAll();
  process.exit(1);
});
