/**
 * `npm run cluster` (scripts/cluster.ts): Caddy with deploy/Caddyfile in front of 2 × server, 2 × collab and
 * 2 × worker, each a real process. Through the proxy only: an API client signs up, creates a workflow and runs
 * it; two y-websocket clients co-edit it and converge while each is on a different collab process; two
 * graphql-ws clients hold sockets on the two servers; a studio page loads. Which process served what is read
 * from Caddy's own admin API (in-flight requests per upstream). docker-compose.yml's healthcheck commands run
 * against the real processes. Then SIGTERM: the cluster exits 0 and nothing it started is left running.
 *
 * The cluster has a database of its own: its workers run the reconciler, which would take other suites' runs.
 */
import { createStepMap, docMaps } from "@algorythmos/domain";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import { gql, ok, signUp, type Account } from "../support/api.js";
import { connectClient, docDefinition, waitSynced, type CollabClient } from "../support/collab.js";
import { waitFor } from "../support/stack.js";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { APP_SERVICES, healthcheckUrl, repoRoot, resolvedCompose, readDotEnv } from "./compose-file.js";

interface Member {
  name: string;
  pid: number;
  port: number;
}
interface ClusterState {
  url: string;
  adminUrl: string;
  proxy: { pid: number; port: number };
  servers: Member[];
  collabs: Member[];
  workers: Member[];
}

const tempDir = mkdtempSync(path.join(os.tmpdir(), "algo-cluster-test-"));
const stateFile = path.join(tempDir, "state.json");
const databaseUrl = (() => {
  const url = new URL(inject("databaseUrl"));
  url.pathname = `${url.pathname}_cluster`;
  return url.toString();
})();

let cluster: ChildProcess;
let output = "";
let exited: Promise<{ code: number | null; signal: string | null }>;
let state: ClusterState;
let owner: Account;
const clients: CollabClient[] = [];

/** Caddy's admin API: the requests in flight per upstream (a WebSocket counts while it is open). */
async function inFlight(): Promise<Map<number, number>> {
  const upstreams = (await (await fetch(`${state.adminUrl}/reverse_proxy/upstreams`)).json()) as { address: string; num_requests: number }[];
  return new Map(upstreams.map((upstream) => [Number(upstream.address.split(":").at(-1)), upstream.num_requests]));
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  await buildStudioIfStale(repoRoot, () => {});
  cluster = spawn(process.execPath, ["--import", "tsx", "scripts/cluster.ts", "--servers", "2", "--collabs", "2", "--workers", "2", "--port", "0", "--state-file", stateFile], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject("redisUrl"),
      REDIS_PREFIX: `${inject("redisPrefix")}cluster:`,
      JWT_SECRET: "cluster-secret-cluster-secret-cluster-0123",
      CREDENTIALS_KEY: Buffer.alloc(32, 9).toString("base64"),
      RATE_LIMIT_PER_MINUTE: "100000",
      AUTH_RATE_LIMIT_PER_MINUTE: "100000",
      WORKER_CONCURRENCY: "4",
      LOG_LEVEL: "warn",
      // The mode every suite builds and serves the studio in (a build made under NODE_ENV=test uses React's
      // development JSX runtime, which a production server does not have).
      NODE_ENV: "test",
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cluster.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  cluster.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => cluster.once("exit", (code, signal) => resolve({ code, signal })));
  await waitFor(
    "the cluster to be up",
    async () => {
      if (cluster.exitCode !== null) throw new Error(`npm run cluster exited (${cluster.exitCode}):\n${output.slice(-3000)}`);
      return existsSync(stateFile);
    },
    150_000,
  );
  state = JSON.parse(readFileSync(stateFile, "utf8")) as ClusterState;
  owner = await signUp(state.url, "Cluster Owner");
}, 180_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  if (cluster && cluster.exitCode === null) {
    cluster.kill("SIGKILL"); // only when the stop test did not run or failed; its exit handler kills the children
    await exited;
  }
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${new URL(databaseUrl).pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
  rmSync(tempDir, { recursive: true, force: true });
}, 60_000);

