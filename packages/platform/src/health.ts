import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Db } from "./db.js";
import { metricsResponse } from "./metrics.js";
import type { Redis } from "./redis.js";

/**
 * Health of a process and what it depends on (docs/observability.md). Every process answers `GET /healthz`
 * with the same shape: `status` (ok, degraded, starting — 200 only for ok), one entry per dependency in
 * `dependencies`, and, for probes and tools written before that, `database` and `redis` as "ok" or "down: …".
 */
export interface DependencyHealth {
  status: "ok" | "down";
  latencyMs: number;
  error?: string;
}

export type DependencyCheck = () => Promise<unknown>;

export interface HealthReport {
  status: "ok" | "degraded" | "starting";
  database: string;
  redis: string;
  dependencies: Record<string, DependencyHealth>;
}

/** A dependency slower than this is reported down: a probe must answer even when PostgreSQL hangs. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

export const postgresCheck = (db: Db): DependencyCheck => () => db.$queryRaw`SELECT 1`;
export const redisCheck = (redis: Redis): DependencyCheck => () => redis.ping();

/** Runs every check at once, each bounded by HEALTH_CHECK_TIMEOUT_MS. */
export async function checkDependencies(checks: Record<string, DependencyCheck>): Promise<Record<string, DependencyHealth>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyHealth]> => {
      const startedAt = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, { status: "ok", latencyMs: Math.round((performance.now() - startedAt) * 10) / 10 }];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [name, { status: "down", latencyMs: Math.round((performance.now() - startedAt) * 10) / 10, error: message.slice(0, 200) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The process's health: ok when it is ready and every dependency answers. Checks named postgres and redis fill the older fields. */
export async function healthReport(ready: boolean, checks: Record<string, DependencyCheck>): Promise<{ httpStatus: 200 | 503; body: HealthReport }> {
  const dependencies = await checkDependencies(checks);
  const legacy = (name: string) => {
    const entry = dependencies[name];
    return !entry ? "not used" : entry.status === "ok" ? "ok" : `down: ${entry.error}`;
  };
  const healthy = ready && Object.values(dependencies).every((entry) => entry.status === "ok");
  return {
    httpStatus: healthy ? 200 : 503,
    body: { status: healthy ? "ok" : ready ? "degraded" : "starting", database: legacy("postgres"), redis: legacy("redis"), dependencies },
  };
}

/**
 * `GET /healthz` and `GET /metrics` for a process's own node:http server (collab, worker). Returns false for
 * any other path, which the caller answers. `extra` adds process figures to the health body (collab: rooms).
 */
export async function answerHealthOrMetrics(
  request: IncomingMessage,
  response: ServerResponse,
  options: { ready: () => boolean; checks: Record<string, DependencyCheck>; metricsToken?: string; extra?: () => Record<string, unknown> },
): Promise<boolean> {
  const path = (request.url ?? "").split("?")[0];
  if (path === "/healthz") {
    const { httpStatus, body } = await healthReport(options.ready(), options.checks);
    response.writeHead(httpStatus, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ ...body, ...options.extra?.() }));
    return true;
  }
  if (path === "/metrics") {
    const { status, contentType, body } = await metricsResponse(options.metricsToken, request.headers.authorization);
    response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" }).end(body);
    return true;
  }
  return false;
}

/** A process's own health and metrics listener (the worker's WORKER_HEALTH_PORT); port 0 takes a free one. */
export async function startHealthServer(options: {
  host: string;
  port: number;
  ready: () => boolean;
  checks: Record<string, DependencyCheck>;
  metricsToken?: string;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    answerHealthOrMetrics(request, response, options)
      .then((answered) => {
        if (!answered) response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "NOT_FOUND", message: "GET /healthz or /metrics" } }));
      })
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------- collab rooms, shared for the operations page ----------

export interface RoomFigures {
  workflowId: string;
  workspaceId: string;
  connections: number;
}

/** Each collab process rewrites its rooms this often; an entry older than three periods is a process gone. */
export const COLLAB_HEARTBEAT_MS = 5_000;
const heartbeatKey = (prefix: string) => `${prefix}ops:collab`;

/** The loaded rooms of a collab service (`CollabService.rooms`), skipping ones still loading or failed. */
export async function roomFigures(rooms: Map<string, Promise<{ workspaceId: string; connections: { size: number } }>>): Promise<RoomFigures[]> {
  const settled = await Promise.all(
    [...rooms].map(async ([workflowId, pending]) => {
      const room = await Promise.race([pending, Promise.resolve(null)]).catch(() => null);
      return room ? { workflowId, workspaceId: room.workspaceId, connections: room.connections.size } : null;
    }),
  );
  return settled.filter((entry): entry is RoomFigures => entry !== null);
}

/**
 * Publishes this collab process's rooms to Redis every COLLAB_HEARTBEAT_MS (one hash field per process), so
 * the server's operations page sees every process's rooms. Returns the stop, which removes the entry.
 */
export function startCollabHeartbeat(redis: Redis, prefix: string, figures: () => Promise<RoomFigures[]>): () => Promise<void> {
  const instance = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const beat = async () => {
    const value = JSON.stringify({ at: Date.now(), rooms: await figures() });
    await redis.hset(heartbeatKey(prefix), instance, value);
  };
  const timer = setInterval(() => void beat().catch(() => {}), COLLAB_HEARTBEAT_MS); // Redis down: the entry ages out
  timer.unref();
  void beat().catch(() => {});
  return async () => {
    clearInterval(timer);
    await redis.hdel(heartbeatKey(prefix), instance).catch(() => {});
  };
}

/** Every live collab process's rooms (entries older than three heartbeats are dropped, and removed). */
export async function readCollabRooms(redis: Redis, prefix: string): Promise<{ processes: number; rooms: RoomFigures[] }> {
  const entries = await redis.hgetall(heartbeatKey(prefix));
  const now = Date.now();
  const rooms: RoomFigures[] = [];
  let processes = 0;
  const stale: string[] = [];
  for (const [instance, value] of Object.entries(entries)) {
    const parsed = JSON.parse(value) as { at: number; rooms: RoomFigures[] };
    if (now - parsed.at > 3 * COLLAB_HEARTBEAT_MS) {
      stale.push(instance);
      continue;
    }
    processes++;
    rooms.push(...parsed.rooms);
  }
  if (stale.length) await redis.hdel(heartbeatKey(prefix), ...stale);
  return { processes, rooms };
}
