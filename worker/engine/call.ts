/**
 * workflow.call (docs/run-engine.md R30–R32): a step that runs another workflow's published version as a child
 * run and waits for it without holding a worker. The child's id is derived from the parent run and the step's
 * ledger id, so a re-delivery (or two racing ones) finds the child it started instead of starting another.
 * The error workflow (R35) starts the same way, linked to the failed run.
 */
import { createHash } from "node:crypto";
import { newId, WorkflowDefinition, type StepConfig } from "@algorythmos/domain";
import { createRun, createRunQueue, enqueueRun, isDuplicateKey, Prisma, query, type Db, type RunLifecycleDeps } from "@algorythmos/platform";
import type { Queue } from "bullmq";
import { DuplicateDelivery, errorMessage, StepError } from "../errors.js";
import { evaluateExpression } from "../expressions.js";
import type { EngineStepArgs, EngineStepResult } from "./engine-step-contract.js";
import { insertStep, toJson, updateStep } from "./ledger.js";
import { stepConfig } from "./step-config.js";
import type { EngineDeps } from "./types.js";

/** R31: how deep workflow.call may nest (a top-level run is depth 0). */
export const MAX_CALL_DEPTH = 10;

/** The child run's id: one per parent run and ledger id (R30), whatever the number of deliveries. */
export const childRunId = (parentRunId: string, ledgerId: string) =>
  `run_${createHash("sha256").update(`${parentRunId}:${ledgerId}:call`).digest("hex").slice(0, 20)}`;
/** The error workflow's run of a failed run (R35): one per failed run. */
export const errorRunId = (failedRunId: string) => `run_${createHash("sha256").update(`${failedRunId}:error-workflow`).digest("hex").slice(0, 20)}`;

/** One run queue per Redis connection (the engine is given the connection, not a queue). */
const queues = new WeakMap<object, Queue>();
export function runQueueOf(deps: Pick<EngineDeps, "redis" | "env">): Queue {
  let queue = queues.get(deps.redis);
  if (!queue) queues.set(deps.redis, (queue = createRunQueue(deps.redis, deps.env.REDIS_PREFIX)));
  return queue;
}

export const lifecycleOf = (deps: Pick<EngineDeps, "db" | "redis" | "env" | "logger">): RunLifecycleDeps => ({
  db: deps.db,
  redis: deps.redis,
  redisPrefix: deps.env.REDIS_PREFIX,
  logger: deps.logger,
});

type PublishedTarget = { ok: true; workflowId: string; name: string; versionId: string; definition: unknown } | { ok: false; error: string };

/** A workflow of the workspace and its published version's definition; a reason when there is none. */
export async function publishedTarget(db: Db, workspaceId: string, workflowId: string): Promise<PublishedTarget> {
  const workflow = await db.workflow.findFirst({ where: { id: workflowId, workspaceId }, select: { id: true, name: true, publishedVersionId: true } });
  if (!workflow) return { ok: false, error: `Workflow "${workflowId}" not found in this workspace` };
  if (!workflow.publishedVersionId) return { ok: false, error: `Workflow "${workflow.name}" (${workflow.id}) has never been published: publish it before calling it` };
  const version = await db.workflowSnapshot.findUnique({ where: { id: workflow.publishedVersionId }, select: { definition: true } });
  if (!version || !WorkflowDefinition.safeParse(version.definition).success) {
    return { ok: false, error: `Workflow "${workflow.name}" (${workflow.id}): its published version cannot be read` };
  }
  return { ok: true, workflowId: workflow.id, name: workflow.name, versionId: workflow.publishedVersionId, definition: version.definition };
}

/**
 * Creates a child run (queued, with its run.queued: platform createRun) unless it exists, then enqueues it
 * (idempotent by job id). Returns whether this call created it.
 */
