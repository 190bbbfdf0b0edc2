import {
  bullPrefix,
  cancelRunChannel,
  closeRedis,
  createRedis,
  createRunQueue,
  jobCatalog,
  runDeliveryObserver,
  type Db,
  type Env,
  type Logger,
  type Redis,
  type RunJob,
} from "@algorythmos/platform";
import { DelayedError, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { startConnectorWorker } from "./connectors.js";
import { executeRun } from "./engine.js";
import { ShutdownAbort, SuspendRun, errorMessage } from "./errors.js";
import { startMaintenance } from "./reconciler.js";

export interface RunWorkerOptions {
  env: Env;
  db: Db;
  /** Non-blocking connection, for publishing run events. */
  redis: Redis;
  logger: Logger;
  /** How long `close()` waits for the steps in flight before interrupting them (default WORKER_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs?: number;
  /**
   * Also run the maintenance queue: the reconciler every RECONCILE_INTERVAL_MS and cron triggers (R22, R23).
   * The worker process turns it on; tests call `reconcileOnce` themselves, or scope it to their workspace.
   */
  maintenance?: boolean | { workspaceId: string };
  /**
   * BullMQ's job lock and stalled-job check (WORKER_LOCK_DURATION_MS, WORKER_STALLED_INTERVAL_MS unless
   * given): a worker killed mid-run loses its lock after `lockDurationMs`, and a stalled check of a live
   * worker hands the job to a worker within two `stalledIntervalMs` after that (R10).
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** Re-deliveries after a worker died before BullMQ fails the job (the reconciler retries failed jobs, R22). */
const MAX_STALLED_DELIVERIES = 100;

/**
 * The BullMQ worker of the "runs" queue: one `execute-run` job per run, its id the run id. The job carries
 * only the id; the run's state lives in PostgreSQL (docs/run-engine.md).
 */
export async function startRunWorker(options: RunWorkerOptions): Promise<{ close(): Promise<void> }> {
  const { env, db, redis, logger } = options;
  const connection = createRedis(env.REDIS_URL, { blocking: true, name: "worker" });
  const subscriber = createRedis(env.REDIS_URL, { name: "worker-cancel" });
  const queue = createRunQueue(redis, env.REDIS_PREFIX);
  const shutdown = new AbortController();
  /** R10: set when close() starts — no new step starts; runs are handed back once their steps in flight end. */
  const draining = new AbortController();
  /** R15: the runs executing here, so a cancel can abort their in-flight step. */
  const inFlight = new Map<string, Set<AbortController>>();
  /** Each delivery's span in the run's trace, its step attempts' spans and the run metrics (docs/observability.md). */
  const deliveries = runDeliveryObserver(db, logger);

  const worker = new Worker<RunJob, string>(
    "runs",
    async (job, token) => {
      if (job.name !== "execute-run") throw new UnrecoverableError(`Unknown job "${job.name}" on the runs queue`);
      const payload = jobCatalog.runs["execute-run"].safeParse(job.data);
      if (!payload.success) throw new UnrecoverableError(`Invalid execute-run payload: ${payload.error.message}`);
      const { runId } = payload.data;
      // R10: a job that reaches a draining worker (fetched as close() began) goes back untouched.
      if (draining.signal.aborted && token) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const stop = new AbortController();
      let controllers = inFlight.get(runId);
      if (!controllers) inFlight.set(runId, (controllers = new Set()));
      controllers.add(stop);
      try {
        return await deliveries.observe(job, () => executeRun({ env, db, redis, logger, signal: shutdown.signal, draining: draining.signal }, runId, { stop: stop.signal }));
      } catch (error) {
        // R13: the rest of the run waits for a delay — no worker slot is held meanwhile.
        if (error instanceof SuspendRun && token) {
          await job.moveToDelayed(error.resumeAt.getTime(), token);
          // R15: a cancel that arrived while this delivery was still in flight only aborted `stop` (its
          // message handler promotes waiting jobs, not in-flight ones): promote it here, so the next
          // delivery closes the run now rather than when the delay ends.
          if (stop.signal.aborted) await job.promote().catch(() => {}); // promoted meanwhile
          throw new DelayedError();
        }
        // R10: interrupted by shutdown — hand the job back; the next delivery resumes from the ledger.
        if (error instanceof ShutdownAbort && token) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw error;
      } finally {
        controllers.delete(stop);
        if (!controllers.size) inFlight.delete(runId);
      }
    },
    {
      connection,
      prefix: bullPrefix(env.REDIS_PREFIX),
      concurrency: env.WORKER_CONCURRENCY,
      lockDuration: options.lockDurationMs ?? env.WORKER_LOCK_DURATION_MS,
      stalledInterval: options.stalledIntervalMs ?? env.WORKER_STALLED_INTERVAL_MS,
      // R10: a re-delivery resumes from the ledger, so a run whose workers keep dying is handed over again
      // rather than failed in BullMQ after its first stall (BullMQ's default is 1).
      maxStalledCount: MAX_STALLED_DELIVERIES,
    },
  );
  worker.on("failed", (job, error) => logger.error("run job failed", { jobId: job?.id, error: errorMessage(error) }));
  worker.on("error", (error) => logger.error("run worker error", { error: errorMessage(error) }));

  // R15: the API publishes canceled run ids; the worker executing one aborts its in-flight step. A run that
  // waits for a delay is promoted so its next delivery closes it now rather than when the delay ends.
  subscriber.on("message", (_channel: string, runId: string) => {
    const controllers = inFlight.get(runId);
    if (controllers) {
      logger.info("run canceled; aborting its in-flight step", { runId });
      for (const controller of controllers) controller.abort();
      return;
    }
    void (async () => {
      const job = await queue.getJob(runId);
      if (job && (await job.isDelayed())) await job.promote();
    })().catch(() => {}); // another worker promoted it first
  });
  await subscriber.subscribe(cancelRunChannel(env.REDIS_PREFIX));

  const scope = typeof options.maintenance === "object" ? options.maintenance : {};
  const maintenance = options.maintenance ? await startMaintenance({ env, db, redis, logger, ...scope }) : null;
  // R24: "test connection" jobs from the API.
  const connectors = await startConnectorWorker({ env, db, logger }, shutdown.signal);
  await worker.waitUntilReady();
  logger.info("run worker started", { concurrency: env.WORKER_CONCURRENCY });

  let closing: Promise<void> | null = null;
  return {
    close() {
      closing ??= (async () => {
        // R10: stop taking jobs and starting steps; the steps in flight finish (each run is then handed back
        // to the queue, to go on from the ledger elsewhere) for at most drainTimeoutMs, then are interrupted.
        const startedAt = Date.now();
        draining.abort();
        const housekeeping = Promise.all([maintenance?.close(), connectors.close()]);
        const drained = worker.close().then(() => true);
        const bound = new Promise<false>((resolve) => setTimeout(() => resolve(false), options.drainTimeoutMs ?? env.WORKER_DRAIN_TIMEOUT_MS).unref());
        if (!(await Promise.race([drained, bound]))) {
          logger.warn("steps still in flight at shutdown; interrupting them");
          shutdown.abort();
          await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
          await worker.close(true).catch(() => {});
        }
        await housekeeping;
        await deliveries.flush();
        logger.info("run worker drained", { ms: Date.now() - startedAt });
        await queue.close();
        await closeRedis(subscriber);
        await closeRedis(connection);
        logger.info("run worker stopped");
      })();
      return closing;
    },
  };
}
