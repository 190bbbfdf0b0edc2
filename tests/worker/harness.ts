/** Worker tests: real PostgreSQL and Redis (tests/support/env.ts), rows made with Prisma, runs enqueued on BullMQ. */
import { FINAL_RUN_STATUSES, newId, type RunStatus, type WorkflowDefinitionInput } from "@algorythmos/domain";
import {
  bytes,
  cancelRunChannel,
  closeRedis,
  createDb,
  createLogger,
  createRedis,
  createRunQueue,
  enqueueRun,
  json,
  stopRun,
  storedRunEvents,
  type Db,
  type Env,
} from "@algorythmos/platform";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { startRunWorker } from "../../worker/run-worker.js";
import { testEnv } from "../support/env.js";
import { listenOnLoopback } from "../support/http.js";

export interface Harness {
  env: Env;
  db: Db;
  queue: ReturnType<typeof createRunQueue>;
  /** A workspace + workflow to hang runs on. */
  workflowId: string;
  workspaceId: string;
  createRun(definition: unknown, input?: unknown): Promise<string>;
  /** Creates and enqueues a run, then waits for its final state. */
  run(definition: unknown, input?: unknown): Promise<FinishedRun>;
  enqueue(runId: string): Promise<void>;
  /** Starts (another) worker on this harness's queue; closed with the harness. */
  startWorker(drainTimeoutMs?: number): Promise<{ close(): Promise<void> }>;
  /** Waits until the run is final and its job is no longer active, waiting or delayed. */
  waitForFinal(runId: string): Promise<FinishedRun>;
  /** Reads the run's current state without waiting. */
  snapshot(runId: string): Promise<FinishedRun>;
  /** Waits until `check` is true (polling), or fails after 15 s with `what`. */
  until(what: string, check: () => Promise<boolean>): Promise<void>;
  /** Cancels a run exactly as the server's cancelRun does (platform stopRun: the state and its run.finished in one statement, then the cancel channel). */
  cancel(runId: string, by?: string): Promise<boolean>;
  /** The non-blocking connection (publishing). */
  redis: ReturnType<typeof createRedis>;
  close(): Promise<void>;
}

export interface FinishedRun {
  id: string;
  status: RunStatus;
  output: unknown;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  steps: { stepId: string; attempt: number; status: string; input: unknown; output: unknown; error: string | null }[];
  events: { type: string; stepId: string | null; status: string; output?: unknown; error?: string | null }[];
}

export async function startHarness(envOverrides: Record<string, string> = {}, options: { worker?: boolean } = {}): Promise<Harness> {
  const env = testEnv(envOverrides);
  const db = createDb(env.DATABASE_URL, { max: 4 });
  const redis = createRedis(env.REDIS_URL, { name: "test-publisher" });
  const queueConnection = createRedis(env.REDIS_URL, { name: "test-queue" });
  // A Redis restart (crash tests) is expected: reconnecting is ioredis's job, not an unhandled error.
  for (const connection of [redis, queueConnection]) connection.on("error", () => {});
  const queue = createRunQueue(queueConnection, env.REDIS_PREFIX);
  const workers: { close(): Promise<void> }[] = [];
  const startWorker = async (drainTimeoutMs = 5_000) => {
    const worker = await startRunWorker({ env, db, redis, logger: createLogger("worker-test", env.LOG_LEVEL), drainTimeoutMs });
    workers.push(worker);
    return worker;
  };
  if (options.worker !== false) await startWorker();

  const userId = newId("usr");
  const workspaceId = newId("ws");
  const workflowId = newId("wf");
  await db.user.create({ data: { id: userId, email: `${userId}@example.test`, name: "Worker test", passwordHash: "x" } });
  await db.workspace.create({ data: { id: workspaceId, name: "Worker tests" } });
  await db.membership.create({ data: { id: newId("mem"), userId, workspaceId, role: "owner" } });
  await db.workflow.create({
    data: { id: workflowId, workspaceId, name: "Worker test", definition: json({}), yjsState: bytes(new Uint8Array()) },
  });

  const createRun = async (definition: unknown, input: unknown = {}) => {
    const id = newId("run");
    await db.run.create({ data: { id, workflowId, workspaceId, definition: json(definition), trigger: "manual", input: json(input) } });
    return id;
  };
  const enqueue = (runId: string) => enqueueRun(queue, runId);
  const snapshot = async (runId: string): Promise<FinishedRun> => {
    const run = await db.run.findUniqueOrThrow({
      where: { id: runId },
      select: { id: true, status: true, output: true, error: true, startedAt: true, finishedAt: true },
    });
    const steps = await db.runStep.findMany({
      where: { runId },
      orderBy: [{ stepId: "asc" }, { attempt: "asc" }],
      select: { stepId: true, attempt: true, status: true, input: true, output: true, error: true },
    });
    const events = (await storedRunEvents(db, runId)).map(({ type, stepId, status, output, error }) => ({ type, stepId, status, output, error }));
    return { ...run, steps, events };
  };
  const until = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const waitForFinal = async (runId: string): Promise<FinishedRun> => {
    await until(`run ${runId} to finish`, async () => {
      const run = await db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } });
      if (!FINAL_RUN_STATUSES.includes(run.status)) return false;
      // The engine records its last events after the final status: wait for the job to be done with it.
      const state = await queue.getJobState(runId);
      return !["active", "waiting", "delayed", "prioritized", "waiting-children"].includes(state);
    });
    return snapshot(runId);
  };
  const cancel = async (runId: string, by = "Tester") => {
    const run = await db.run.findUniqueOrThrow({ where: { id: runId }, select: { workflowId: true } });
    const canceled = await stopRun({ db, redis, redisPrefix: env.REDIS_PREFIX }, { runId, workflowId: run.workflowId, reason: "canceled", error: `Canceled by ${by}` });
    if (!canceled) return false;
    await redis.publish(cancelRunChannel(env.REDIS_PREFIX), runId);
    return true;
  };
  return {
    env,
    db,
    queue,
    workflowId,
    workspaceId,
    createRun,
    enqueue,
    startWorker,
    waitForFinal,
    snapshot,
    until,
    cancel,
    redis,
    async run(definition, input) {
      const runId = await createRun(definition, input);
      await enqueue(runId);
      return waitForFinal(runId);
    },
    async close() {
      for (const worker of workers) await worker.close();
      await queue.close();
      await closeRedis(queueConnection);
      await closeRedis(redis);
      await db.$disconnect();
    },
  };
}