export async function startChildRun(
  deps: Pick<EngineDeps, "db" | "redis" | "env" | "logger">,
  child: { id: string; workflowId: string; workspaceId: string; versionId: string; definition: unknown; input: unknown; trigger: string; parentRunId: string; parentStepId: string | null; depth: number },
): Promise<boolean> {
  let created = true;
  try {
    await createRun(lifecycleOf(deps), {
      id: child.id,
      workflowId: child.workflowId,
      workspaceId: child.workspaceId,
      definition: child.definition,
      trigger: child.trigger,
      input: child.input,
      versionId: child.versionId,
      parentRunId: child.parentRunId,
      parentStepId: child.parentStepId,
      depth: child.depth,
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    created = false; // an earlier delivery created it: only enqueue (again)
  }
  await enqueueRun(runQueueOf(deps), child.id).catch((error: unknown) =>
    deps.logger.warn("child run not enqueued; the reconciler will", { runId: child.id, error: errorMessage(error) }),
  );
  return created;
}

interface CallInput {
  workflowId: string;
  versionId: string;
  childRunId: string;
  input: unknown;
}

/** The engine-step handler of workflow.call (engine-steps.ts contract). */
export async function callStep(args: EngineStepArgs): Promise<EngineStepResult> {
  const { deps, run, step, ledgerId, prior, publish, context, stop } = args;
  if (prior?.status === "waiting") return settleFromChild(args, (prior.output as { childRunId?: string } | null)?.childRunId ?? childRunId(run.runId, ledgerId));

  const attempt = (prior?.attempt ?? 0) + 1;
  const fail = async (error: string, input?: unknown): Promise<EngineStepResult> => {
    const id = newId("rst");
    await insertStep(publish, { id, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "running", input, startedAt: new Date() }, { type: "step.started", stepId: ledgerId, status: "running" });
    await updateStep(publish, { id, from: ["running"] }, { status: "failed", error }, { type: "step.failed", stepId: ledgerId, status: "failed", error });
    return { status: "failed", error };
  };

  const resolved = stepConfig(run, step);
  if (resolved.error !== undefined) return fail(resolved.error, resolved.raw);
  const config = resolved.config as StepConfig<"workflow.call">;

  // R31: the depth of this run, +1 for the child.
  const [self] = await query<{ depth: number }>(deps.db, Prisma.sql`SELECT "depth" FROM "Run" WHERE "id" = ${run.runId}`);
  const depth = (self?.depth ?? 0) + 1;
  if (depth > MAX_CALL_DEPTH) return fail(`Recursion depth exceeded: workflow.call nests at most ${MAX_CALL_DEPTH} runs deep`, config);

  const id = childRunId(run.runId, ledgerId);
  // R30: a re-delivery finds the child it started (it may have crashed after creating it, before recording it).
  const existing = await deps.db.run.findFirst({ where: { parentRunId: run.runId, parentStepId: ledgerId }, select: { id: true, workflowId: true, versionId: true, input: true } });
  let input: CallInput;
  if (existing) {
    input = { workflowId: existing.workflowId, versionId: existing.versionId ?? "", childRunId: existing.id, input: existing.input };
    await enqueueRun(runQueueOf(deps), existing.id).catch(() => {}); // its enqueue may be what the crash lost
  } else {
    const target = await publishedTarget(deps.db, run.workspaceId, config.workflowId);
    if (!target.ok) return fail(target.error, config);
    let childInput: unknown;
    try {
      childInput = toJson(await evaluateExpression(config.input, context, stop));
    } catch (error) {
      return fail(`Input expression failed: ${errorMessage(error)}`, config);
    }
    input = { workflowId: target.workflowId, versionId: target.versionId, childRunId: id, input: childInput };
    await startChildRun(deps, {
      id,
      workflowId: target.workflowId,
      workspaceId: run.workspaceId,
      versionId: target.versionId,
      definition: target.definition,
      input: childInput,
      trigger: "call",
      parentRunId: run.runId,
      parentStepId: ledgerId,
      depth,
    });
  }

  const rowId = newId("rst");
  if (!config.waitForCompletion) {
    const output = { runId: input.childRunId };
    await insertStep(publish, { id: rowId, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "succeeded", input, output, startedAt: new Date(), finishedAt: new Date() }, { type: "step.succeeded", stepId: ledgerId, status: "succeeded", output });
    return { status: "succeeded", output };
  }
  // R30: waiting, holding no worker; the child's end wakes this run (R34).
  const waitingOutput = { childRunId: input.childRunId, workflowId: input.workflowId };
  await insertStep(
    publish,
    { id: rowId, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "waiting", input, output: waitingOutput, startedAt: new Date() },
    { type: "step.waiting", stepId: ledgerId, status: "waiting", output: waitingOutput },
  );
  return settleFromChild({ ...args, prior: { id: rowId, stepId: ledgerId, attempt, status: "waiting", output: waitingOutput, error: null, startedAt: new Date() } }, input.childRunId);
}

/** R30: a waiting call step settles once its child run is final: its output, or its error and id. */
async function settleFromChild(args: EngineStepArgs, childId: string): Promise<EngineStepResult> {
  const { deps, run, ledgerId, prior, publish, stop } = args;
  if (stop.aborted) return { status: "waiting", resumeAt: null }; // R15: the walk closes the row
  const [child] = await query<{ status: string; output: unknown; error: string | null }>(deps.db, Prisma.sql`SELECT "status", "output", "error" FROM "Run" WHERE "id" = ${childId}`);
  const row = { id: prior!.id, from: ["waiting" as const] };
  if (!child) {
    const error = `Child run ${childId} no longer exists`;
    if (!(await updateStep(publish, row, { status: "failed", error }, { type: "step.failed", stepId: ledgerId, status: "failed", error }))) throw new DuplicateDelivery(run.runId, ledgerId);
    return { status: "failed", error };
  }
  if (child.status === "queued" || child.status === "running") return { status: "waiting", resumeAt: null };
  if (child.status === "succeeded") {
    const output = child.output ?? null;
    if (!(await updateStep(publish, row, { status: "succeeded", output }, { type: "step.succeeded", stepId: ledgerId, status: "succeeded", output }))) throw new DuplicateDelivery(run.runId, ledgerId);
    return { status: "succeeded", output };
  }
  const error = `Child run ${childId} ${child.status}: ${child.error ?? "no reason recorded"}`;
  const output = { childRunId: childId, status: child.status };
  if (!(await updateStep(publish, row, { status: "failed", error, output }, { type: "step.failed", stepId: ledgerId, status: "failed", error, output }))) throw new DuplicateDelivery(run.runId, ledgerId);
  return { status: "failed", error };
}

/**
 * R34: whether a run has a waiting step that can go on now — a call step whose child run is final, or an
 * approval that was decided. The worker asks right after suspending a run (a wake-up that came while the run
 * was still being delivered found no delayed job to promote), and the reconciler asks for every running run.
 */
export function wakeableRunsSql(scope: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`SELECT r."id" FROM "Run" r
    WHERE r."status" = 'running'::"RunStatus" ${scope}
      AND (EXISTS (SELECT 1 FROM "Run" c JOIN "RunStep" s ON s."runId" = r."id" AND s."stepId" = c."parentStepId" AND s."status" = 'waiting'::"StepStatus"
                   WHERE c."parentRunId" = r."id" AND c."status" IN ('succeeded'::"RunStatus", 'failed'::"RunStatus", 'canceled'::"RunStatus"))
        OR EXISTS (SELECT 1 FROM "RunApproval" a JOIN "RunStep" s ON s."runId" = a."runId" AND s."stepId" = a."stepId" AND s."status" = 'waiting'::"StepStatus"
                   WHERE a."runId" = r."id" AND (a."decidedAt" IS NOT NULL OR a."expiresAt" <= now() AT TIME ZONE 'UTC')))`;
}

export async function isWakeable(db: Db, runId: string): Promise<boolean> {
  return (await query<{ id: string }>(db, wakeableRunsSql(Prisma.sql`AND r."id" = ${runId}`))).length > 0;
}


/** The trigger of an error workflow's run (R35); its own failure starts no error workflow. */
export const ERROR_TRIGGER = "error";

/**
 * R35: a failed run (not a canceled one) whose definition names `settings.errorWorkflowId` starts that
 * workflow's published version once — the run id is derived from the failed run — with input
 * `{ run: { id, workflowId, error, failedStepId }, workflow: { id, name } }`. Linked to the failed run
 * (parentRunId, no parentStepId: nobody waits for it). A target that is missing or unpublished is logged.
 */
export async function startErrorWorkflow(
  deps: Pick<EngineDeps, "db" | "redis" | "env" | "logger">,
  failed: { id: string; workflowId: string; workspaceId: string; error: string | null; errorWorkflowId: string },
): Promise<string | null> {
  const id = errorRunId(failed.id);
  if (await deps.db.run.findUnique({ where: { id }, select: { id: true } })) {
    await enqueueRun(runQueueOf(deps), id).catch(() => {});
    return id;
  }
  const target = await publishedTarget(deps.db, failed.workspaceId, failed.errorWorkflowId);
  if (!target.ok) {
    deps.logger.warn("error workflow not started", { runId: failed.id, reason: target.error });
    return null;
  }
  const [failedStep] = await query<{ stepId: string }>(
    deps.db,
    Prisma.sql`SELECT "stepId" FROM "RunStep" WHERE "runId" = ${failed.id} AND "status" = 'failed'::"StepStatus" ORDER BY "finishedAt" DESC NULLS LAST LIMIT 1`,
  );
  const workflow = await deps.db.workflow.findUnique({ where: { id: failed.workflowId }, select: { name: true } });
  await startChildRun(deps, {
    id,
    workflowId: target.workflowId,
    workspaceId: failed.workspaceId,
    versionId: target.versionId,
    definition: target.definition,
    input: { run: { id: failed.id, workflowId: failed.workflowId, error: failed.error, failedStepId: failedStep?.stepId ?? null }, workflow: { id: failed.workflowId, name: workflow?.name ?? null } },
    trigger: ERROR_TRIGGER,
    parentRunId: failed.id,
    parentStepId: null,
    depth: 0,
  });
  return id;
}
