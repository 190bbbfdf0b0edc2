import { RUN_EVENT_TYPES, type RunEvent, type RunEventType, type RunStatus, type StepStatus } from "@algorythmos/domain";
import { runEventChannel, runEventsOfMessage, storedRunEvents, workflowRunsChannel } from "@algorythmos/platform";
import { locatedError, type GraphQLResolveInfo } from "graphql";
import { pathToArray } from "graphql/jsutils/Path.js";
import { builder } from "../builder.js";
import { pageArgs, toConnection } from "../connection.js";
import { requireWorkflowRole, watchWorkflowAccess } from "../../services/access.js";
import { cancelRun, getRun, listRuns, listRunSteps, retryRun, runDefinition, startRun, type RunStepView, type RunView } from "../../services/runs.js";
import type { GraphQLContext } from "../builder.js";

const RunStatusEnum = builder.enumType("RunStatus", {
  description: "Where a run is; succeeded, failed and canceled are final.",
  values: {
    queued: { description: "Waiting for a worker." },
    running: { description: "A worker is executing its steps (or it waits in a delay)." },
    succeeded: { description: "Every step on its path succeeded (final)." },
    failed: { description: "A step failed with no attempt left (final)." },
    canceled: { description: "Stopped by cancelRun (final)." },
  } satisfies Record<RunStatus, { description: string }>,
});
const StepStatusEnum = builder.enumType("StepStatus", {
  description: "Where one attempt of a step is.",
  values: {
    pending: { description: "Not started yet." },
    running: { description: "Executing." },
    retrying: { description: "Failed; another attempt follows after a backoff." },
    succeeded: { description: "Done, with an output." },
    failed: { description: "Failed with no attempt left." },
    skipped: { description: "Not run: it is not on the path taken (the other branch of a condition)." },
    waiting: { description: "Paused without a worker until someone decides (an approval) or a child run finishes (workflow.call)." },
  } satisfies Record<StepStatus, { description: string }>,
});
const RUN_EVENT_DESCRIPTIONS: Record<RunEventType, string> = {
  "run.queued": "The run was queued.",
  "run.started": "A worker started the run.",
  "run.finished": "The run reached a final status (the last event of a run).",
  "step.started": "A step attempt started.",
  "step.retrying": "A step attempt failed; another follows.",
  "step.succeeded": "A step succeeded, with its output.",
  "step.failed": "A step failed with no attempt left, with its error.",
  "step.skipped": "A step was skipped.",
  "step.chunk": "Streamed output of a running step (e.g. LLM text as it arrives).",
  "step.waiting": "A step is paused until woken (an approval, a child run); its output says what it waits for (an approval's URL).",
};
const RunEventTypeEnum = builder.enumType("RunEventType", {
  description: "What a run event says happened (the event's `type` in the run's log: run.queued → RUN_QUEUED).",
  values: Object.fromEntries(RUN_EVENT_TYPES.map((type) => [type.replace(".", "_").toUpperCase(), { value: type, description: RUN_EVENT_DESCRIPTIONS[type] }])),
});

const RunStepRef = builder.objectRef<RunStepView>("RunStep").implement({
  description: "One attempt of one step.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The attempt's id." }),
    stepId: t.exposeID("stepId", { description: "The step's id in the run's definition." }),
    type: t.exposeString("type", { description: "The step type, e.g. http.request." }),
    status: t.field({ type: StepStatusEnum, description: "Where this attempt is.", resolve: (s) => s.status }),
    attempt: t.exposeInt("attempt", { description: "1 for the first attempt, then 2, 3… for retries." }),
    input: t.field({ type: "JSON", nullable: true, description: "The step's resolved config as this attempt used it.", resolve: (s) => s.input }),
    output: t.field({ type: "JSON", nullable: true, description: "What the step produced; null until it succeeded.", resolve: (s) => s.output }),
    error: t.exposeString("error", { nullable: true, description: "Why the attempt failed; null otherwise." }),
    startedAt: t.field({ type: "DateTime", nullable: true, description: "When the attempt started.", resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, description: "When the attempt ended; null while it runs.", resolve: (s) => s.finishedAt }),
  }),
});