/** A definition from steps `[id, type, config]` and edges `[source, target, label?]`, with a manual trigger "start". */
export function workflow(
  steps: [string, string, Record<string, unknown>?][],
  edges: [string, string, ("true" | "false")?][],
): WorkflowDefinitionInput {
  return {
    name: "Test workflow",
    steps: [["start", "trigger.manual", {}] as const, ...steps].map(([id, type, config]) => ({ id, type, config: config ?? {} })),
    edges: edges.map(([source, target, label], index) => ({ id: `e${index}`, source, target, ...(label ? { label } : {}) })),
  };
}

export function stepStatuses(run: FinishedRun): Record<string, string> {
  const out: Record<string, string> = {};
  for (const step of run.steps) out[step.stepId] = step.status; // ordered by attempt: the latest wins
  return out;
}

/** A local HTTP endpoint for http.request steps; records every request it was asked. */
export async function startTestServer() {
  const requests: { method: string; url: string; body: string; headers: IncomingMessage["headers"] }[] = [];
  const aborted: string[] = [];
  const flaky = new Map<string, number>();
  /** /charge: the Idempotency-Keys it honoured, each with how many requests carried it (R18). */
  const charges = new Map<string, number>();
  const routes: Record<string, (request: IncomingMessage, response: ServerResponse, body: string) => void> = {
    "/json": (request, response, body) =>
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, method: request.method, echo: body || null })),
    "/text": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("plain text"),
    "/fail": (_request, response) => response.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "boom" })),
    "/missing": (_request, response) => response.writeHead(404, { "content-type": "text/plain" }).end("no such thing"),
    "/redirect": (_request, response) => response.writeHead(302, { location: "/json" }).end(),
    "/loop": (_request, response) => response.writeHead(302, { location: "/loop" }).end(),
    // Answers after `?ms=` milliseconds (default 1500).
    "/slow": (request, response) => {
      const ms = Number(new URL(request.url ?? "/", "http://x").searchParams.get("ms") ?? 1500);
      const timer = setTimeout(() => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ slow: true })), ms);
      response.on("close", () => clearTimeout(timer));
    },
    // Never answers; `aborted` records the client going away.
    "/hang": (request, response) => {
      response.on("close", () => {
        if (!response.writableFinished) aborted.push(request.url ?? "");
      });
    },
    // 503 for the first `?fail=` requests with the same `?key=`, then 200.
    "/flaky": (request, response) => {
      const params = new URL(request.url ?? "/", "http://x").searchParams;
      const key = params.get("key") ?? "";
      const seen = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, seen);
      if (seen <= Number(params.get("fail") ?? 1)) response.writeHead(503, { "content-type": "text/plain" }).end("try later");
      else response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ attempt: seen }));
    },
    // A cooperating API (R18): the first request with an Idempotency-Key takes effect (at receipt, before it
    // answers after `?ms=`); a later one with the same key gets the same answer and takes no effect again.
    "/charge": (request, response) => {
      const key = String(request.headers["idempotency-key"] ?? "");
      const seen = charges.get(key) ?? 0;
      charges.set(key, seen + 1);
      const ms = seen ? 0 : Number(new URL(request.url ?? "/", "http://x").searchParams.get("ms") ?? 0);
      const timer = setTimeout(() => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ charged: key, replayed: seen > 0 })), ms);
      response.on("close", () => clearTimeout(timer));
    },
    "/big": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(1024 * 1024 + 10)),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: request.method ?? "", url: request.url ?? "", body, headers: request.headers });
      const route = routes[new URL(request.url ?? "/", "http://x").pathname];
      if (route) route(request, response, body);
      else response.writeHead(404).end();
    });
  });
  return {
    ...(await listenOnLoopback(server)),
    requests,
    aborted,
    charges,
  };
}

/** A run's events as "type:stepId" strings (or just the type for run events), for order assertions. */
export const eventTypes = (run: { events: { type: string; stepId: string | null }[] }) =>
  run.events.map((event) => (event.stepId ? `${event.type}:${event.stepId}` : event.type));
