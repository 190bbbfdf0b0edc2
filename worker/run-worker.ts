import {
  bullPrefix,
  closeRedis,
  createRedis,
  jobCatalog,
  type Db,
  type Env,
  type Logger,
  type Redis,
  type RunJob,
} from "@algorythmos/platform";
import { UnrecoverableError, WaitingError, Worker } from "bullmq";
import { executeRun } from "./engine.js";
import { ShutdownAbort, errorMessage } from "./errors.js";

export interface RunWorkerOptions {
  env: Env;
  db: Db;
  /** Non-blocking connection, for publishing run events. */
  redis: Redis;
  logger: Logger;
  /** How long `close()` waits for in-flight runs before interrupting them (default 10 s). */
  drainTimeoutMs?: number;
}

/**
 * The BullMQ worker of the "runs" queue: one `execute-run` job per run, its id the run id. The job carries
 * only the id; the run's state lives in PostgreSQL (docs/run-engine.md).
 */
export async function startRunWorker(options: RunWorkerOptions): Promise<{ close(): Promise<void> }> {
  const { env, db, redis, logger } = options;
  const connection = createRedis(env.REDIS_URL, { blocking: true, name: "worker" });
  const shutdown = new AbortController();

  const worker = new Worker<RunJob, string>(
    "runs",
    async (job, token) => {
      if (job.name !== "execute-run") throw new UnrecoverableError(`Unknown job "${job.name}" on the runs queue`);
      const payload = jobCatalog.runs["execute-run"].safeParse(job.data);
      if (!payload.success) throw new UnrecoverableError(`Invalid execute-run payload: ${payload.error.message}`);
      try {
        return await executeRun({ env, db, redis, logger, signal: shutdown.signal }, payload.data.runId);
      } catch (error) {
        // R10: interrupted by shutdown — hand the job back; the next delivery resumes from the ledger.
        if (error instanceof ShutdownAbort && token) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw error;
      }
    },
    { connection, prefix: bullPrefix(env.REDIS_PREFIX), concurrency: env.WORKER_CONCURRENCY },
  );
  worker.on("failed", (job, error) => logger.error("run job failed", { jobId: job?.id, error: errorMessage(error) }));
  worker.on("error", (error) => logger.error("run worker error", { error: errorMessage(error) }));
  await worker.waitUntilReady();
  logger.info("run worker started", { concurrency: env.WORKER_CONCURRENCY });

  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        // R10: stop taking jobs, let in-flight runs finish for a while, then interrupt them.
        const drained = worker.close().then(() => true);
        const bound = new Promise<false>((resolve) => setTimeout(() => resolve(false), options.drainTimeoutMs ?? 10_000).unref());
        if (!(await Promise.race([drained, bound]))) {
          logger.warn("runs still in flight at shutdown; interrupting them");
          shutdown.abort();
          await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
          await worker.close(true).catch(() => {});
        }
        await closeRedis(connection);
        logger.info("run worker stopped");
      })();
      return closing;
    },
  };
}
