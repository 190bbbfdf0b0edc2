/** The operations page's API (docs/observability.md): workspace owners only. */
import { builder } from "../builder.js";
import { requireWorkspaceRole } from "../../services/access.js";
import { bulkRunAction, collabRooms, MAX_BULK_RUNS, queueFigures, troubledRuns, type BulkRunResult, type CollabRoomView, type QueueFigures, type TroubledRun } from "../../services/operations.js";
import { RunRef } from "./run.js";

const QueueFiguresRef = builder.objectRef<QueueFigures>("QueueFigures").implement({
  description: "One BullMQ queue, cluster-wide (every workspace's jobs): job counts by state and the workers listening.",
  fields: (t) => ({
    name: t.exposeString("name"),
    waiting: t.exposeInt("waiting"),
    active: t.exposeInt("active"),
    delayed: t.exposeInt("delayed"),
    failed: t.exposeInt("failed", { description: "Jobs BullMQ gave up on (the run itself is failed by the engine or the reconciler)." }),
    workers: t.exposeInt("workers", { description: "Worker connections alive on this queue, all processes." }),
  }),
});

const RunTroubleEnum = builder.enumType("RunTrouble", {
  values: {
    failed: { description: "The run failed." },
    canceled: { description: "The run was canceled." },
    stuck: { description: "Queued for over a minute without a worker taking it, or running for over 15 minutes." },
  } as const,
});

const TroubledRunRef = builder.objectRef<TroubledRun>("TroubledRun").implement({
  fields: (t) => ({
    run: t.field({ type: RunRef, resolve: (troubled) => troubled }),
    workflowName: t.exposeString("workflowName"),
    trouble: t.field({ type: RunTroubleEnum, resolve: (troubled) => troubled.trouble }),
  }),
});

const CollabRoomRef = builder.objectRef<CollabRoomView>("CollabRoom").implement({
  fields: (t) => ({
    workflowId: t.exposeID("workflowId"),
    workflowName: t.exposeString("workflowName"),
    connections: t.exposeInt("connections", { description: "Open y-websocket connections to this workflow, all collab processes." }),
  }),
});

const CollabFiguresRef = builder.objectRef<{ processes: number; rooms: CollabRoomView[] }>("CollabFigures").implement({
  fields: (t) => ({
    processes: t.exposeInt("processes", { description: "Collab processes that reported in the last 15 seconds." }),
    rooms: t.field({ type: [CollabRoomRef], description: "This workspace's workflows open in a room.", resolve: (figures) => figures.rooms }),
  }),
});

const OperationsRef = builder.objectRef<{ workspaceId: string }>("Operations").implement({
  description: "What an owner needs to run the workspace: queues, troubled runs, collab rooms, workers.",
  fields: (t) => ({
    workspaceId: t.exposeID("workspaceId"),
    queues: t.field({ type: [QueueFiguresRef], resolve: (ops, _args, ctx) => queueFigures(ctx.deps, ctx.caller, ops.workspaceId) }),
    troubledRuns: t.field({
      type: [TroubledRunRef],
      description: "The workspace's latest 50 failed, canceled or stuck runs, newest first.",
      resolve: (ops, _args, ctx) => troubledRuns(ctx.deps, ctx.caller, ops.workspaceId),
    }),
    collab: t.field({ type: CollabFiguresRef, resolve: (ops, _args, ctx) => collabRooms(ctx.deps, ctx.caller, ops.workspaceId) }),
  }),
});

builder.queryField("operations", (t) =>
  t.field({
    type: OperationsRef,
    description: "The workspace's operations figures (owners only; others get FORBIDDEN, outsiders NOT_FOUND).",
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await requireWorkspaceRole(ctx.deps.db, ctx.caller, String(args.workspaceId), "manage");
      return { workspaceId: String(args.workspaceId) };
    },
  }),
);

const BulkRunInput = builder.inputType("BulkRunInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    runIds: t.idList({ required: true, description: `1–${MAX_BULK_RUNS} runs of the workspace.` }),
  }),
});

const BulkRunFailureRef = builder.objectRef<BulkRunResult["failures"][number]>("BulkRunFailure").implement({
  fields: (t) => ({
    runId: t.exposeID("runId"),
    code: t.exposeString("code", { description: "NOT_FOUND (not a run of the workspace) or CONFLICT (wrong status)." }),
    message: t.exposeString("message"),
  }),
});

const BulkRunResultRef = builder.objectRef<BulkRunResult>("BulkRunResult").implement({
  fields: (t) => ({
    runs: t.field({ type: [RunRef], description: "retryRuns: the new runs; cancelRuns: the canceled runs.", resolve: (result) => result.runs }),
    failures: t.field({ type: [BulkRunFailureRef], resolve: (result) => result.failures }),
  }),
});

builder.mutationFields((t) => ({
  retryRuns: t.field({
    type: BulkRunResultRef,
    description: "Owners: re-runs each failed or canceled run from its first failed step (earlier outputs reused).",
    args: { input: t.arg({ type: BulkRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => bulkRunAction(ctx.deps, ctx.caller, "retry", String(input.workspaceId), input.runIds.map(String)),
  }),
  cancelRuns: t.field({
    type: BulkRunResultRef,
    description: "Owners: cancels each queued or running run.",
    args: { input: t.arg({ type: BulkRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => bulkRunAction(ctx.deps, ctx.caller, "cancel", String(input.workspaceId), input.runIds.map(String)),
  }),
}));
