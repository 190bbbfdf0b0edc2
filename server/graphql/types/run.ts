import { RUN_EVENT_TYPES, RUN_STATUSES, STEP_STATUSES, type RunEvent } from "@algorythmos/domain";
import { runEventChannel, storedRunEvents, workflowRunsChannel } from "@algorythmos/platform";
import { locatedError, type GraphQLResolveInfo } from "graphql";
import { pathToArray } from "graphql/jsutils/Path.js";
import { builder } from "../builder.js";
import { pageArgs, toConnection } from "../connection.js";
import { requireWorkflowRole, watchWorkflowAccess } from "../../services/access.js";
import { cancelRun, getRun, listRuns, listRunSteps, retryRun, runDefinition, startRun, type RunStepView, type RunView } from "../../services/runs.js";
import type { GraphQLContext } from "../builder.js";

const RunStatusEnum = builder.enumType("RunStatus", { values: RUN_STATUSES });
const StepStatusEnum = builder.enumType("StepStatus", { values: STEP_STATUSES });
const RunEventTypeEnum = builder.enumType("RunEventType", {
  values: Object.fromEntries(RUN_EVENT_TYPES.map((type) => [type.replace(".", "_").toUpperCase(), { value: type }])),
});

const RunStepRef = builder.objectRef<RunStepView>("RunStep").implement({
  description: "One attempt of one step.",
  fields: (t) => ({
    id: t.exposeID("id"),
    stepId: t.exposeID("stepId"),
    type: t.exposeString("type"),
    status: t.field({ type: StepStatusEnum, resolve: (s) => s.status }),
    attempt: t.exposeInt("attempt"),
    input: t.field({ type: "JSON", nullable: true, resolve: (s) => s.input }),
    output: t.field({ type: "JSON", nullable: true, resolve: (s) => s.output }),
    error: t.exposeString("error", { nullable: true }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (s) => s.finishedAt }),
  }),
});

export const RunRef = builder.objectRef<RunView>("Run").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    workflowId: t.exposeID("workflowId"),
    status: t.field({ type: RunStatusEnum, resolve: (r) => r.status }),
    trigger: t.exposeString("trigger", { description: "manual, webhook, cron or retry." }),
    retryOfRunId: t.exposeID("retryOfRunId", { nullable: true, description: "For a re-run: the run it re-runs." }),
    fromStepId: t.exposeID("fromStepId", { nullable: true, description: "For a re-run: the step it restarted from." }),
    input: t.field({ type: "JSON", nullable: true, resolve: (r) => r.input }),
    output: t.field({ type: "JSON", nullable: true, resolve: (r) => r.output }),
    error: t.exposeString("error", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (r) => r.createdAt }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => r.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => r.finishedAt }),
    definition: t.field({
      type: "JSON",
      description: "The workflow definition captured when the run started.",
      resolve: (r, _args, ctx) => runDefinition(ctx.deps, ctx.caller, r.id),
    }),
    steps: t.field({ type: [RunStepRef], resolve: (r, _args, ctx) => listRunSteps(ctx.deps, ctx.caller, r.id) }),
  }),
});

const RunEventRef = builder.objectRef<RunEvent>("RunEvent").implement({
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "Increasing order of the event within its run." }),
    type: t.field({ type: RunEventTypeEnum, resolve: (e) => e.type }),
    runId: t.exposeID("runId"),
    workflowId: t.exposeID("workflowId"),
    stepId: t.exposeID("stepId", { nullable: true }),
    status: t.exposeString("status"),
    attempt: t.int({ nullable: true, description: "The attempt a step event is about.", resolve: (e) => e.attempt ?? null }),
    at: t.field({ type: "DateTime", resolve: (e) => e.at }),
    output: t.field({ type: "JSON", nullable: true, resolve: (e) => e.output ?? null }),
    error: t.exposeString("error", { nullable: true }),
  }),
});

const StartRunInput = builder.inputType("StartRunInput", {
  fields: (t) => ({
    workflowId: t.id({ required: true }),
    input: t.field({ type: "JSON", description: "The trigger input, available to steps as `input`." }),
  }),
});

builder.queryFields((t) => ({
  run: t.field({
    type: RunRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => getRun(ctx.deps, ctx.caller, String(args.id)),
  }),
  runs: t.connection({
    type: RunRef,
    args: { workflowId: t.arg.id({ required: true }), status: t.arg({ type: RunStatusEnum }) },
    resolve: async (_root, args, ctx) =>
      toConnection(
        await listRuns(ctx.deps, ctx.caller, { ...pageArgs(args), workflowId: String(args.workflowId), status: args.status }),
        args,
      ),
  }),
}));

const RetryRunInput = builder.inputType("RetryRunInput", {
  fields: (t) => ({
    runId: t.id({ required: true }),
    fromStepId: t.id({ required: true }),
    input: t.field({ type: "JSON", description: "An edited input (config) for that step; omit to keep it." }),
  }),
});

