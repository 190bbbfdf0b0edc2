import { createHash, randomUUID } from "node:crypto";
import { parseStepConfig, WorkflowDefinition } from "@algorythmos/domain";
import {
  bullPrefix,
  cancelRunChannel,
  closeRedis,
  createMaintenanceQueue,
  createRedis,
  createRunQueue,
  cronSchedulerId,
  enqueueRun,
  isDuplicateKey,
  jobCatalog,
  createRun,
  Prisma,
  query,
  stopRun,
  wakeRun,
  type Db,
  type Env,
  type Logger,
  type MaintenanceJob,
  type Redis,
  type RunJob,
  type RunLifecycleDeps,
} from "@algorythmos/platform";
import { UnrecoverableError, Worker, type Job, type Queue } from "bullmq";
import { ERROR_TRIGGER, startErrorWorkflow, wakeableRunsSql } from "./engine/call.js";
import { errorMessage } from "./errors.js";

/**
 * The reconciler (docs/run-engine.md, R22, R23): the database is the truth, Redis is rebuilt from it.
 * A committed `queued` Run row is the intent to execute it; runs whose jobs vanished are enqueued again, runs
 * stuck past RUN_TIMEOUT_MS are failed, and every cron trigger step has exactly one BullMQ job scheduler.
 */
export interface ReconcileDeps {
  env: Env;
  db: Db;
  /** Non-blocking connection: run events and the cancel channel. */
  redis: Redis;
  logger: Logger;
  runQueue: Queue<RunJob>;
  maintenanceQueue: Queue<MaintenanceJob>;
  now?: () => Date;
  /** Limit the pass to one workspace (tests share one database; a per-tenant tool could use it too). */
  workspaceId?: string;
}

export interface ReconcileReport {
  /** Runs enqueued (or their failed job retried) because their job was gone. */
  enqueued: string[];
  /** Runs failed because they ran longer than RUN_TIMEOUT_MS. */
  timedOut: string[];
  schedulersUpserted: string[];
  schedulersRemoved: string[];
  /** R34: runs woken because a step of theirs can go on (child final, approval decided) and the wake-up was lost. */
  woken: string[];
  /** R35: error workflows started for failed runs whose start was lost. */
  errorRuns: string[];
  /** R39: webhook Idempotency-Keys older than their 24 h window, deleted. */
  expiredWebhookKeys: number;
}

/** A queued run younger than this may still be on its way to Redis (the server enqueues right after commit). */
export const LOST_RUN_GRACE_MS = 10_000;
const BATCH = 500;
/** R39's window (server/services/publish.ts IDEMPOTENCY_WINDOW_HOURS). */
const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileReport> {
  const now = deps.now?.() ?? new Date();
  const report: ReconcileReport = { enqueued: [], timedOut: [], schedulersUpserted: [], schedulersRemoved: [], woken: [], errorRuns: [], expiredWebhookKeys: 0 };
  await timeOutStuckRuns(deps, now, report);
  await requeueLostRuns(deps, now, report);
  await wakeWaitingRuns(deps, report);
  await startLostErrorWorkflows(deps, now, report);
  await syncCronSchedulers(deps, report);
  await deleteExpiredWebhookKeys(deps, now, report);
  if (report.enqueued.length || report.timedOut.length || report.schedulersUpserted.length || report.schedulersRemoved.length || report.woken.length || report.errorRuns.length || report.expiredWebhookKeys) {
    deps.logger.info("reconciled", { ...report });
  }
  return report;
}

/**
 * R39: a key past its window answers as new already (the insert takes it over), so deleting it changes no
 * answer; it only keeps the table from growing forever. Bounded per pass, like every other sweep here.
 */
async function deleteExpiredWebhookKeys(deps: ReconcileDeps, now: Date, report: ReconcileReport) {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
  const workspace = deps.workspaceId ? Prisma.sql`AND "workflowId" IN (SELECT "id" FROM "Workflow" WHERE "workspaceId" = ${deps.workspaceId})` : Prisma.empty;
  report.expiredWebhookKeys = await deps.db.$executeRaw`
    DELETE FROM "WebhookRequest" WHERE ctid IN (
      SELECT ctid FROM "WebhookRequest" WHERE "createdAt" < ${cutoff} ${workspace} LIMIT ${BATCH}
    )`;
}

