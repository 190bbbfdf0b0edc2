import { builder, type GraphQLContext } from "../builder.js";
import { requireWorkflowRole } from "../../services/access.js";
import {
  changesSincePublished,
  publicationOf,
  publicationState,
  publishedVersion,
  publishWorkflow,
  setWorkflowActive,
  workflowPublicationChannel,
  type PublicationState,
  type PublishResult,
  type PublishTestResult,
  type WorkflowChange,
} from "../../services/publish.js";
import { toVersionView, VERSION_SELECT } from "../../services/versions.js";
import { AccessWatch, asFieldStream, RunRef } from "./run.js";
import { UserRef } from "./user.js";
import { VersionRef } from "./version.js";
import { WorkflowRef } from "./workflow.js";

/** Draft and publish (#15): publishing, the published version, active, attribution and Run.version. */

const PublishTestResultRef = builder.objectRef<PublishTestResult>("PublishTestResult").implement({
  description: "One test case's result when the draft was published.",
  fields: (t) => ({
    testCaseId: t.exposeID("testCaseId", { description: "The test case." }),
    name: t.exposeString("name", { description: "The test case's name." }),
    passed: t.exposeBoolean("passed", { description: "Whether the run matched what the case expects." }),
    message: t.exposeString("message", { nullable: true, description: "Why it failed; null when it passed." }),
    runId: t.exposeID("runId", { nullable: true, description: "The test run (trigger test)." }),
  }),
});

const PublishPayloadRef = builder.objectRef<PublishResult>("PublishWorkflowPayload").implement({
  description: "What publishWorkflow made.",
  fields: (t) => ({
    workflow: t.field({ type: WorkflowRef, description: "The workflow, now publishing the new version.", resolve: (p) => p.workflow }),
    version: t.field({ type: VersionRef, description: "The new published version (immutable).", resolve: (p) => p.version }),
    testResults: t.field({ type: [PublishTestResultRef], description: "The workflow's test cases as they ran before publishing.", resolve: (p) => p.testResults }),
  }),
});

const WorkflowChangeRef = builder.objectRef<WorkflowChange>("WorkflowChange").implement({
  description: "What one person changed in the draft since the published version (from the attributed update log).",
  fields: (t) => ({
    userId: t.exposeID("userId", { nullable: true, description: "Who made the edits; null for edits without an author (from before attribution)." }),
    user: t.field({
      type: UserRef,
      nullable: true,
      description: "Who made the edits (null when unknown or that account is gone).",
      resolve: (change, _args, ctx) => (change.userId ? ctx.deps.db.user.findUnique({ where: { id: change.userId }, select: { id: true, email: true, name: true } }) : null) as never,
    }),
    stepIds: t.stringList({ description: "Steps they added, removed or changed.", resolve: (change) => change.stepIds }),
    edgeIds: t.stringList({ description: "Edges they added, removed or changed.", resolve: (change) => change.edgeIds }),
    fields: t.stringList({
      description: "What they changed: `<stepId>.<field>` (`<stepId>.config.<key>` inside a config), or the workflow's name, description, settings.",
      resolve: (change) => change.fields,
    }),
    at: t.field({ type: "DateTime", description: "Their last edit.", resolve: (change) => change.at }),
    edits: t.exposeInt("edits", { description: "How many updates they made." }),
  }),
});

builder.objectFields(WorkflowRef, (t) => ({
  published: t.field({
    type: VersionRef,
    nullable: true,
    description: "The published version webhook and cron runs run; null until the workflow is first published.",
    resolve: (workflow, _args, ctx) => publishedVersion(ctx.deps, workflow.id),
  }),
  active: t.boolean({
    description: "Whether its triggers (webhook, cron) run; the draft stays editable either way.",
    resolve: async (workflow, _args, ctx) => (await publicationOf(ctx.deps, workflow.id)).active,
  }),
  changesSincePublished: t.field({
    type: [WorkflowChangeRef],
    description: "Who changed what in the draft since the published version (the whole retained log before the first publish), newest first. Covers the retained update log only.",
    resolve: (workflow, _args, ctx) => changesSincePublished(ctx.deps, ctx.caller, workflow.id),
  }),
}));

builder.objectField(RunRef, "version", (t) =>
  t.field({
    type: VersionRef,
    nullable: true,
    description: "The published version this run ran; null for a run of the draft.",
    resolve: async (run, _args, ctx) => {
      if (!run.versionId) return null;
      const row = await ctx.deps.db.workflowSnapshot.findUnique({ where: { id: run.versionId }, select: VERSION_SELECT });
      return row ? toVersionView(row) : null;
    },
  }),
);

