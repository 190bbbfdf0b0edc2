/**
 * The worker process: `npm run worker`. Executes queued runs, and runs the maintenance queue (reconciler,
 * cron triggers), until SIGINT/SIGTERM.
 */
import { closeRedis, createDb, createLogger, createRedis, loadEnv, onShutdown, guardProcess, prepareDatabase, startTelemetry } from "@algorythmos/platform";
import { startRunWorker } from "./run-worker.js";
import { startWorkerOps } from "./ops.js";

const env = loadEnv();
const logger = createLogger("worker", env.LOG_LEVEL);
guardProcess(logger);
const telemetry = await startTelemetry(env, "worker", logger);
await prepareDatabase(env.DATABASE_URL, logger); // any start order works: waits for PostgreSQL, applies pending migrations
const db = createDb(env.DATABASE_URL);
const redis = createRedis(env.REDIS_URL, { name: "worker-publisher" });
const worker = await startRunWorker({ env, db, redis, logger, maintenance: true });
const ops = await startWorkerOps({ env, db, redis, logger }); // /healthz and /metrics on WORKER_HEALTH_PORT

onShutdown(
  logger,
  async () => {
    ops.setReady(false);
    await worker.close();
    await ops.close();
    await closeRedis(redis);
    await db.$disconnect();
    await telemetry?.shutdown();
  },
  // R10: the drain (WORKER_DRAIN_TIMEOUT_MS), then up to 2 s for interrupted steps, then closing connections.
  { timeoutMs: env.WORKER_DRAIN_TIMEOUT_MS + 5_000 },
);