describe("npm run cluster: Caddy in front of 2 × server, 2 × collab, 2 × worker", () => {
  it("an API client's run goes through the proxy and a worker executes it", async () => {
    const definition = {
      schemaVersion: 1,
      name: "Through the proxy",
      description: "",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        { id: "double", type: "transform", name: "Double", config: { expression: "input.n * 2" }, position: { x: 200, y: 0 } },
      ],
      edges: [{ id: "e1", source: "start", target: "double" }],
    };
    const created = ok(
      await gql(state.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: owner.workspaceId, name: definition.name, definition } }, owner.token),
    );
    const workflowId = created.createWorkflow.id as string;
    const runs = await Promise.all(
      [1, 2, 3, 4].map(async (n) => ok(await gql(state.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { n } } }, owner.token)).startRun.id as string),
    );
    for (const [index, runId] of runs.entries()) {
      const run = await waitFor(
        `run ${runId} to finish`,
        async () => {
          const read = ok(await gql(state.url, `query($id: ID!) { run(id: $id) { status steps { stepId status output } } }`, { id: runId }, owner.token)).run;
          return ["succeeded", "failed", "canceled"].includes(read.status) ? read : null;
        },
        30_000,
      );
      expect(run.status).toBe("succeeded");
      expect(run.steps.find((step: { stepId: string }) => step.stepId === "double").output).toBe((index + 1) * 2);
    }
  }, 60_000);

  it("two co-editors on the two collab processes converge (routed by the proxy's /collab/ rule)", async () => {
    const created = ok(
      await gql(state.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: owner.workspaceId, name: "Co-edited" } }, owner.token),
    );
    const workflowId = created.createWorkflow.id as string;
    const first = connectClient(state.url, workflowId, owner.token);
    clients.push(first);
    await waitSynced(first);
    const second = connectClient(state.url, workflowId, owner.token);
    clients.push(second);
    await waitSynced(second);
    // least_conn put the second socket on the other collab process: one open socket on each.
    const counts = await inFlight();
    expect(state.collabs.map((collab) => counts.get(collab.port))).toEqual([1, 1]);
    for (const collab of state.collabs) {
      const health = (await (await fetch(`http://127.0.0.1:${collab.port}/healthz`)).json()) as { rooms?: number };
      if (health.rooms !== undefined) expect(health.rooms, collab.name).toBeGreaterThanOrEqual(1);
    }

    for (let i = 0; i < 10; i++) {
      docMaps(first.doc).steps.set(`a${i}`, createStepMap({ id: `a${i}`, type: "transform", name: `A ${i}`, config: { expression: "1" }, position: { x: i * 10, y: 0 } }));
      docMaps(second.doc).steps.set(`b${i}`, createStepMap({ id: `b${i}`, type: "transform", name: `B ${i}`, config: { expression: "2" }, position: { x: i * 10, y: 100 } }));
    }
    await waitFor(
      "both editors to hold the same 20 new steps",
      async () => {
        const [a, b] = [docDefinition(first.doc), docDefinition(second.doc)];
        return a.steps.length >= 20 && JSON.stringify(a) === JSON.stringify(b);
      },
      15_000,
    );
    expect(docDefinition(first.doc).steps.map((step) => step.id).sort()).toEqual(docDefinition(second.doc).steps.map((step) => step.id).sort());
  }, 60_000);

  it("graphql-ws sockets and studio pages are served by both servers through the proxy", async () => {
    // Not lazy: each socket stays open after its query, so the second one goes to the less busy server.
    const connect = async (): Promise<Client> => {
      let connected!: () => void;
      const open = new Promise<void>((resolve) => (connected = resolve));
      const client = createClient({ url: state.url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, connectionParams: { token: owner.token }, lazy: false, retryAttempts: 0, on: { connected: () => connected() } });
      await open;
      return client;
    };
    const sockets = [await connect(), await connect()];
    try {
      for (const socket of sockets) {
        // A query over the socket: the server it landed on authenticated and answered it.
        const answer = await new Promise<any>((resolve, reject) => {
          let result: unknown;
          socket.subscribe({ query: "{ me { id } }" }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
        });
        expect(answer.data.me.id).toBe(owner.userId);
      }
      // Both sockets are open: least_conn gave each server one.
      const counts = await inFlight();
      expect(state.servers.map((server) => counts.get(server.port))).toEqual([1, 1]);
    } finally {
      for (const socket of sockets) await socket.dispose();
    }
    const page = await fetch(`${state.url}/login`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<html");
  }, 30_000);

  it("docker-compose.yml's healthcheck commands pass against the real processes", async () => {
    const compose = resolvedCompose({ ...readDotEnv(".env.example"), JWT_SECRET: "x".repeat(32), CREDENTIALS_KEY: Buffer.alloc(32).toString("base64"), POSTGRES_PASSWORD: "p" });
    const members = { server: state.servers, collab: state.collabs, worker: state.workers };
    const checks = APP_SERVICES.flatMap((role) => {
      const service = compose.services[role]!;
      const composePort = healthcheckUrl(service)!.port;
      const [, command, ...args] = service.healthcheck!.test; // ["CMD", "node", "-e", "…"]
      // One process per role: the command is the same for every replica.
      return members[role].slice(0, 1).map((member) => ({ name: member.name, command: command!, args: args.map((arg) => arg.replace(`:${composePort}/`, `:${member.port}/`)) }));
    });
    const results = await Promise.all(
      checks.map(
        (check) =>
          new Promise<string>((resolve) => {
            const child = spawn(check.command, check.args, { stdio: "ignore" });
            const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
            child.once("exit", (code) => (clearTimeout(timer), resolve(`${check.name}: exit ${code}`)));
          }),
      ),
    );
    expect(results).toEqual(checks.map((check) => `${check.name}: exit 0`));
  }, 30_000);

  it("a server killed outright costs no request: the proxy sends each to the server still up", async () => {
    const [killed, survivor] = state.servers;
    process.kill(killed!.pid, "SIGKILL");
    await waitFor("the killed server to be gone", async () => !isRunning(killed!.pid));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await fetch(`${state.url}/healthz`)).status);
    expect(statuses).toEqual(Array(20).fill(200));
    const api = ok(await gql(state.url, `{ me { id } }`, {}, owner.token));
    expect(api.me.id).toBe(owner.userId);
    expect(isRunning(survivor!.pid)).toBe(true);
  }, 30_000);

  it("SIGTERM stops every process the cluster started, and it exits 0", async () => {
    const pids = [state.proxy.pid, ...state.servers, ...state.collabs, ...state.workers].map((member) => (typeof member === "number" ? member : member.pid)).filter(isRunning);
    expect(pids).toHaveLength(6); // all but the server the test before killed
    for (const client of clients.splice(0)) client.destroy();
    cluster.kill("SIGTERM");
    const result = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 45_000))]);
    expect(result, `the cluster did not exit within 45 s:\n${output.slice(-2000)}`).toEqual({ code: 0, signal: null });
    expect(pids.filter(isRunning)).toEqual([]);
    expect(await fetch(`${state.url}/healthz`).then(() => "answered", () => "refused")).toBe("refused");
  }, 60_000);
});