/** R22 (1): accepted runs whose BullMQ job is missing (Redis lost it, or the enqueue after commit failed). */
async function requeueLostRuns(deps: ReconcileDeps, now: Date, report: ReconcileReport) {
  const before = new Date(now.getTime() - LOST_RUN_GRACE_MS);
  const runs = await deps.db.run.findMany({
    where: {
      ...(deps.workspaceId ? { workspaceId: deps.workspaceId } : {}),
      OR: [
        { status: "queued", createdAt: { lt: before } },
        { status: "running", startedAt: { lt: before } },
      ],
    },
    select: { id: true },
    orderBy: { createdAt: "asc" },
    take: BATCH,
  });
  for (const { id } of runs) {
    const job = await deps.runQueue.getJob(id);
    if (!job) {
      await enqueueRun(deps.runQueue, id);
      report.enqueued.push(id);
    } else if (await job.isFailed()) {
      // The job gave up (e.g. the database was unreachable, R9) while the run is still accepted.
      await job.retry("failed");
      report.enqueued.push(id);
    }
  }
}

/**
 * R34: runs with a waiting step that can go on — a call step whose child is final, an approval decided or past
 * its timeout — are promoted (or enqueued). The finishing child or the decision promotes them itself; this
 * heals a wake-up that was lost (a crash right after the child finished, a job that was active at that moment).
 */
async function wakeWaitingRuns(deps: ReconcileDeps, report: ReconcileReport) {
  const scope = deps.workspaceId ? Prisma.sql`AND r."workspaceId" = ${deps.workspaceId}` : Prisma.empty;
  const runs = await query<{ id: string }>(deps.db, Prisma.sql`${wakeableRunsSql(scope)} LIMIT ${BATCH}`);
  for (const { id } of runs) {
    if ((await wakeRun(deps.runQueue, id)) !== "busy") report.woken.push(id);
  }
}

/**
 * R35: failed runs of the last hour whose definition names an error workflow and that have no error run yet
 * (the worker that failed them died before starting it) get it now; its id is derived, so it starts once.
 */
async function startLostErrorWorkflows(deps: ReconcileDeps, now: Date, report: ReconcileReport) {
  const scope = deps.workspaceId ? Prisma.sql`AND r."workspaceId" = ${deps.workspaceId}` : Prisma.empty;
  const runs = await query<{ id: string; workflowId: string; workspaceId: string; error: string | null; errorWorkflowId: string }>(
    deps.db,
    Prisma.sql`SELECT r."id", r."workflowId", r."workspaceId", r."error", r."definition"->'settings'->>'errorWorkflowId' AS "errorWorkflowId"
      FROM "Run" r
      WHERE r."status" = 'failed'::"RunStatus" AND r."trigger" <> ${ERROR_TRIGGER} ${scope}
        AND r."finishedAt" > ${new Date(now.getTime() - 3_600_000).toISOString()}::timestamp(3)
        AND r."finishedAt" < ${new Date(now.getTime() - LOST_RUN_GRACE_MS).toISOString()}::timestamp(3)
        AND r."definition"->'settings'->>'errorWorkflowId' IS NOT NULL
        AND r."definition"->'settings'->>'errorWorkflowId' <> r."workflowId"
        AND NOT EXISTS (SELECT 1 FROM "Run" e WHERE e."parentRunId" = r."id" AND e."trigger" = ${ERROR_TRIGGER})
      LIMIT ${BATCH}`,
  );
  for (const run of runs) {
    const started = await startErrorWorkflow(deps, run);
    if (started) report.errorRuns.push(started);
  }
}

/**
 * R22 (2): a run `running` longer than RUN_TIMEOUT_MS, not counting time spent waiting in delay steps, for an
 * approval or for a child run (R30, R33).
 */
