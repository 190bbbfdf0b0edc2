import {
  isStepType,
  newId,
  parseStepConfig,
  RetryRunInput,
  StartRunInput,
  stepAndDescendants,
  WorkflowDefinition,
  type RunStatus,
  type StepStatus,
} from "@algorythmos/domain";
import {
  cancelRunChannel,
  createRun,
  enqueueRun,
  loadLiveWorkflow,
  nullableJson,
  Prisma,
  query,
  stopRun,
  type LiveWorkflow,
  type NewRun,
  type RunLifecycleDeps,
  type Tx,
} from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole, type Need } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page, type PageArgsInput } from "./pagination.js";

/** The run columns every run read returns (the operations page adds the workflow's name). */
export const RUN_SELECT = {
  id: true,
  workflowId: true,
  status: true,
  trigger: true,
  input: true,
  retryOfRunId: true,
  fromStepId: true,
  output: true,
  error: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} as const;

export interface RunView {
  id: string;
  workflowId: string;
  status: RunStatus;
  trigger: string;
  input: unknown;
  retryOfRunId: string | null;
  fromStepId: string | null;
  output: unknown;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The definition a run captured when it started (later edits do not change it). */
export async function runDefinition(deps: ServerDeps, caller: Caller, id: string): Promise<unknown> {
  await getRun(deps, caller, id);
  const row = await deps.db.run.findUniqueOrThrow({ where: { id }, select: { definition: true } });
  return row.definition;
}

export interface RunStepView {
  id: string;
  stepId: string;
  type: string;
  status: StepStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * Starts a run of the workflow as it is now: the definition is read from the stored Y.Doc (snapshot plus
 * every acknowledged update), so the run sees the latest edit even before it is materialised.
 */
export async function startRun(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<RunView> {
  const parsed = StartRunInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  await requireWorkflowRole(deps.db, caller, parsed.data.workflowId, "write");
  const workflow = await loadLiveWorkflow(deps.db, parsed.data.workflowId);
  if (!workflow) throw notFound("Workflow");
  return startAuthorisedRun(deps, workflow, parsed.data.input, "manual");
}

/** Starts a run of a workflow the caller was already allowed to run (the API above, webhooks). */
export async function startAuthorisedRun(deps: ServerDeps, workflow: LiveWorkflow, input: unknown, trigger: string): Promise<RunView> {
  const { id: workflowId, definition, problems } = workflow;
  if (problems.length) {
    throw new AppError("UNPROCESSABLE", `The workflow cannot run: ${problems.map((p) => p.message).join("; ")}`, { problems });
  }
  return createAndEnqueue(deps, { id: newId("run"), workflowId, workspaceId: workflow.workspaceId, definition, trigger, input });
}

/** What a webhook checks first: the workflow's secret and the head of its update log (`Workflow.updateSeq`). */
export async function readWorkflowHead(deps: ServerDeps, workflowId: string): Promise<{ webhookSecret: string; updateSeq: number } | null> {
  const rows = await query<{ webhookSecret: string; updateSeq: string | number }>(
    deps.db,
    Prisma.sql`SELECT "webhookSecret", "updateSeq" FROM "Workflow" WHERE "id" = ${workflowId}`,
    "algo_workflow_head",
  );
  return rows[0] ? { webhookSecret: rows[0].webhookSecret, updateSeq: Number(rows[0].updateSeq) } : null;
}

/** Live workflows by id, each as of one log head; per Prisma client (tests run several servers in one process). */
const liveWorkflows = new WeakMap<ServerDeps["db"], Map<string, { updateSeq: number; workflow: LiveWorkflow }>>();
const LIVE_WORKFLOW_CACHE_SIZE = 256;

/**
 * The workflow as it is at log head `updateSeq` (readWorkflowHead). Every edit takes the next seq, so the same
 * head means the same document: a busy webhook reads and decodes it once per edit, not once per call. The
 * head is read before the document, so a cached document is never older than its key says.
 */
export async function liveWorkflowAt(deps: ServerDeps, workflowId: string, updateSeq: number): Promise<LiveWorkflow | null> {
  let cache = liveWorkflows.get(deps.db);
  if (!cache) liveWorkflows.set(deps.db, (cache = new Map()));
  const cached = cache.get(workflowId);
  if (cached && cached.updateSeq === updateSeq) return cached.workflow;
  const workflow = await loadLiveWorkflow(deps.db, workflowId);
  cache.delete(workflowId);
  if (workflow) {
    cache.set(workflowId, { updateSeq, workflow });
    if (cache.size > LIVE_WORKFLOW_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return workflow;
}

const lifecycle = (deps: ServerDeps): RunLifecycleDeps => ({ db: deps.db, redis: deps.redis, redisPrefix: deps.env.REDIS_PREFIX, logger: deps.logger });

/**
 * The run and its run.queued event are one statement (platform createRun). A committed `queued` Run row is
 * the enqueue intent: it is enqueued only after the commit, and when the enqueue fails (Redis down) the
 * worker's reconciler enqueues it later. The job id is the run id, so enqueueing twice cannot run it twice.
 */
async function createAndEnqueue(deps: ServerDeps, run: NewRun, alsoInTransaction?: (tx: Tx) => Promise<void>): Promise<RunView> {
  const { createdAt } = await createRun(lifecycle(deps), run, { alsoInTransaction });
  await enqueueRun(deps.runQueue, run.id).catch((error) => deps.logger.warn("enqueue failed; the reconciler will retry", { runId: run.id, error }));
  return {
    id: run.id,
    workflowId: run.workflowId,
    status: "queued",
    trigger: run.trigger,
    input: run.input ?? null,
    retryOfRunId: run.retryOfRunId ?? null,
    fromStepId: run.fromStepId ?? null,
    output: null,
    error: null,
    createdAt,
    startedAt: null,
    finishedAt: null,
  };
}

/** Cancels a queued or running run; the worker stops it between steps and aborts its in-flight call. */
export async function cancelRun(deps: ServerDeps, caller: Caller, id: string): Promise<RunView> {
  const run = await getRun(deps, caller, id, "write");
  const user = await deps.db.user.findUnique({ where: { id: caller.principal!.userId }, select: { name: true } });
  // R15: canceled and its run.finished, one statement.
  const canceled = await stopRun(lifecycle(deps), { runId: id, workflowId: run.workflowId, reason: "canceled", error: `Canceled by ${user?.name ?? "a user"}` });
  if (!canceled) throw new AppError("CONFLICT", `The run is already ${run.status}`);
  await deps.redis.publish(cancelRunChannel(deps.env.REDIS_PREFIX), id);
  return getRun(deps, caller, id);
}

/**
 * Re-runs a run from one step: a new run with the same captured definition and input, in which every step
 * outside that step's downstream keeps its earlier output (copied into the new run's ledger, so the engine
 * reuses it), and that step optionally gets an edited input.
 */
export async function retryRun(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<RunView> {
  const parsed = RetryRunInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { runId, fromStepId, input: override } = parsed.data;
  const original = await getRun(deps, caller, runId, "write");
  const source = await deps.db.run.findUniqueOrThrow({ where: { id: runId }, select: { definition: true, workspaceId: true } });
  const definition = WorkflowDefinition.parse(source.definition);
  const step = definition.steps.find((candidate) => candidate.id === fromStepId);
  if (!step) throw badInput(`The run has no step "${fromStepId}"`, [{ path: ["input", "fromStepId"], message: "No such step" }]);
  if (override !== undefined && isStepType(step.type)) {
    try {
      parseStepConfig(step.type, override);
    } catch (error) {
      if (error && typeof error === "object" && "issues" in error) throw fromZodError(error as never, ["input", "input"]);
      throw error;
    }
  }
  const rerun = stepAndDescendants(definition, fromStepId);
  const id = newId("run");
  const rerunOf: NewRun = {
    id,
    workflowId: original.workflowId,
    workspaceId: source.workspaceId,
    definition,
    trigger: "retry",
    input: original.input,
    retryOfRunId: runId,
    fromStepId,
    stepInputOverride: override,
  };
  // The reused rows commit with the run (one transaction), so the engine never sees the run without them.
  return createAndEnqueue(deps, rerunOf, async (tx) => {
    const reused = await tx.runStep.findMany({
      where: { runId, status: "succeeded", stepId: { notIn: [...rerun] } },
      select: { stepId: true, type: true, input: true, output: true, startedAt: true, finishedAt: true },
    });
    if (reused.length) {
      await tx.runStep.createMany({
        data: reused.map((row) => ({ ...row, id: newId("rst"), runId: id, attempt: 1, status: "succeeded" as const, input: nullableJson(row.input), output: nullableJson(row.output) })),
      });
    }
  });
}

/** The run, for a caller with `need` on its workflow (read by default). Outsiders get NOT_FOUND. */
export async function getRun(deps: ServerDeps, caller: Caller, id: string, need: Need = "read"): Promise<RunView> {
  const run = await deps.db.run.findUnique({ where: { id }, select: RUN_SELECT });
  if (!run) throw notFound("Run");
  await requireWorkflowRole(deps.db, caller, run.workflowId, need, "Run");
  return run;
}

export async function listRunSteps(deps: ServerDeps, caller: Caller, runId: string): Promise<RunStepView[]> {
  await getRun(deps, caller, runId);
  return deps.db.runStep.findMany({
    where: { runId },
    orderBy: [{ startedAt: "asc" }, { stepId: "asc" }, { attempt: "asc" }],
    select: { id: true, stepId: true, type: true, status: true, attempt: true, input: true, output: true, error: true, startedAt: true, finishedAt: true },
  });
}

export async function listRuns(
  deps: ServerDeps,
  caller: Caller,
  args: { workflowId: string; status?: RunStatus | null } & PageArgsInput,
): Promise<Page<RunView>> {
  await requireWorkflowRole(deps.db, caller, args.workflowId, "read");
  const request = pageRequest(args);
  const rows = await deps.db.run.findMany({
    where: { workflowId: args.workflowId, ...(args.status && { status: args.status }), ...request.where },
    orderBy: PAGE_ORDER,
    take: request.take,
    select: RUN_SELECT,
  });
  return toPage(rows, request);
}