builder.mutationFields((t) => ({
  startRun: t.field({
    type: RunRef,
    args: { input: t.arg({ type: StartRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => startRun(ctx.deps, ctx.caller, input),
  }),
  cancelRun: t.field({
    type: RunRef,
    description: "Stops a queued or running run; its in-flight step is aborted.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => cancelRun(ctx.deps, ctx.caller, String(args.id)),
  }),
  retryRun: t.field({
    type: RunRef,
    description: "Re-runs a run from a step, reusing the earlier steps' outputs.",
    args: { input: t.arg({ type: RetryRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => retryRun(ctx.deps, ctx.caller, input),
  }),
}));

/**
 * A run's events: every stored event first (a late subscriber replays the run from the start), then live
 * ones from Redis. Subscribed to Redis before reading the store, de-duplicated by `seq`; ends after run.finished,
 * or with FORBIDDEN as soon as the caller loses access to the workflow (docs/security.md, "Membership changes").
 */
async function* runEventStream(ctx: GraphQLContext, runId: string): AsyncGenerator<RunEvent> {
  // The run's workflow, unauthorised: only to know what to watch; getRun below decides what the caller sees.
  const target = await ctx.deps.db.run.findUnique({ where: { id: runId }, select: { workflowId: true } });
  const access = await AccessWatch.start(ctx, target?.workflowId ?? "");
  try {
    const run = await getRun(ctx.deps, ctx.caller, runId); // authorises, NOT_FOUND for outsiders
    const live = access.end(await ctx.hub.iterate(runEventChannel(ctx.deps.env.REDIS_PREFIX, run.id)));
    // Replay and live overlap: skip exactly the events already sent. Not "seq <= last seen": two processes
    // (a worker, the server canceling) may publish in another order than their rows were numbered.
    const sent = new Set<number>();
    for (const event of await storedRunEvents(ctx.deps.db, run.id)) {
      access.throwIfLost();
      sent.add(event.seq);
      yield event;
      if (event.type === "run.finished") return;
    }
    for await (const message of live) {
      access.throwIfLost();
      const event = JSON.parse(message) as RunEvent;
      if (sent.has(event.seq)) continue;
      sent.add(event.seq);
      yield event;
      if (event.type === "run.finished") return;
    }
    access.throwIfLost();
  } finally {
    await access.stop();
  }
}

async function* workflowRunStream(ctx: GraphQLContext, workflowId: string): AsyncGenerator<RunEvent> {
  const access = await AccessWatch.start(ctx, workflowId);
  try {
    await requireWorkflowRole(ctx.deps.db, ctx.caller, workflowId, "read");
    const live = access.end(await ctx.hub.iterate(workflowRunsChannel(ctx.deps.env.REDIS_PREFIX, workflowId)));
    for await (const message of live) {
      access.throwIfLost();
      yield JSON.parse(message) as RunEvent;
    }
    access.throwIfLost();
  } finally {
    await access.stop();
  }
}

/**
 * Ends a subscription when its caller loses read access: the watch listens first, then the stream authorises
 * (so no membership change falls in between); a loss closes the live iterator and the stream throws the error.
 */
class AccessWatch {
  private lost: Error | null = null;
  private live: { close(): Promise<void> } | null = null;
  private stopListening: () => Promise<void> = async () => {};

  static async start(ctx: GraphQLContext, workflowId: string): Promise<AccessWatch> {
    const watch = new AccessWatch();
    watch.stopListening = await watchWorkflowAccess(ctx.deps, ctx.hub, ctx.caller, workflowId, "read", (error) => {
      watch.lost = error;
      void watch.live?.close();
    });
    return watch;
  }

  /** The live iterator to close when access is lost. */
  end<T extends { close(): Promise<void> }>(live: T): T {
    this.live = live;
    if (this.lost) void live.close();
    return live;
  }

  throwIfLost(): void {
    if (this.lost) throw this.lost;
  }

  async stop(): Promise<void> {
    await this.stopListening();
    await this.live?.close();
  }
}

/**
 * A subscription's stream whose errors are the field's errors: graphql-js rethrows what a source stream throws
 * as it is, without the `path` and `locations` every field error carries (GraphQL spec, "Errors").
 */
async function* asFieldStream<T>(stream: AsyncGenerator<T>, info: GraphQLResolveInfo): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (error) {
    throw locatedError(error, info.fieldNodes, pathToArray(info.path));
  }
}

builder.subscriptionFields((t) => ({
  runEvents: t.field({
    type: RunEventRef,
    description: "Every event of one run, replayed from its start, then live; completes after run.finished.",
    args: { runId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx, info) => asFieldStream(runEventStream(ctx, String(args.runId)), info),
    resolve: (event) => event,
  }),
  workflowRuns: t.field({
    type: RunEventRef,
    description: "Live events of every run of one workflow.",
    args: { workflowId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx, info) => asFieldStream(workflowRunStream(ctx, String(args.workflowId)), info),
    resolve: (event) => event,
  }),
}));