async function timeOutStuckRuns(deps: ReconcileDeps, now: Date, report: ReconcileReport) {
  const timeoutMs = deps.env.RUN_TIMEOUT_MS;
  const runs = await deps.db.run.findMany({
    where: {
      ...(deps.workspaceId ? { workspaceId: deps.workspaceId } : {}),
      status: "running",
      startedAt: { lt: new Date(now.getTime() - timeoutMs) },
    },
    select: { id: true, workflowId: true, startedAt: true },
    take: BATCH,
  });
  for (const run of runs) {
    const delays = await deps.db.runStep.findMany({
      where: { runId: run.id, type: { in: ["delay", "approval", "workflow.call"] } },
      select: { type: true, startedAt: true, finishedAt: true, output: true },
    });
    let waited = 0;
    for (const row of delays) {
      if (!row.startedAt) continue;
      if (row.type !== "delay") {
        // Waiting for a person or a child run: from the start until settled (or now).
        waited += Math.max(0, Math.min(now.getTime(), row.finishedAt?.getTime() ?? now.getTime()) - row.startedAt.getTime());
        continue;
      }
      const resumeAt = Date.parse(String((row.output as { resumeAt?: unknown } | null)?.resumeAt ?? ""));
      if (Number.isNaN(resumeAt)) continue;
      waited += Math.max(0, Math.min(now.getTime(), resumeAt) - row.startedAt.getTime());
    }
    if (now.getTime() - run.startedAt!.getTime() - waited <= timeoutMs) continue;
    const error = `Run timed out after ${formatDuration(timeoutMs)}`;
    // Failed and its run.finished, one statement (platform stopRun).
    const failed = await stopRun(lifecycleOf(deps), { runId: run.id, workflowId: run.workflowId, reason: "timed-out", error, at: now });
    if (!failed) continue;
    report.timedOut.push(run.id);
    // The worker executing it (if any) aborts its in-flight step and closes the ledger (R15); with no job
    // left, a new delivery does that closing (R1).
    await deps.redis.publish(cancelRunChannel(deps.env.REDIS_PREFIX), run.id);
    if (!(await deps.runQueue.getJob(run.id))) await enqueueRun(deps.runQueue, run.id);
  }
}

function lifecycleOf(deps: { db: Db; redis: Redis; env: Env; logger: Logger }): RunLifecycleDeps {
  return { db: deps.db, redis: deps.redis, redisPrefix: deps.env.REDIS_PREFIX, logger: deps.logger };
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}

interface CronTrigger {
  workflowId: string;
  stepId: string;
  pattern: string;
  tz: string;
}

/** The cron trigger steps of a definition whose configs are valid. */
export function cronTriggers(workflowId: string, definition: unknown): CronTrigger[] {
  const parsed = WorkflowDefinition.safeParse(definition);
  if (!parsed.success) return [];
  const triggers: CronTrigger[] = [];
  for (const step of parsed.data.steps) {
    if (step.type !== "trigger.cron") continue;
    try {
      const config = parseStepConfig("trigger.cron", step.config);
      triggers.push({ workflowId, stepId: step.id, pattern: config.cron, tz: config.timezone });
    } catch {
      // an invalid schedule is reported by validation in the studio; it gets no scheduler
    }
  }
  return triggers;
}

/**
 * R23, R37: one job scheduler `cron:<workflowId>:<stepId>` per cron trigger step of the PUBLISHED version of
 * every active workflow (a draft's cron step schedules nothing until it is published).
 */
