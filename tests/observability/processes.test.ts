/**
 * Observability of the real processes (docs/observability.md): server, collab and worker started as
 * `npm run server|collab|worker` start them, on a private database (the worker's reconciler must not touch
 * other suites' runs), exporting traces to a loopback OTLP/HTTP receiver. After real traffic — a run with a
 * retried, failing step, a co-edit — the spans form the documented structure (O1–O3), every process's
 * /metrics series moved (O4–O6) with bounded labels and no ids (O7), METRICS_TOKEN guards /metrics (O8) and
 * /healthz names each dependency (O9).
 */
import { applyMigrations, ensureDatabase } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { connectClient, freePort, startServiceProcess, waitSynced, type CollabClient, type CollabProcess } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { graphql, signUpUser, startEchoServer, waitFor } from "../support/stack.js";
import { scrape, startOtlpReceiver, valueOf, type ReceivedSpan, type Sample } from "./support.js";

const METRICS_TOKEN = "collab-metrics-token-0123456789";
const databaseName = `algo_obs_${randomBytes(4).toString("hex")}`;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let server: CollabProcess;
let collab: CollabProcess;
let worker: CollabProcess & { healthUrl: string };
let user: Awaited<ReturnType<typeof signUpUser>>;
let runId = "";
let workflowId = "";
const before: Record<string, Sample[]> = {};

function privateDatabaseUrl(): string {
  const url = new URL(inject("databaseUrl"));
  url.pathname = `/${databaseName}`;
  return url.toString();
}