export const RunRef = builder.objectRef<RunView>("Run").implement({
  description: "One execution of a workflow, as the workflow was when it started.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The run's id (`run_…`)." }),
    workflowId: t.exposeID("workflowId", { description: "The workflow it runs." }),
    status: t.field({ type: RunStatusEnum, description: "Where the run is.", resolve: (r) => r.status }),
    trigger: t.exposeString("trigger", { description: "What started it: manual, webhook, cron or retry." }),
    triggerStepId: t.string({
      nullable: true,
      description: "The trigger step it started at (R4); the other triggers were skipped. Null for runs that chose by their trigger kind.",
      resolve: (r) => r.triggerStepId ?? null,
    }),
    retryOfRunId: t.exposeID("retryOfRunId", { nullable: true, description: "For a re-run: the run it re-runs." }),
    fromStepId: t.exposeID("fromStepId", { nullable: true, description: "For a re-run: the step it restarted from." }),
    input: t.field({ type: "JSON", nullable: true, description: "The trigger input (startRun's input, a webhook's { body, query, headers }).", resolve: (r) => r.input }),
    output: t.field({ type: "JSON", nullable: true, description: "The output of the run's last step; null until it succeeded.", resolve: (r) => r.output }),
    error: t.exposeString("error", { nullable: true, description: "Why it failed or who canceled it; null otherwise." }),
    createdAt: t.field({ type: "DateTime", description: "When it was queued.", resolve: (r) => r.createdAt }),
    startedAt: t.field({ type: "DateTime", nullable: true, description: "When a worker started it.", resolve: (r) => r.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, description: "When it reached a final status.", resolve: (r) => r.finishedAt }),
    definition: t.field({
      type: "JSON",
      description: "The workflow definition captured when the run started.",
      resolve: (r, _args, ctx) => runDefinition(ctx.deps, ctx.caller, r.id),
    }),
    steps: t.field({ type: [RunStepRef], description: "Every step attempt, in the order they started.", resolve: (r, _args, ctx) => listRunSteps(ctx.deps, ctx.caller, r.id) }),
  }),
});

const RunEventRef = builder.objectRef<RunEvent>("RunEvent").implement({
  description: "Something that happened in a run: its status, or a step's.",
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "Increasing order of the event within its run." }),
    type: t.field({ type: RunEventTypeEnum, description: "What happened.", resolve: (e) => e.type }),
    runId: t.exposeID("runId", { description: "The run." }),
    workflowId: t.exposeID("workflowId", { description: "The run's workflow." }),
    stepId: t.exposeID("stepId", { nullable: true, description: "The step a step event is about; null for run events." }),
    status: t.exposeString("status", { description: "The run's status (run events) or the step's (step events) after the event." }),
    attempt: t.int({ nullable: true, description: "The attempt a step event is about.", resolve: (e) => e.attempt ?? null }),
    at: t.field({ type: "DateTime", description: "When it happened.", resolve: (e) => e.at }),
    output: t.field({ type: "JSON", nullable: true, description: "A succeeded step's output, a run's output, or a chunk's text.", resolve: (e) => e.output ?? null }),
    error: t.exposeString("error", { nullable: true, description: "The error of a failed step or run." }),
  }),
});

const RunVersionEnum = builder.enumType("RunVersion", {
  description: "Which version of a workflow a manual run runs.",
  values: {
    DRAFT: { description: "The draft as it is now (every acknowledged edit); Run.version is null." },
    PUBLISHED: { description: "The published version (UNPROCESSABLE before the first publish)." },
  },
});

const StartRunInput = builder.inputType("StartRunInput", {
  description: "A run to start.",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow to run (editors and owners)." }),
    input: t.field({ type: "JSON", description: "The trigger input, available to steps as `input`." }),
    version: t.field({ type: RunVersionEnum, description: "What to run: the draft (default) or the published version." }),
    triggerStepId: t.string({
      description: "The trigger step the run starts at (R4); default: the only manual trigger (or the only trigger). Other triggers, and the steps only they reach, are skipped.",
    }),
  }),
});