async function syncCronSchedulers(deps: ReconcileDeps, report: ReconcileReport) {
  const scope = deps.workspaceId ? Prisma.sql`AND w."workspaceId" = ${deps.workspaceId}` : Prisma.empty;
  const workflows = await deps.db.$queryRaw<{ id: string; definition: unknown }[]>`
    SELECT w.id, v.definition FROM "Workflow" w JOIN "WorkflowSnapshot" v ON v.id = w."publishedVersionId"
    WHERE w.active AND v.definition::text LIKE '%"trigger.cron"%' ${scope}`;
  const desired = new Map<string, CronTrigger>();
  for (const workflow of workflows) {
    for (const trigger of cronTriggers(workflow.id, workflow.definition)) desired.set(cronSchedulerId(trigger.workflowId, trigger.stepId), trigger);
  }
  const existing = new Map<string, { pattern?: string; tz?: string }>();
  for (const scheduler of await deps.maintenanceQueue.getJobSchedulers(0, -1)) {
    if (scheduler.key.startsWith("cron:")) existing.set(scheduler.key, scheduler);
  }
  for (const [id] of existing) {
    if (desired.has(id)) continue;
    await deps.maintenanceQueue.removeJobScheduler(id);
    report.schedulersRemoved.push(id);
  }
  for (const [id, trigger] of desired) {
    const current = existing.get(id);
    if (current && current.pattern === trigger.pattern && (current.tz ?? "UTC") === trigger.tz) continue;
    await deps.maintenanceQueue.upsertJobScheduler(
      id,
      { pattern: trigger.pattern, tz: trigger.tz },
      {
        name: "cron-run",
        data: jobCatalog.maintenance["cron-run"].parse({ workflowId: trigger.workflowId, stepId: trigger.stepId }),
        opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
    report.schedulersUpserted.push(id);
  }
}

/**
 * R23, R37: a cron job starts a run of the workflow's PUBLISHED version (Run.versionId records it), trigger
 * "cron", input `{ scheduledAt }`; nothing when the workflow is inactive or was never published (R38). The run
 * id is derived from the schedule and the time, so a re-delivered cron job does not start a second run.
 */
export async function startCronRun(
  deps: Omit<ReconcileDeps, "maintenanceQueue" | "now">,
  data: { workflowId: string; stepId: string },
  scheduledAt: Date,
): Promise<string | null> {
  const { db, logger } = deps;
  const workflow = await db.workflow.findUnique({ where: { id: data.workflowId }, select: { workspaceId: true, active: true, publishedVersionId: true } });
  if (!workflow) {
    logger.warn("cron job for a missing workflow", data);
    return null;
  }
  if (!workflow.active || !workflow.publishedVersionId) {
    logger.info("cron job for an inactive or unpublished workflow: no run", { ...data, active: workflow.active });
    return null;
  }
  const published = await db.workflowSnapshot.findUnique({ where: { id: workflow.publishedVersionId }, select: { definition: true } });
  const parsed = WorkflowDefinition.safeParse(published?.definition);
  const definition = parsed.success ? parsed.data : null;
  const step = definition?.steps.find((candidate) => candidate.id === data.stepId);
  if (!definition || step?.type !== "trigger.cron") {
    logger.warn("cron job for a step that is no longer a cron trigger", data);
    return null;
  }
  const id = `run_${createHash("sha256").update(`${data.workflowId}:${data.stepId}:${scheduledAt.toISOString()}`).digest("hex").slice(0, 20)}`;
  try {
    // The run and its run.queued, one statement (platform createRun).
    await createRun(lifecycleOf(deps), {
      id,
      workflowId: data.workflowId,
      workspaceId: workflow.workspaceId,
      definition,
      trigger: "cron",
      triggerStepId: data.stepId, // R4: this schedule's trigger starts the run, not every cron trigger
      input: { scheduledAt: scheduledAt.toISOString() },
      versionId: workflow.publishedVersionId,
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // already created by an earlier delivery (Prisma's or pg's 23505): just enqueue
  }
  await enqueueRun(deps.runQueue, id);
  return id;
}

/** Deletes the lock only while it still holds this pass's token (compare and delete in one step). */
const RELEASE_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`;
/** Extends the lock only while it still holds this pass's token. */
const EXTEND_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`;

/**
 * The maintenance queue of a worker process: the `reconcile` job scheduler (every RECONCILE_INTERVAL_MS;
 * a Redis lock keeps passes from overlapping across workers) and the `cron-run` jobs.
 */
export async function startMaintenance(deps: {
  env: Env;
  db: Db;
  redis: Redis;
  logger: Logger;
  workspaceId?: string;
}): Promise<{ close(): Promise<void> }> {
  const { env, redis, logger } = deps;
  const connection = createRedis(env.REDIS_URL, { blocking: true, name: "worker-maintenance" });
  const maintenanceQueue = createMaintenanceQueue(redis, env.REDIS_PREFIX);
  const runQueue = createRunQueue(redis, env.REDIS_PREFIX);
  const lockKey = `${env.REDIS_PREFIX}reconcile-lock`;

  const worker = new Worker<MaintenanceJob>(
    "maintenance",
    async (job: Job<MaintenanceJob>) => {
      if (job.name === "reconcile") {
        const token = randomUUID();
        const ttlMs = env.RECONCILE_INTERVAL_MS * 2;
        if ((await redis.set(lockKey, token, "PX", ttlMs, "NX")) !== "OK") return "locked";
        // One pass at a time across workers, however long a pass takes: the lock is kept while it runs.
        const keep = setInterval(() => void redis.eval(EXTEND_LOCK, 1, lockKey, token, String(ttlMs)).catch(() => {}), ttlMs / 3);
        try {
          await reconcileOnce({ ...deps, runQueue, maintenanceQueue });
          return "ok";
        } finally {
          clearInterval(keep);
          await redis.eval(RELEASE_LOCK, 1, lockKey, token); // only our own (it may have expired, e.g. Redis restarted)
        }
      }
      if (job.name === "cron-run") {
        const payload = jobCatalog.maintenance["cron-run"].safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`Invalid cron-run payload: ${payload.error.message}`);
        // BullMQ stamps scheduler jobs with the time they were scheduled for (`prevMillis`).
        const prevMillis = (job.opts as { prevMillis?: number }).prevMillis;
        const scheduledAt = new Date(prevMillis ?? job.timestamp + (job.delay ?? 0));
        return (await startCronRun({ ...deps, runQueue }, payload.data, scheduledAt)) ?? "no-run";
      }
      throw new UnrecoverableError(`Unknown job "${job.name}" on the maintenance queue`);
    },
    {
      connection,
      prefix: bullPrefix(env.REDIS_PREFIX),
      concurrency: 1,
      // Like the runs queue (R10): a job of a worker that died goes to a live one within seconds, however
      // often that happens — a reconcile pass and a cron-run job (its run id is derived) are safe to repeat.
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: 100,
    },
  );
  worker.on("failed", (job, error) => logger.error("maintenance job failed", { job: job?.name, error: errorMessage(error) }));
  worker.on("error", (error) => logger.error("maintenance worker error", { error: errorMessage(error) }));

  // R22: the schedule lives in Redis, so a Redis that lost its data (restarted empty, flushed) lost it too.
  // Every worker puts it back at start and checks it every RECONCILE_INTERVAL_MS after; upserting the same
  // schedule from several workers is harmless, and the lock above keeps their passes from overlapping.
  const ensureSchedule = async () => {
    if (await maintenanceQueue.getJobScheduler("reconcile")) return;
    await maintenanceQueue.upsertJobScheduler(
      "reconcile",
      { every: env.RECONCILE_INTERVAL_MS },
      { name: "reconcile", data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 20 } } },
    );
  };
  await ensureSchedule();
  let checking = false;
  const scheduleCheck = setInterval(() => {
    if (checking) return;
    checking = true;
    ensureSchedule()
      .catch((error) => logger.warn("reconcile schedule check failed; trying again later", { error: errorMessage(error) }))
      .finally(() => (checking = false));
  }, env.RECONCILE_INTERVAL_MS);
  scheduleCheck.unref();
  await worker.waitUntilReady();

  return {
    async close() {
      clearInterval(scheduleCheck);
      await worker.close();
      await maintenanceQueue.close();
      await runQueue.close();
      await closeRedis(connection);
    },
  };
}
