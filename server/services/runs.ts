import { newId, StartRunInput, type RunStatus, type StepStatus } from "@algorythmos/domain";
import { definitionFromDoc } from "@algorythmos/domain";
import { enqueueRun, json, loadWorkflowDoc, publishRunEvent } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page } from "./pagination.js";

const RUN_SELECT = {
  id: true,
  workflowId: true,
  status: true,
  trigger: true,
  input: true,
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
  output: unknown;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
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
export async function startRun(deps: ServerDeps, caller: Caller, rawInput: unknown, trigger = "manual"): Promise<RunView> {
  const parsed = StartRunInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { workflowId, input } = parsed.data;
  await requireWorkflowRole(deps.db, caller, workflowId, "write");
  const workflow = await deps.db.workflow.findUnique({ where: { id: workflowId }, select: { workspaceId: true } });
  const doc = await loadWorkflowDoc(deps.db, workflowId);
  if (!workflow || !doc) throw notFound("Workflow");
  const { definition, problems } = definitionFromDoc(doc);
  doc.destroy();
  if (problems.length) {
    throw new AppError("UNPROCESSABLE", `The workflow cannot run: ${problems.map((p) => p.message).join("; ")}`, { problems });
  }
  const run = await deps.db.run.create({
    data: {
      id: newId("run"),
      workflowId,
      workspaceId: workflow.workspaceId,
      definition: json(definition),
      trigger,
      input: json(input),
    },
    select: RUN_SELECT,
  });
  // Enqueued only after the Run row is committed; the job id is the run id, so a retry cannot double it.
  await enqueueRun(deps.runQueue, run.id);
  await publishRunEvent(deps.db, deps.redis, deps.env.REDIS_PREFIX, {
    type: "run.queued",
    runId: run.id,
    workflowId,
    stepId: null,
    status: "queued",
    at: run.createdAt.toISOString(),
  });
  return run;
}

/** The run, for a caller who may read its workflow. Outsiders get NOT_FOUND. */
export async function getRun(deps: ServerDeps, caller: Caller, id: string): Promise<RunView> {
  const run = await deps.db.run.findUnique({ where: { id }, select: RUN_SELECT });
  if (!run) throw notFound("Run");
  try {
    await requireWorkflowRole(deps.db, caller, run.workflowId, "read");
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") throw notFound("Run");
    throw error;
  }
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
  args: { workflowId: string; status?: RunStatus | null; first?: number | null; after?: string | null },
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
