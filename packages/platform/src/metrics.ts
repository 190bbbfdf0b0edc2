import { timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The Prometheus series of every process (docs/observability.md), served at `/metrics`. One registry per
 * process: `npm start` runs server, collab and worker in one process, so its /metrics holds all three.
 *
 * Labels are bounded and carry no tenant data: no ids, no names people chose — a route pattern, an operation
 * type and the schema field it starts at, a step type from the registry, a status from a fixed list.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: "algo_" });

const registers = [metricsRegistry];
/** Seconds, from 1 ms to 1 min: requests, appends and steps all fit. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds, from 10 ms to 1 h: runs and waits in the queue. */
const LONG_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

// ---------- server ----------
export const httpRequests = new Counter({
  name: "algo_http_requests_total",
  help: "HTTP requests answered, by method, route pattern and status code",
  labelNames: ["method", "route", "status"] as const,
  registers,
});
export const httpRequestDuration = new Histogram({
  name: "algo_http_request_duration_seconds",
  help: "Time to answer an HTTP request (headers sent), by method and route pattern",
  labelNames: ["method", "route"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
export const graphqlOperations = new Counter({
  name: "algo_graphql_operations_total",
  help: "GraphQL operations executed, by type (query, mutation, subscription), first root field and outcome (ok, error)",
  labelNames: ["type", "field", "outcome"] as const,
  registers,
});
export const graphqlOperationDuration = new Histogram({
  name: "algo_graphql_operation_duration_seconds",
  help: "Execution time of GraphQL queries and mutations (subscriptions: until the stream is set up), by type and first root field",
  labelNames: ["type", "field"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

// ---------- worker ----------
export const queueJobs = new Gauge({
  name: "algo_queue_jobs",
  help: "Jobs in each BullMQ queue, by state (waiting, active, delayed, failed), read from Redis at scrape time",
  labelNames: ["queue", "state"] as const,
  registers,
  async collect() {
    this.reset();
    for (const source of queueSources) {
      const counts = await source().catch(() => []); // Redis down: the health endpoint says so; no stale figure
      for (const { queue, state, count } of counts) this.set({ queue, state }, count);
    }
  },
});
export const queueWorkers = new Gauge({
  name: "algo_queue_workers",
  help: "Worker connections listening on each BullMQ queue (all processes), read from Redis at scrape time",
  labelNames: ["queue"] as const,
  registers,
  async collect() {
    this.reset();
    for (const source of workerSources) {
      const counts = await source().catch(() => []);
      for (const { queue, workers } of counts) this.set({ queue }, workers);
    }
  },
});
export const queueWait = new Histogram({
  name: "algo_queue_wait_seconds",
  help: "Time a run's job waited in the queue before a worker took it (first delivery)",
  labelNames: ["queue"] as const,
  buckets: LONG_BUCKETS,
  registers,
});
export const runsFinished = new Counter({
  name: "algo_runs_finished_total",
  help: "Runs this worker finished, by final status",
  labelNames: ["status"] as const,
  registers,
});
export const runDuration = new Histogram({
  name: "algo_run_duration_seconds",
  help: "Time from a run's start to its final status (delays included), by final status",
  labelNames: ["status"] as const,
  buckets: LONG_BUCKETS,
  registers,
});
export const stepAttempts = new Counter({
  name: "algo_step_attempts_total",
  help: "Step attempts this worker executed, by step type and the status the ledger recorded",
  labelNames: ["type", "status"] as const,
  registers,
});
export const stepAttemptDuration = new Histogram({
  name: "algo_step_attempt_duration_seconds",
  help: "Duration of one step attempt (the ledger's startedAt to finishedAt), by step type and status",
  labelNames: ["type", "status"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

// ---------- collab ----------
export const collabRooms = new Gauge({
  name: "algo_collab_rooms",
  help: "Workflow documents loaded in this collab process",
  registers,
  async collect() {
    this.set(sum(await Promise.all([...collabSources].map((source) => source().then((figures) => figures.rooms)))));
  },
});
export const collabSockets = new Gauge({
  name: "algo_collab_sockets",
  help: "y-websocket connections joined to a room in this collab process",
  registers,
  async collect() {
    this.set(sum(await Promise.all([...collabSources].map((source) => source().then((figures) => figures.sockets)))));
  },
});
export const collabMessages = new Counter({
  name: "algo_collab_messages_total",
  help: "Messages received from y-websocket clients, by kind (update, sync, awareness, other)",
  labelNames: ["kind"] as const,
  registers,
});
export const collabMessageDuration = new Histogram({
  name: "algo_collab_message_duration_seconds",
  help: "Time to handle one client message; for kind=update this is the durable append (PostgreSQL) before the broadcast",
  labelNames: ["kind"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});
export const collabRelayLag = new Histogram({
  name: "algo_collab_relay_lag_seconds",
  help: "Relay lag: from an update being durable to Redis handing it to the other processes (publish retries included)",
  buckets: LATENCY_BUCKETS,
  registers,
});

// ---------- sources read at scrape time ----------
type QueueCounts = { queue: string; state: string; count: number }[];
type WorkerCounts = { queue: string; workers: number }[];
export interface CollabFigures {
  rooms: number;
  sockets: number;
}
const queueSources = new Set<() => Promise<QueueCounts>>();
const workerSources = new Set<() => Promise<WorkerCounts>>();
const collabSources = new Set<() => Promise<CollabFigures>>();
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** The queue states the gauges and the operations page show. */
export const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;

/** Queues whose depth and workers the process reports (the worker's); returns the removal. */
export function reportQueues(queues: { name: string; getJobCounts(...states: string[]): Promise<Record<string, number>>; getWorkersCount(): Promise<number> }[]): () => void {
  const depth = async () =>
    (await Promise.all(queues.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...QUEUE_STATES) })))).flatMap(({ queue, counts }) =>
      QUEUE_STATES.map((state) => ({ queue, state, count: counts[state] ?? 0 })),
    );
  const workers = async () => Promise.all(queues.map(async (queue) => ({ queue: queue.name, workers: await queue.getWorkersCount() })));
  queueSources.add(depth);
  workerSources.add(workers);
  return () => {
    queueSources.delete(depth);
    workerSources.delete(workers);
  };
}

/** A collab service's rooms and sockets, read at scrape time; returns the removal. */
export function reportCollab(figures: () => Promise<CollabFigures>): () => void {
  collabSources.add(figures);
  return () => void collabSources.delete(figures);
}

/** The y-websocket message kind of a client message (y-protocols: 0 sync [0 step1, 1 step2, 2 update], 1 awareness). */
export function collabMessageKind(data: Uint8Array): "update" | "sync" | "awareness" | "other" {
  if (data[0] === 0) return data[1] === 0 ? "sync" : "update";
  if (data[0] === 1) return "awareness";
  return "other";
}

/**
 * The answer to `GET /metrics`. With METRICS_TOKEN set, only `Authorization: Bearer <token>` gets the series
 * (401 otherwise); without it /metrics is open — the series hold no tenant data (see the top of this file).
 */
export async function metricsResponse(token: string | undefined, authorization: string | null | undefined): Promise<{ status: number; contentType: string; body: string }> {
  const expected = Buffer.from(`Bearer ${token ?? ""}`);
  const given = Buffer.from(authorization ?? "");
  if (token && (given.length !== expected.length || !timingSafeEqual(given, expected))) {
    return {
      status: 401,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "UNAUTHENTICATED", message: "GET /metrics with Authorization: Bearer <METRICS_TOKEN>" } }),
    };
  }
  return { status: 200, contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

/** Handles one client message of a collab socket, counting it and timing it by kind. */
export async function observeCollabMessage(data: Uint8Array, handle: () => Promise<void>): Promise<void> {
  const kind = collabMessageKind(data);
  const startedAt = performance.now();
  await handle();
  collabMessages.inc({ kind });
  collabMessageDuration.observe({ kind }, (performance.now() - startedAt) / 1000);
}
