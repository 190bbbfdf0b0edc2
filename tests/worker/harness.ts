/** Worker tests: real PostgreSQL and Redis (tests/support/env.ts), rows made with Prisma, runs enqueued on BullMQ. */
import { FINAL_RUN_STATUSES, newId, type RunStatus, type WorkflowDefinitionInput } from "@algorythmos/domain";
import {
  bytes,
  closeRedis,
  createDb,
  createLogger,
  createRedis,
  createRunQueue,
  enqueueRun,
  json,
  storedRunEvents,
  type Db,
  type Env,
} from "@algorythmos/platform";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { startRunWorker } from "../../worker/run-worker.js";
import { testEnv } from "../support/env.js";

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
  waitForFinal(runId: string): Promise<FinishedRun>;
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
  const waitForFinal = async (runId: string): Promise<FinishedRun> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const run = await db.run.findUniqueOrThrow({
        where: { id: runId },
        select: { id: true, status: true, output: true, error: true, startedAt: true, finishedAt: true },
      });
      if (FINAL_RUN_STATUSES.includes(run.status)) {
        const steps = await db.runStep.findMany({
          where: { runId },
          orderBy: [{ stepId: "asc" }, { attempt: "asc" }],
          select: { stepId: true, attempt: true, status: true, input: true, output: true, error: true },
        });
        const events = (await storedRunEvents(db, runId)).map(({ type, stepId, status, output, error }) => ({ type, stepId, status, output, error }));
        return { ...run, steps, events };
      }
      if (Date.now() > deadline) throw new Error(`Run ${runId} did not finish (status ${run.status})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
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
  const routes: Record<string, (request: IncomingMessage, response: ServerResponse, body: string) => void> = {
    "/json": (request, response, body) =>
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, method: request.method, echo: body || null })),
    "/text": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("plain text"),
    "/fail": (_request, response) => response.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "boom" })),
    "/missing": (_request, response) => response.writeHead(404, { "content-type": "text/plain" }).end("no such thing"),
    "/redirect": (_request, response) => response.writeHead(302, { location: "/json" }).end(),
    "/loop": (_request, response) => response.writeHead(302, { location: "/loop" }).end(),
"/v1/chat/completions": (request, response, body) => {
      if (request.headers.authorization !== "Bearer sk-test") {
        response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "Incorrect API key", type: "invalid_request_error" } }));
        return;
      }
      const { model, messages } = JSON.parse(body) as { model: string; messages: { content: string }[] };
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 1,
          model,
          choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: `echo: ${messages.at(-1)!.content}` } }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        }),
      );
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