builder.queryFields((t) => ({
  run: t.field({
    type: RunRef,
    description: "One run (NOT_FOUND outside your workspaces).",
    args: { id: t.arg.id({ required: true, description: "The run's id." }) },
    resolve: (_root, args, ctx) => getRun(ctx.deps, ctx.caller, String(args.id)),
  }),
  runs: t.connection(
    {
      type: RunRef,
      description: "A workflow's runs, newest first, a page at a time.",
      args: {
        workflowId: t.arg.id({ required: true, description: "The workflow's id." }),
        status: t.arg({ type: RunStatusEnum, description: "Only runs with this status." }),
        createdAfter: t.arg({ type: "DateTime", description: "Only runs queued at or after this time." }),
        createdBefore: t.arg({ type: "DateTime", description: "Only runs queued before this time (must be later than createdAfter)." }),
        search: t.arg.string({
          description: "A run id (exact), or text its input contains (case-insensitive; at most 200 characters; reads the newest 5,000 runs that pass the other filters).",
        }),
      },
      resolve: async (_root, args, ctx) =>
        toConnection(
          await listRuns(ctx.deps, ctx.caller, {
            ...pageArgs(args),
            workflowId: String(args.workflowId),
            status: args.status,
            createdAfter: args.createdAfter,
            createdBefore: args.createdBefore,
            search: args.search,
          }),
          args,
        ),
    },
    { description: "A page of runs." },
    { description: "A run in a page." },
  ),
}));

const RetryRunInput = builder.inputType("RetryRunInput", {
  description: "A re-run of a run from one of its steps.",
  fields: (t) => ({
    runId: t.id({ required: true, description: "The run to re-run." }),
    fromStepId: t.id({ required: true, description: "The step to start from; the steps before it keep their outputs." }),
    input: t.field({ type: "JSON", description: "An edited input (config) for that step; omit to keep it." }),
  }),
});

builder.mutationFields((t) => ({
  startRun: t.field({
    type: RunRef,
    description: "Captures the workflow as it is now (every acknowledged edit) and queues a run of it. UNPROCESSABLE when it has problems.",
    args: { input: t.arg({ type: StartRunInput, required: true, description: "The run to start." }) },
    resolve: (_root, { input }, ctx) => startRun(ctx.deps, ctx.caller, input),
  }),
  cancelRun: t.field({
    type: RunRef,
    description: "Stops a queued or running run; its in-flight step is aborted.",
    args: { id: t.arg.id({ required: true, description: "The run's id." }) },
    resolve: (_root, args, ctx) => cancelRun(ctx.deps, ctx.caller, String(args.id)),
  }),
  retryRun: t.field({
    type: RunRef,
    description: "Re-runs a run from a step, reusing the earlier steps' outputs.",
    args: { input: t.arg({ type: RetryRunInput, required: true, description: "The run and the step." }) },
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
    // A message is one statement's events (R60), or one event from a process of the previous release.
    for await (const message of live) {
      for (const event of runEventsOfMessage(message)) {
        access.throwIfLost();
        if (sent.has(event.seq)) continue;
        sent.add(event.seq);
        yield event;
        if (event.type === "run.finished") return;
      }
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
      for (const event of runEventsOfMessage(message)) {
        access.throwIfLost();
        yield event;
      }
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
export class AccessWatch {
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
export async function* asFieldStream<T>(stream: AsyncGenerator<T>, info: GraphQLResolveInfo): AsyncGenerator<T> {
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
    args: { runId: t.arg.id({ required: true, description: "The run's id." }) },
    subscribe: (_root, args, ctx, info) => asFieldStream(runEventStream(ctx, String(args.runId)), info),
    resolve: (event) => event,
  }),
  workflowRuns: t.field({
    type: RunEventRef,
    description: "Live events of every run of one workflow.",
    args: { workflowId: t.arg.id({ required: true, description: "The workflow's id." }) },
    subscribe: (_root, args, ctx, info) => asFieldStream(workflowRunStream(ctx, String(args.workflowId)), info),
    resolve: (event) => event,
  }),
}));