const PublishWorkflowInput = builder.inputType("PublishWorkflowInput", {
  description: "A publication of a workflow's draft (or of an earlier version: rollback).",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow to publish (editors and owners)." }),
    message: t.string({ description: "What changed, for the version history." }),
    overrideFailingTests: t.boolean({ description: "Publish although test cases fail (recorded on the version)." }),
    fromVersionId: t.id({ description: "Rollback: publish this earlier version's definition again, as a new publication." }),
  }),
});

const SetWorkflowActiveInput = builder.inputType("SetWorkflowActiveInput", {
  description: "Turns a workflow's triggers on or off.",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow (editors and owners)." }),
    active: t.boolean({ required: true, description: "true: webhook and cron run the published version; false: they answer 409 INACTIVE / do not fire." }),
  }),
});

builder.mutationFields((t) => ({
  publishWorkflow: t.field({
    type: PublishPayloadRef,
    description: "Publishes the draft as an immutable version that webhook and cron runs run. UNPROCESSABLE while the draft has problems (extensions.problems).",
    args: { input: t.arg({ type: PublishWorkflowInput, required: true, description: "The workflow and the message." }) },
    resolve: (_root, { input }, ctx) => publishWorkflow(ctx.deps, ctx.caller, stripNulls(input)),
  }),
  setWorkflowActive: t.field({
    type: WorkflowRef,
    description: "Activates or deactivates a workflow's triggers.",
    args: { input: t.arg({ type: SetWorkflowActiveInput, required: true, description: "The workflow and whether it is active." }) },
    resolve: (_root, { input }, ctx) => setWorkflowActive(ctx.deps, ctx.caller, input),
  }),
}));

/** GraphQL sends omitted optional fields as absent and explicit nulls as null; the service's defaults apply to both. */
function stripNulls<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)) as Partial<T>;
}

const WorkflowPublicationRef = builder.objectRef<PublicationState>("WorkflowPublication").implement({
  description: "A workflow's publication state: whether its triggers run, and the published version they run.",
  fields: (t) => ({
    workflowId: t.exposeID("workflowId", { description: "The workflow." }),
    active: t.exposeBoolean("active", { description: "Whether its triggers (webhook, cron) run." }),
    publishedVersionId: t.exposeID("publishedVersionId", { nullable: true, description: "The published version's id; null until first published." }),
    publishedVersion: t.exposeInt("publishedVersion", { nullable: true, description: "The published version's number (Version.version); null until first published." }),
    publishedAt: t.field({ type: "DateTime", nullable: true, description: "When that version was published.", resolve: (p) => p.publishedAt }),
    publishedBy: t.field({
      type: UserRef,
      nullable: true,
      description: "Who published it (null before the first publication, or when that account is gone).",
      resolve: (p, _args, ctx) => (p.publishedById ? ctx.deps.db.user.findUnique({ where: { id: p.publishedById }, select: { id: true, email: true, name: true } }) : null) as never,
    }),
    published: t.field({
      type: VersionRef,
      nullable: true,
      description: "The published version itself (its message and definition).",
      resolve: async (p, _args, ctx) => {
        if (!p.publishedVersionId) return null;
        const row = await ctx.deps.db.workflowSnapshot.findUnique({ where: { id: p.publishedVersionId }, select: VERSION_SELECT });
        return row ? toVersionView(row) : null;
      },
    }),
  }),
});

/**
 * The workflow's publication state now, then again after each publish, activate or deactivate (any process:
 * announced on Redis by services/publish.ts). Listening starts before the first read, so no change falls in
 * between; a state equal to the one sent last is not sent again. Ends with FORBIDDEN when the caller loses access.
 */
async function* publicationStream(ctx: GraphQLContext, workflowId: string): AsyncGenerator<PublicationState> {
  const access = await AccessWatch.start(ctx, workflowId);
  try {
    await requireWorkflowRole(ctx.deps.db, ctx.caller, workflowId, "read");
    const live = access.end(await ctx.hub.iterate(workflowPublicationChannel(ctx.deps.env.REDIS_PREFIX, workflowId)));
    let sent = "";
    const current = async () => {
      const state = await publicationState(ctx.deps, workflowId);
      const seen = JSON.stringify(state);
      if (seen === sent) return null;
      sent = seen;
      return state;
    };
    const first = await current();
    if (first) yield first;
    for await (const _message of live) {
      access.throwIfLost();
      const state = await current();
      if (state) yield state;
    }
    access.throwIfLost();
  } finally {
    await access.stop();
  }
}

builder.subscriptionField("workflowPublication", (t) =>
  t.field({
    type: WorkflowPublicationRef,
    description: "A workflow's publication state (published version, active), first as it is, then on every publish, activate or deactivate.",
    args: { workflowId: t.arg.id({ required: true, description: "The workflow's id." }) },
    subscribe: (_root, args, ctx, info) => asFieldStream(publicationStream(ctx, String(args.workflowId)), info),
    resolve: (state) => state,
  }),
);
