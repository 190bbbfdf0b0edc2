/**
 * A worker in a process of its own, for the crash tests (tests/worker/crash.test.ts): like worker/main.ts
 * (BullMQ lock and stalled-check settings from its environment), with the reconciler scoped to one
 * workspace (RECONCILE_WORKSPACE_ID) because test files share one database.
 */
import { createDb, createLogger, createMaintenanceQueue, createRedis, createRunQueue, loadEnv, onShutdown } from "@algorythmos/platform";
import { reconcileOnce } from "../../worker/reconciler.js";
import { startRunWorker } from "../../worker/run-worker.js";

const env = loadEnv();
const logger = createLogger("crash-worker", env.LOG_LEVEL);
const db = createDb(env.DATABASE_URL, { max: 4 });
const redis = createRedis(env.REDIS_URL, { name: "crash-worker" });
const workspaceId = process.env.RECONCILE_WORKSPACE_ID;
// WORKER_MAINTENANCE=1: the real maintenance queue of worker/main.ts (its reconcile schedule, R22), scoped to
// the workspace; otherwise the test's own fast reconcile loop below.
const maintenance = process.env.WORKER_MAINTENANCE === "1" && workspaceId ? { workspaceId } : undefined;
const worker = await startRunWorker({ env, db, redis, logger, maintenance });
// SIGTERM drains as worker/main.ts does (R10): the test reads "drained" and the exit.
onShutdown(
  logger,
  async () => {
    const closed = worker.close(); // takes no job from here on
    process.stdout.write("draining\n");
    await closed;
    process.stdout.write("drained\n");
  },
  { timeoutMs: env.WORKER_DRAIN_TIMEOUT_MS + 5_000 },
);

if (workspaceId && !maintenance) {
  const runQueue = createRunQueue(redis, env.REDIS_PREFIX);
  const maintenanceQueue = createMaintenanceQueue(redis, env.REDIS_PREFIX);
  const pass = async () => {
    // Runs count as lost after 10 s; the test's clock is shifted so it need not wait that long.
    await reconcileOnce({ env, db, redis, logger, runQueue, maintenanceQueue, workspaceId, now: () => new Date(Date.now() + 11_000) }).catch((error) =>
      logger.warn("reconcile failed", { error: String(error) }),
    );
    setTimeout(pass, 500);
  };
  void pass();
}
process.stdout.write("ready\n");
