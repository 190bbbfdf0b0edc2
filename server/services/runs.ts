import {
  defaultStartTrigger,
  isStepType,
  isTriggerType,
  newId,
  parseStepConfig,
  RetryRunInput,
  RUN_STATUSES,
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
  stopChildRuns,
  stopRun,
  type LiveWorkflow,
  type NewRun,
  type RunLifecycleDeps,
  type Tx,
} from "@algorythmos/platform";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole, type Need } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page, type PageArgsInput } from "./pagination.js";
import { publishedWorkflow, readWebhookTarget } from "./publish.js";

/** The run columns every run read returns (the operations page adds the workflow's name). */
export const RUN_SELECT = {
  id: true,
  workflowId: true,
  status: true,
  trigger: true,
  triggerStepId: true,
  input: true,
  retryOfRunId: true,
  fromStepId: true,
  versionId: true,
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
  /** R4: the trigger step it started at (null: chosen by its trigger kind). */
  triggerStepId: string | null;
  input: unknown;
  retryOfRunId: string | null;
  fromStepId: string | null;
  /** The published version it ran (WorkflowSnapshot id); null for a run of the draft. */
  versionId: string | null;
  output: unknown;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Which version a manual run runs: the live draft (default) or the published version. */
const RunVersionChoice = z.object({ version: z.enum(["DRAFT", "PUBLISHED"]).default("DRAFT") });

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
 * Starts a run of the draft as it is now (the default): the definition is read from the stored Y.Doc (snapshot
 * plus every acknowledged update), so the run sees the latest edit even before it is materialised. With
 * `version: PUBLISHED` it runs the published version instead (UNPROCESSABLE before the first publish).
 */
export async function startRun(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<RunView> {
  const parsed = StartRunInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const choice = RunVersionChoice.safeParse({ version: (rawInput as { version?: unknown } | null)?.version ?? undefined });
  if (!choice.success) throw fromZodError(choice.error, ["input"]);
  await requireWorkflowRole(deps.db, caller, parsed.data.workflowId, "write");
  if (choice.data.version === "PUBLISHED") {
    const target = await readWebhookTarget(deps.db, parsed.data.workflowId);
    if (!target) throw notFound("Workflow");
    const published = await publishedWorkflow(deps.db, parsed.data.workflowId, target);
    if (!published) throw new AppError("UNPROCESSABLE", "The workflow has never been published; publish it first, or run the draft");
    return startAuthorisedRun(deps, published, parsed.data.input, "manual", { versionId: published.versionId, triggerStepId: manualStart(published, parsed.data.triggerStepId) });
  }
  const workflow = await loadLiveWorkflow(deps.db, parsed.data.workflowId);
  if (!workflow) throw notFound("Workflow");
  return startAuthorisedRun(deps, workflow, parsed.data.input, "manual", { triggerStepId: manualStart(workflow, parsed.data.triggerStepId) });
}

/**
 * R4: the trigger a manual run starts at — the one asked for (any trigger of the workflow: running a webhook's
 * branch by hand is testing it), else the only manual trigger (or the only trigger). A workflow with problems is
 * refused by startAuthorisedRun first, with them.
 */
function manualStart(workflow: LiveWorkflow, triggerStepId: string | null | undefined): string | undefined {
  if (workflow.problems.length) return undefined;
  const steps = (workflow.definition as { steps?: { id: string; type: string; name?: string }[] }).steps ?? [];
  if (triggerStepId) {
    const step = steps.find((candidate) => candidate.id === triggerStepId);
    if (!step || !isTriggerType(step.type)) {
      const message = step ? `Step "${step.name || step.id}" is not a trigger` : `The workflow has no step "${triggerStepId}"`;
      throw badInput(message, [{ path: ["input", "triggerStepId"], message }]);
    }
    return step.id;
  }
  const start = defaultStartTrigger({ steps: steps as WorkflowDefinition["steps"] }, "manual");
  if (start.error !== undefined) throw badInput(start.error, [{ path: ["input", "triggerStepId"], message: start.error }]);
  return start.stepId;
}

/** What else a started run records: the published version it runs, writes that commit with it (a webhook's idempotency key). */
export interface StartRunOptions {
  versionId?: string | null;
  /** R4: the trigger step it starts at; default: the only trigger of the `trigger` kind's type (a webhook's, say). */
  triggerStepId?: string;
  alsoInTransaction?: (tx: Tx, runId: string) => Promise<void>;
}

/** Starts a run of a workflow the caller was already allowed to run (the API above, webhooks, published versions). */
export async function startAuthorisedRun(deps: ServerDeps, workflow: LiveWorkflow, input: unknown, trigger: string, options: StartRunOptions = {}): Promise<RunView> {
  const { id: workflowId, definition, problems } = workflow;
  if (problems.length) {
    throw new AppError("UNPROCESSABLE", `The workflow cannot run: ${problems.map((p) => p.message).join("; ")}`, { problems });
  }
  const id = newId("run");
  const also = options.alsoInTransaction;
  // Null when the kind does not pick one trigger (two webhook triggers): the engine then starts at every trigger of the kind.
  const triggerStepId = options.triggerStepId ?? defaultStartTrigger(definition as WorkflowDefinition, trigger).stepId ?? null;
  return createAndEnqueue(
    deps,
    { id, workflowId, workspaceId: workflow.workspaceId, definition, trigger, triggerStepId, input, versionId: options.versionId ?? null },
    also && ((tx) => also(tx, id)),
  );
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
    triggerStepId: run.triggerStepId ?? null,
    input: run.input ?? null,
    retryOfRunId: run.retryOfRunId ?? null,
    fromStepId: run.fromStepId ?? null,
    versionId: run.versionId ?? null,
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
  // R32: the child runs its steps wait for (workflow.call) are canceled with it.
  await stopChildRuns(lifecycle(deps), id, `Parent run canceled by ${user?.name ?? "a user"}`);
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
  const source = await deps.db.run.findUniqueOrThrow({ where: { id: runId }, select: { definition: true, workspaceId: true, triggerStepId: true } });
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
    // R4: a re-run starts at the trigger the run it re-runs started at (its row is reused).
    triggerStepId: source.triggerStepId,
    input: original.input,
    retryOfRunId: runId,
    fromStepId,
    stepInputOverride: override,
    versionId: original.versionId, // the same captured definition: a re-run of a published run ran that version too
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

/** How many of a workflow's newest runs (after the other filters) a text search reads: bounded, not indexed. */
export const RUN_SEARCH_WINDOW = 5_000;
export const MAX_RUN_SEARCH_LENGTH = 200;

/** A date-time filter: absent when empty (a cleared form field), else an ISO 8601 date-time. */
const optionalDate = (name: string) =>
  z.preprocess((value) => (value === "" ? undefined : value), z.coerce.date({ error: `${name} must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z` }).nullish());

/**
 * A runs list's filters, as GraphQL (`runs`) and REST (`GET /api/runs`) pass them: status, a creation-time
 * range (`createdAfter` inclusive, `createdBefore` exclusive) and a search by run id or input text.
 */
export const RunListFilters = z
  .object({
    status: z.enum(RUN_STATUSES).nullish(),
    createdAfter: optionalDate("createdAfter"),
    createdBefore: optionalDate("createdBefore"),
    search: z
      .string()
      .trim()
      .max(MAX_RUN_SEARCH_LENGTH, `search must be at most ${MAX_RUN_SEARCH_LENGTH} characters`)
      .nullish()
      .transform((value) => value || null),
  })
  .refine((f) => !f.createdAfter || !f.createdBefore || f.createdAfter < f.createdBefore, {
    message: "createdAfter must be earlier than createdBefore",
    path: ["createdAfter"],
  });
export type RunListFilters = z.input<typeof RunListFilters>;

/**
 * The ids of the runs a search matches: the run with that exact id, or runs whose input (as JSON text) contains
 * it, case-insensitively. The input is read from the newest RUN_SEARCH_WINDOW runs that pass the other filters
 * only, so a search costs at most that many rows however many runs the workflow has.
 */
async function searchRunIds(deps: ServerDeps, workflowId: string, search: string, where: Prisma.Sql[]): Promise<string[]> {
  const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await deps.db.$queryRaw<{ id: string }[]>(Prisma.sql`
    SELECT recent."id" FROM (
      SELECT "id", "input" FROM "Run" WHERE ${Prisma.join(where, " AND ")}
      ORDER BY "createdAt" DESC, "id" DESC LIMIT ${RUN_SEARCH_WINDOW}
    ) recent WHERE recent."input"::text ILIKE ${pattern}
    UNION SELECT "id" FROM "Run" WHERE "id" = ${search} AND "workflowId" = ${workflowId}`);
  return rows.map((row) => row.id);
}

export async function listRuns(
  deps: ServerDeps,
  caller: Caller,
  args: { workflowId: string } & RunListFilters & PageArgsInput,
): Promise<Page<RunView>> {
  const filters = RunListFilters.safeParse({ status: args.status, createdAfter: args.createdAfter, createdBefore: args.createdBefore, search: args.search });
  if (!filters.success) throw fromZodError(filters.error);
  await requireWorkflowRole(deps.db, caller, args.workflowId, "read");
  const request = pageRequest(args);
  const { status, createdAfter, createdBefore, search } = filters.data;
  const createdAt = createdAfter || createdBefore ? { ...(createdAfter && { gte: createdAfter }), ...(createdBefore && { lt: createdBefore }) } : undefined;
  let matching: string[] | undefined;
  if (search) {
    const sql = [Prisma.sql`"workflowId" = ${args.workflowId}`];
    if (status) sql.push(Prisma.sql`"status" = ${status}::"RunStatus"`);
    if (createdAfter) sql.push(Prisma.sql`"createdAt" >= ${createdAfter.toISOString()}::timestamp(3)`);
    if (createdBefore) sql.push(Prisma.sql`"createdAt" < ${createdBefore.toISOString()}::timestamp(3)`);
    matching = await searchRunIds(deps, args.workflowId, search, sql);
  }
  const rows = await deps.db.run.findMany({
    where: {
      workflowId: args.workflowId,
      ...(status && { status }),
      ...(createdAt && { createdAt }),
      ...(matching && { id: { in: matching } }),
      ...request.where,
    },
    orderBy: PAGE_ORDER,
    take: request.take,
    select: RUN_SELECT,
  });
  return toPage(rows, request);
}