beforeAll(async () => {
  [receiver, echo] = await Promise.all([startOtlpReceiver(), startEchoServer()]);
  await ensureDatabase(privateDatabaseUrl());
  await applyMigrations(privateDatabaseUrl(), path.resolve("prisma/migrations"));
  const env = testEnv({ DATABASE_URL: privateDatabaseUrl() });
  const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, HTTP_ALLOW_HOSTS: "127.0.0.1,localhost" };
  const [serverPort, collabPort, workerPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // A generous start bound: three processes compiling with tsx at once on a busy 2-core machine take a while.
  const bound = { timeoutMs: 90_000 };
  const settled = await Promise.allSettled([
    startServiceProcess("server/main.ts", env, { ...traced, PORT: String(serverPort) }, bound),
    startServiceProcess("collab/main.ts", env, { ...traced, COLLAB_PORT: String(collabPort), METRICS_TOKEN }, bound),
    startServiceProcess("worker/main.ts", env, { ...traced, WORKER_HEALTH_PORT: String(workerPort), LOG_LEVEL: "info" }, { ...bound, readyWhen: /worker health listening/ }),
  ]);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    // The ones that did start must not outlive the test.
    await Promise.all(settled.map((result) => (result.status === "fulfilled" ? result.value.stop("SIGKILL").catch(() => {}) : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const started = settled.map((result) => (result as PromiseFulfilledResult<CollabProcess>).value);
  [server, collab] = started as [CollabProcess, CollabProcess];
  worker = Object.assign(started[2]!, { healthUrl: `http://127.0.0.1:${workerPort}` });
  before.server = await scrape(server.url);
  before.worker = await scrape(worker.healthUrl);
  before.collab = await scrape(collab.url, METRICS_TOKEN);

  // Real traffic: a user, a workflow whose second step fails twice (retried once), a run of it, a co-edit.
  user = await signUpUser(server.url);
  const created = await graphql(
    server.url,
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`,
    {
      input: {
        workspaceId: user.workspaceId,
        name: "Observed",
        definition: {
          name: "Observed",
          steps: [
            { id: "start", type: "trigger.manual", config: {} },
            { id: "fetch", type: "http.request", config: { method: "GET", url: `${echo.url}/ok` } },
            { id: "flaky", type: "http.request", config: { method: "GET", url: `${echo.url}/fail`, retry: { maxAttempts: 2, backoffMs: 50 } } },
          ],
          edges: [
            { id: "e1", source: "start", target: "fetch" },
            { id: "e2", source: "fetch", target: "flaky" },
          ],
        },
      },
    },
    user.token,
  );
  workflowId = created.data!.createWorkflow.id;
  const started2 = await graphql(server.url, `mutation Go($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, user.token);
  runId = started2.data!.startRun.id;
  await waitFor(
    "the run to fail",
    async () => (await graphql(server.url, `query($id: ID!) { run(id: $id) { status } }`, { id: runId }, user.token)).data?.run.status === "failed",
    20_000,
  );
}, 180_000);

afterAll(async () => {
  await Promise.all([server, collab, worker].filter(Boolean).map((child) => child.stop("SIGTERM").catch(() => {})));
  await Promise.all([receiver?.close(), echo?.close()]);
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.end();
}, 30_000);

const spansOfRun = () => receiver.spans.filter((span) => span.attributes["run.id"] === runId || span.traceId === receiver.spans.find((root) => root.name === "workflow.run" && root.attributes["run.id"] === runId)?.traceId);

describe("traces", () => {
  it("O1: a run is one trace: workflow.run, a run.delivery under it, a step.attempt per ledger row under that", async () => {
    const root = await waitFor("the workflow.run span", async () => receiver.spans.find((span) => span.name === "workflow.run" && span.attributes["run.id"] === runId), 15_000);
    expect(root.service).toBe("algorythmos-worker");
    expect(root.parentSpanId).toBe("");
    expect(root.attributes["run.status"]).toBe("failed");
    expect(root.status.code).toBe(2); // ERROR
    const attempts = await waitFor("the four step.attempt spans", async () => {
      const found = receiver.spans.filter((span) => span.traceId === root.traceId && span.name === "step.attempt");
      return found.length >= 4 && found;
    });
    const deliveries = receiver.spans.filter((span) => span.traceId === root.traceId && span.name === "run.delivery");
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.parentSpanId).toBe(root.spanId);
    for (const attempt of attempts) expect(attempt.parentSpanId).toBe(deliveries[0]!.spanId);
    const summary = attempts
      .map((span) => `${span.attributes["step.id"]}#${span.attributes["step.attempt"]} ${span.attributes["step.status"]}${span.attributes["step.retried"] ? " retried" : ""}`)
      .sort();
    expect(summary).toEqual(["fetch#1 succeeded", "flaky#1 failed retried", "flaky#2 failed", "start#1 succeeded"]);
  });

  it("O2: a step.attempt span carries the ledger's timings and its error", async () => {
    const rows = await withDb((client) =>
      client.query<{ stepId: string; attempt: number; startedAt: Date; finishedAt: Date; error: string | null }>(
        `SELECT "stepId", attempt, "startedAt", "finishedAt", error FROM "RunStep" WHERE "runId" = $1`,
        [runId],
      ),
    );
    const spans = spansOfRun().filter((span) => span.name === "step.attempt");
    expect(spans).toHaveLength(rows.rows.length);
    for (const row of rows.rows) {
      const span = spans.find((candidate) => candidate.attributes["step.id"] === row.stepId && candidate.attributes["step.attempt"] === row.attempt)!;
      expect(BigInt(span.startTimeUnixNano) / 1_000_000n).toBe(BigInt(row.startedAt.getTime()));
      expect(BigInt(span.endTimeUnixNano) / 1_000_000n).toBe(BigInt(row.finishedAt.getTime()));
      if (row.error) {
        expect(span.attributes["step.error"]).toBe(row.error);
        expect(span.status.code).toBe(2);
      }
    }
  });

  it("O3: the run links to the request that enqueued it: the startRun operation, under its HTTP request span", async () => {
    const root = spansOfRun().find((span) => span.name === "workflow.run")!;
    expect(root.links).toHaveLength(1);
    const operation = receiver.spans.find((span) => span.spanId === root.links[0]!.spanId);
    expect(operation, "the linked span was exported by the server").toBeDefined();
    expect(operation!.service).toBe("algorythmos-server");
    expect(operation!.name).toBe("graphql.mutation startRun");
    expect(operation!.attributes["graphql.operation.name"]).toBe("Go");
    const request = receiver.spans.find((span) => span.spanId === operation!.parentSpanId)!;
    expect(request.name).toBe("POST /graphql");
    expect(request.attributes["http.response.status_code"]).toBe(200);
    expect(request.traceId).toBe(operation!.traceId);
    expect(root.traceId).not.toBe(operation!.traceId); // a run is a trace of its own
  });
});

describe("metrics", () => {
  it("O4: the server's request and operation series moved", async () => {
    const after = await scrape(server.url);
    const moved = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before.server!, name, labels);
    expect(moved("algo_http_requests_total", { method: "POST", route: "/graphql", status: "200" })).toBeGreaterThanOrEqual(4);
    expect(moved("algo_http_request_duration_seconds_count", { method: "POST", route: "/graphql" })).toBeGreaterThanOrEqual(4);
    expect(moved("algo_graphql_operations_total", { type: "mutation", field: "startRun", outcome: "ok" })).toBe(1);
    expect(moved("algo_graphql_operations_total", { type: "mutation", field: "signUp", outcome: "ok" })).toBe(1);
    expect(moved("algo_graphql_operation_duration_seconds_count", { type: "query", field: "run" })).toBeGreaterThanOrEqual(1);
  });

  it("O5: the worker's run, step and queue series moved", async () => {
    const after = await waitFor("the run metrics", async () => {
      const samples = await scrape(worker.healthUrl);
      return valueOf(samples, "algo_runs_finished_total", { status: "failed" }) >= 1 && samples;
    });
    const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before.worker!, name, labels);
    expect(moved("algo_runs_finished_total", { status: "failed" })).toBe(1);
    expect(moved("algo_run_duration_seconds_count", { status: "failed" })).toBe(1);
    expect(moved("algo_step_attempts_total", { type: "http.request", status: "failed" })).toBe(2);
    expect(moved("algo_step_attempts_total", { type: "http.request", status: "succeeded" })).toBe(1);
    expect(moved("algo_step_attempt_duration_seconds_count", { type: "trigger.manual", status: "succeeded" })).toBe(1);
    expect(moved("algo_queue_wait_seconds_count", { queue: "runs" })).toBe(1);
    for (const state of ["waiting", "active", "delayed", "failed"]) {
      expect(after.some((sample) => sample.name === "algo_queue_jobs" && sample.labels.queue === "runs" && sample.labels.state === state)).toBe(true);
    }
    expect(valueOf(after, "algo_queue_workers", { queue: "runs" })).toBeGreaterThanOrEqual(1);
  });

  it("O6: the collab process's rooms, sockets, update rate, append latency and relay lag moved", async () => {
    const client: CollabClient = connectClient(collab.url, workflowId, user.token);
    try {
      await waitSynced(client);
      client.doc.getMap("observed").set("edit", 1);
      const after = await waitFor("the update to be counted", async () => {
        const samples = await scrape(collab.url, METRICS_TOKEN);
        return valueOf(samples, "algo_collab_messages_total", { kind: "update" }) > valueOf(before.collab!, "algo_collab_messages_total", { kind: "update" }) && samples;
      });
      expect(valueOf(after, "algo_collab_rooms")).toBe(1);
      expect(valueOf(after, "algo_collab_sockets")).toBe(1);
      expect(valueOf(after, "algo_collab_message_duration_seconds_count", { kind: "update" })).toBeGreaterThanOrEqual(1);
      const lag = await waitFor("the relay publish", async () => {
        const samples = await scrape(collab.url, METRICS_TOKEN);
        return valueOf(samples, "algo_collab_relay_lag_seconds_count") >= 1 && samples;
      });
      expect(valueOf(lag, "algo_collab_relay_lag_seconds_sum")).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });

  it("O7: no label value is an id, an email or a name people chose", async () => {
    const all = [...(await scrape(server.url)), ...(await scrape(worker.healthUrl)), ...(await scrape(collab.url, METRICS_TOKEN))];
    const values = new Set(all.flatMap((sample) => Object.values(sample.labels)));
    const leaks = [...values].filter((value) => /(wf|run|rst|usr|ws|tok)_[A-Za-z0-9]/.test(value) || value.includes("@") || value === "Observed" || value === "Go" || value.includes(workflowId));
    expect(leaks).toEqual([]);
    expect(values.has(runId)).toBe(false);
  });

  it("O8: with METRICS_TOKEN set, /metrics answers 401 JSON without the token or with a wrong one", async () => {
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${METRICS_TOKEN}x`]) {
      const response = await fetch(`${collab.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    }
  });
});

describe("health", () => {
  it("O9: every process's /healthz names each dependency with its status; the worker's includes its queue", async () => {
    const [serverHealth, collabHealth, workerHealth] = await Promise.all(
      [server.url, collab.url, worker.healthUrl].map(async (url) => {
        const response = await fetch(`${url}/healthz`);
        expect(response.status).toBe(200);
        return (await response.json()) as { status: string; database: string; redis: string; dependencies: Record<string, { status: string; latencyMs: number }> };
      }),
    );
    for (const health of [serverHealth, collabHealth, workerHealth]) {
      expect(health).toMatchObject({ status: "ok", database: "ok", redis: "ok", dependencies: { postgres: { status: "ok" }, redis: { status: "ok" } } });
      expect(health!.dependencies.postgres!.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(workerHealth!.dependencies).sort()).toEqual(["postgres", "queue", "redis"]);
    expect(workerHealth!.dependencies.queue!.status).toBe("ok");
    expect(collabHealth).toHaveProperty("rooms");
  });
});

async function withDb<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: privateDatabaseUrl() });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
