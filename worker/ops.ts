/**
 * The worker's operations surface (docs/observability.md): its queues' depth and workers in /metrics, and,
 * with WORKER_HEALTH_PORT set, GET /healthz (PostgreSQL, Redis, the runs queue) and GET /metrics there.
 */
import {
  createConnectorQueue,
  createMaintenanceQueue,
  createRunQueue,
  postgresCheck,
  redisCheck,
  reportQueues,
  startHealthServer,
  type Db,
  type Env,
  type Logger,
  type Redis,
} from "@algorythmos/platform";

export async function startWorkerOps(deps: { env: Env; db: Db; redis: Redis; logger: Logger }): Promise<{ setReady(ready: boolean): void; close(): Promise<void> }> {
  const { env, db, redis, logger } = deps;
  const runs = createRunQueue(redis, env.REDIS_PREFIX);
  const queues = [runs, createMaintenanceQueue(redis, env.REDIS_PREFIX), createConnectorQueue(redis, env.REDIS_PREFIX)];
  const stopReporting = reportQueues(queues);
  let ready = true;
  const health =
    env.WORKER_HEALTH_PORT === undefined
      ? null
      : await startHealthServer({
          host: env.HOST,
          port: env.WORKER_HEALTH_PORT,
          ready: () => ready,
          metricsToken: env.METRICS_TOKEN,
          checks: {
            postgres: postgresCheck(db),
            redis: redisCheck(redis),
            // The runs queue answers and has a worker listening (this one, once started).
            queue: async () => {
              if ((await runs.getWorkersCount()) < 1) throw new Error("no worker is listening on the runs queue");
            },
          },
        });
  if (health) logger.info("worker health listening", { url: `http://${env.HOST}:${health.port}` });
  return {
    setReady: (value) => void (ready = value),
    async close() {
      stopReporting();
      await health?.close();
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}
