import {
  bullPrefix,
  cancelRunChannel,
  closeRedis,
  createRedis,
  createRunQueue,
  jobCatalog,
  nextQueuedRuns,
  Prisma,
  query,
  runDeliveryObserver,
  RunThrottled,
  stopChildRuns,
  wakeRun,
  type Db,
  type Env,
  type Logger,
  type Redis,
  type RunJob,
} from "@algorythmos/platform";
import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Queue } from "bullmq";
import { startConnectorWorker } from "./connectors.js";
import { executeRun } from "./engine.js";
import { ERROR_TRIGGER, isWakeable, lifecycleOf, startErrorWorkflow } from "./engine/call.js";
import type { EngineDeps } from "./engine/types.js";
import { ShutdownAbort, SuspendRun, errorMessage } from "./errors.js";
import { pinnedAgents } from "./http/pinned-agents.js";
import { startMaintenance } from "./reconciler.js";
import { startStepTestWorker } from "./step-test.js";

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

/** R36: how soon a run held back by its workflow's maxConcurrentRuns is looked at again (a finish promotes it sooner). */
export const THROTTLED_RETRY_MS = 2_000;

/**
 * After a delivery: when the run is final, wake the parent waiting for it (R34), stop its children (R32), let
 * the next queued runs of its workflow start (R36) and, for a failure, start the error workflow (R35).
 * One point read for a run that needs none of it.
 */
export async function afterRunEnd(deps: EngineDeps, queue: Queue<RunJob>, runId: string): Promise<void> {
  const [run] = await query<{ status: RunStatus; workflowId: string; workspaceId: string; trigger: string; parentRunId: string | null; parentStepId: string | null; parentStatus: RunStatus | null; error: string | null; maxConcurrentRuns: string | null; errorWorkflowId: string | null }>(
    deps.db,
    Prisma.sql`SELECT r."status", r."workflowId", r."workspaceId", r."trigger", r."parentRunId", r."parentStepId", r."error",
        (SELECT p."status" FROM "Run" p WHERE p."id" = r."parentRunId") AS "parentStatus",
        r."definition"->'settings'->>'maxConcurrentRuns' AS "maxConcurrentRuns", r."definition"->'settings'->>'errorWorkflowId' AS "errorWorkflowId"
      FROM "Run" r WHERE r."id" = ${runId}`,
    "algo_run_after_end",
  );
  if (!run || !FINAL_RUN_STATUSES.includes(run.status)) return;
  const lifecycle = lifecycleOf(deps);
  // Only a parent still running can be waiting for it (a fire-and-forget call's parent may be long done).
  if (run.parentRunId && run.parentStepId && run.parentStatus === "running") await wakeRun(queue, run.parentRunId);
  if (run.status !== "succeeded") await stopChildRuns(lifecycle, runId, `Parent run ${run.status}`);
  if (run.maxConcurrentRuns !== null) {
    for (const next of await nextQueuedRuns(deps.db, run.workflowId, Math.max(1, Number(run.maxConcurrentRuns) || 1))) await wakeRun(queue, next);
  }
  if (run.status === "failed" && run.errorWorkflowId && run.trigger !== ERROR_TRIGGER && run.errorWorkflowId !== run.workflowId) {
    await startErrorWorkflow(deps, { id: runId, workflowId: run.workflowId, workspaceId: run.workspaceId, error: run.error, errorWorkflowId: run.errorWorkflowId });
  }
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
  /** R61: outbound connections kept alive while this worker runs; closed once its steps are done. */
  const releaseAgents = pinnedAgents.hold();

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
      const engineDeps = { env, db, redis, logger, signal: shutdown.signal, draining: draining.signal };
      try {
        const outcome = await deliveries.observe(job, () => executeRun(engineDeps, runId, { stop: stop.signal }));
        // R32, R34, R35, R36: what a run's end sets off (waking its parent, the next queued run, the error
        // workflow); every part is idempotent, so a re-delivered final run does it again harmlessly.
        if (outcome !== "missing") {
          await afterRunEnd(engineDeps, queue, runId).catch((error: unknown) =>
            logger.warn("after-run work failed; the reconciler catches up", { runId, error: errorMessage(error) }),
          );
        }
        return outcome;
      } catch (error) {
        // R36: the workflow's concurrency limit is reached: the run stays queued and is looked at again soon
        // (a finishing run of the workflow promotes it sooner).
        if (error instanceof RunThrottled && token) {
          await job.moveToDelayed(Date.now() + THROTTLED_RETRY_MS, token);
          throw new DelayedError();
        }
        // R13: the rest of the run waits for a delay — no worker slot is held meanwhile.
        if (error instanceof SuspendRun && token) {
          await job.moveToDelayed(error.resumeAt.getTime(), token);
          // R15: a cancel that arrived while the job was still active aborted `stop`, and its message
          // handler found nothing delayed to promote: promote it here, so the next delivery closes the run
          // now rather than when the delay ends (a cancel landing after this check finds the job delayed).
          // R34: so is a wake-up (a child that finished, an approval decided) that came while it was active.
          if (stop.signal.aborted || (await isWakeable(db, runId).catch(() => false))) await job.promote().catch(() => {}); // promoted meanwhile
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
  // waits for a delay is promoted so its next delivery closes it now rather than when the delay ends — also
  // while a delivery is still registered here: it may have moved the job to delayed after checking `stop`.
  subscriber.on("message", (_channel: string, runId: string) => {
    const controllers = inFlight.get(runId);
    if (controllers) {
      logger.info("run canceled; aborting its in-flight step", { runId });
      for (const controller of controllers) controller.abort();
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
  // R49, R50: "test step" and test case checks from the API.
  const stepTests = await startStepTestWorker({ env, db, logger }, shutdown.signal);
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
        const housekeeping = Promise.all([maintenance?.close(), connectors.close(), stepTests.close()]);
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
        await releaseAgents();
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
