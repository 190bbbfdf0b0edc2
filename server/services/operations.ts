/**
 * The operations page's reads and bulk actions (docs/observability.md), for workspace owners only. Queue
 * depth and worker counts are cluster-wide figures (no ids); runs and collab rooms are the workspace's own.
 */
import { type RunStatus } from "@algorythmos/domain";
import { QUEUE_STATES, readCollabRooms } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, notFound } from "../errors.js";
import { requireWorkspaceRole } from "./access.js";
import { cancelRun, retryRun, RUN_SELECT as RUN_COLUMNS, type RunView } from "./runs.js";

/** A run queued this long without a worker taking it, or running this long, is shown as stuck. */
export const STUCK_QUEUED_MS = 60_000;
export const STUCK_RUNNING_MS = 15 * 60_000;
/** How many runs one bulk action takes, and how many troubled runs the page lists. */
export const MAX_BULK_RUNS = 100;
const LISTED_RUNS = 50;

export interface QueueFigures {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  workers: number;
}

export interface TroubledRun extends RunView {
  workflowName: string;
  /** failed, canceled, or stuck (queued or running for too long). */
  trouble: "failed" | "canceled" | "stuck";
}

export interface CollabRoomView {
  workflowId: string;
  workflowName: string;
  connections: number;
}

const RUN_SELECT = { ...RUN_COLUMNS, workflow: { select: { name: true } } } as const;

export async function queueFigures(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<QueueFigures[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const queues = [deps.runQueue, deps.connectorTests.queue];
  return Promise.all(
    queues.map(async (queue) => {
      const [counts, workers] = await Promise.all([queue.getJobCounts(...QUEUE_STATES), queue.getWorkersCount()]);
      return { name: queue.name, waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0, workers };
    }),
  );
}

/** The workspace's failed and canceled runs, newest first, and its stuck ones. */
export async function troubledRuns(deps: ServerDeps, caller: Caller, workspaceId: string, now = new Date()): Promise<TroubledRun[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const rows = await deps.db.run.findMany({
    where: {
      workspaceId,
      OR: [
        { status: { in: ["failed", "canceled"] } },
        { status: "queued", createdAt: { lt: new Date(now.getTime() - STUCK_QUEUED_MS) } },
        { status: "running", startedAt: { lt: new Date(now.getTime() - STUCK_RUNNING_MS) } },
      ],
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: LISTED_RUNS,
    select: RUN_SELECT,
  });
  return rows.map(({ workflow, ...run }) => ({
    ...run,
    workflowName: workflow.name,
    trouble: run.status === "failed" ? "failed" : run.status === "canceled" ? "canceled" : "stuck",
  }));
}

/** The workspace's workflows open in a collab room (any collab process), with their connections. */
export async function collabRooms(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<{ processes: number; rooms: CollabRoomView[] }> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const { processes, rooms } = await readCollabRooms(deps.redis, deps.env.REDIS_PREFIX);
  const connections = new Map<string, number>();
  for (const room of rooms) if (room.workspaceId === workspaceId) connections.set(room.workflowId, (connections.get(room.workflowId) ?? 0) + room.connections);
  if (!connections.size) return { processes, rooms: [] };
  // The workflow's workspace is read again: a room's figure never names another workspace's workflow.
  const workflows = await deps.db.workflow.findMany({ where: { id: { in: [...connections.keys()] }, workspaceId }, select: { id: true, name: true } });
  return {
    processes,
    rooms: workflows.map((workflow) => ({ workflowId: workflow.id, workflowName: workflow.name, connections: connections.get(workflow.id) ?? 0 })).sort((a, b) => b.connections - a.connections),
  };
}

export interface BulkRunResult {
  runs: RunView[];
  failures: { runId: string; code: string; message: string }[];
}

const RETRYABLE: RunStatus[] = ["failed", "canceled"];
const CANCELABLE: RunStatus[] = ["queued", "running"];

/**
 * Retries (a new run from the first step that failed, reusing earlier outputs; from the start when no step
 * failed) or cancels each of the workspace's runs. Runs outside the workspace are NOT_FOUND, whatever they are.
 */
export async function bulkRunAction(deps: ServerDeps, caller: Caller, action: "retry" | "cancel", workspaceId: string, runIds: string[]): Promise<BulkRunResult> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const ids = [...new Set(runIds)];
  if (!ids.length || ids.length > MAX_BULK_RUNS) {
    throw badInput(`Give between 1 and ${MAX_BULK_RUNS} run ids`, [{ path: ["input", "runIds"], message: `1–${MAX_BULK_RUNS} ids` }]);
  }
  const found = await deps.db.run.findMany({ where: { id: { in: ids }, workspaceId }, select: { id: true, status: true, definition: true } });
  const byId = new Map(found.map((run) => [run.id, run]));
  const result: BulkRunResult = { runs: [], failures: [] };
  for (const runId of ids) {
    const run = byId.get(runId);
    try {
      if (!run) throw notFound("Run");
      if (action === "retry") {
        if (!RETRYABLE.includes(run.status)) throw new AppError("CONFLICT", `The run is ${run.status}; only failed or canceled runs are retried`);
        result.runs.push(await retryRun(deps, caller, { runId, fromStepId: await retryFrom(deps, runId, run.definition) }));
      } else {
        if (!CANCELABLE.includes(run.status)) throw new AppError("CONFLICT", `The run is already ${run.status}`);
        result.runs.push(await cancelRun(deps, caller, runId));
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      result.failures.push({ runId, code: error.code, message: error.message });
    }
  }
  return result;
}

/** The step a bulk retry restarts from: the first that failed, else the first step of the definition. */
async function retryFrom(deps: ServerDeps, runId: string, definition: unknown): Promise<string> {
  const failed = await deps.db.runStep.findFirst({ where: { runId, status: "failed" }, orderBy: [{ startedAt: "asc" }, { attempt: "asc" }], select: { stepId: true } });
  if (failed) return failed.stepId;
  const first = (definition as { steps?: { id?: unknown }[] } | null)?.steps?.[0]?.id;
  if (typeof first !== "string") throw new AppError("UNPROCESSABLE", "The run's definition has no steps to retry from");
  return first;
}
