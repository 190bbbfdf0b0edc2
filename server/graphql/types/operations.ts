/** The operations page's API (docs/observability.md): workspace owners only. */
import { builder } from "../builder.js";
import { requireWorkspaceRole } from "../../services/access.js";
import { bulkRunAction, collabRooms, MAX_BULK_RUNS, queueFigures, troubledRuns, type BulkRunResult, type CollabRoomView, type QueueFigures, type TroubledRun } from "../../services/operations.js";
import { RunRef } from "./run.js";

const QueueFiguresRef = builder.objectRef<QueueFigures>("QueueFigures").implement({
  description: "One BullMQ queue, cluster-wide (every workspace's jobs): job counts by state and the workers listening.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The queue: runs (run executions) or connectors (connection tests)." }),
    waiting: t.exposeInt("waiting", { description: "Jobs waiting for a worker." }),
    active: t.exposeInt("active", { description: "Jobs a worker is executing now." }),
    delayed: t.exposeInt("delayed", { description: "Jobs waiting for a time: runs paused in a delay step, retries with backoff." }),
    failed: t.exposeInt("failed", { description: "Jobs BullMQ gave up on (the run itself is failed by the engine or the reconciler)." }),
    workers: t.exposeInt("workers", { description: "Worker connections alive on this queue, all processes." }),
  }),
});

const RunTroubleEnum = builder.enumType("RunTrouble", {
  description: "Why a run is listed on the operations page.",
  values: {
    failed: { description: "The run failed." },
    canceled: { description: "The run was canceled." },
    stuck: { description: "Queued for over a minute without a worker taking it, or running for over 15 minutes." },
  } as const,
});

const TroubledRunRef = builder.objectRef<TroubledRun>("TroubledRun").implement({
  description: "A run of the workspace that failed, was canceled or is stuck.",
  fields: (t) => ({
    run: t.field({ type: RunRef, description: "The run itself.", resolve: (troubled) => troubled }),
    workflowName: t.exposeString("workflowName", { description: "The name of the run's workflow now." }),
    trouble: t.field({ type: RunTroubleEnum, description: "Why it is listed.", resolve: (troubled) => troubled.trouble }),
  }),
});

const CollabRoomRef = builder.objectRef<CollabRoomView>("CollabRoom").implement({
  description: "A workflow of the workspace open in the editor.",
  fields: (t) => ({
    workflowId: t.exposeID("workflowId", { description: "The open workflow." }),
    workflowName: t.exposeString("workflowName", { description: "Its name." }),
    connections: t.exposeInt("connections", { description: "Open y-websocket connections to this workflow, all collab processes." }),
  }),
});

const CollabFiguresRef = builder.objectRef<{ processes: number; rooms: CollabRoomView[] }>("CollabFigures").implement({
  description: "Live collaboration, over every collab process.",
  fields: (t) => ({
    processes: t.exposeInt("processes", { description: "Collab processes that reported in the last 15 seconds." }),
    rooms: t.field({ type: [CollabRoomRef], description: "This workspace's workflows open in a room.", resolve: (figures) => figures.rooms }),
  }),
});

const OperationsRef = builder.objectRef<{ workspaceId: string }>("Operations").implement({
  description: "What an owner needs to run the workspace: queues, troubled runs, collab rooms, workers.",
  fields: (t) => ({
    workspaceId: t.exposeID("workspaceId", { description: "The workspace these figures are for." }),
    queues: t.field({ type: [QueueFiguresRef], description: "Every queue's job counts and workers (cluster-wide).", resolve: (ops, _args, ctx) => queueFigures(ctx.deps, ctx.caller, ops.workspaceId) }),
    troubledRuns: t.field({
      type: [TroubledRunRef],
      description: "The workspace's latest 50 failed, canceled or stuck runs, newest first.",
      resolve: (ops, _args, ctx) => troubledRuns(ctx.deps, ctx.caller, ops.workspaceId),
    }),
    collab: t.field({ type: CollabFiguresRef, description: "The workspace's workflows open in the editor.", resolve: (ops, _args, ctx) => collabRooms(ctx.deps, ctx.caller, ops.workspaceId) }),
  }),
});

builder.queryField("operations", (t) =>
  t.field({
    type: OperationsRef,
    description: "The workspace's operations figures (owners only; others get FORBIDDEN, outsiders NOT_FOUND).",
    args: { workspaceId: t.arg.id({ required: true, description: "A workspace the caller owns." }) },
    resolve: async (_root, args, ctx) => {
      await requireWorkspaceRole(ctx.deps.db, ctx.caller, String(args.workspaceId), "manage");
      return { workspaceId: String(args.workspaceId) };
    },
  }),
);

const BulkRunInput = builder.inputType("BulkRunInput", {
  description: "Runs of one workspace to retry or cancel together.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace; a run of any other is NOT_FOUND." }),
    runIds: t.idList({ required: true, description: `1–${MAX_BULK_RUNS} runs of the workspace.` }),
  }),
});

const BulkRunFailureRef = builder.objectRef<BulkRunResult["failures"][number]>("BulkRunFailure").implement({
  description: "A run the bulk action left as it was, and why.",
  fields: (t) => ({
    runId: t.exposeID("runId", { description: "The run id as given." }),
    code: t.exposeString("code", { description: "NOT_FOUND (not a run of the workspace) or CONFLICT (wrong status)." }),
    message: t.exposeString("message", { description: "Why, in a sentence." }),
  }),
});

const BulkRunResultRef = builder.objectRef<BulkRunResult>("BulkRunResult").implement({
  description: "What a bulk retry or cancel did.",
  fields: (t) => ({
    runs: t.field({ type: [RunRef], description: "For retryRuns the new runs, for cancelRuns the canceled runs.", resolve: (result) => result.runs }),
    failures: t.field({ type: [BulkRunFailureRef], description: "The runs it did not retry or cancel.", resolve: (result) => result.failures }),
  }),
});

builder.mutationFields((t) => ({
  retryRuns: t.field({
    type: BulkRunResultRef,
    description: "Owners: re-runs each failed or canceled run from its first failed step (earlier outputs reused).",
    args: { input: t.arg({ type: BulkRunInput, required: true, description: "The workspace and its runs." }) },
    resolve: (_root, { input }, ctx) => bulkRunAction(ctx.deps, ctx.caller, "retry", String(input.workspaceId), input.runIds.map(String)),
  }),
  cancelRuns: t.field({
    type: BulkRunResultRef,
    description: "Owners: cancels each queued or running run.",
    args: { input: t.arg({ type: BulkRunInput, required: true, description: "The workspace and its runs." }) },
    resolve: (_root, { input }, ctx) => bulkRunAction(ctx.deps, ctx.caller, "cancel", String(input.workspaceId), input.runIds.map(String)),
  }),
}));
