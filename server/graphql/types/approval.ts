/** Approvals and child runs (#15 control flow; docs/run-engine.md R30–R34): resumeRun, pendingApprovals, Run.parentRun / childRuns / approvals. */
import { builder } from "../builder.js";
import { pendingApprovals, resumeRun, runApprovals, type ApprovalView } from "../../services/approvals.js";
import { getRun, RUN_SELECT, type RunView } from "../../services/runs.js";
import { RunRef } from "./run.js";

const ApprovalDecisionEnum = builder.enumType("ApprovalDecision", {
  description: "A person's decision on an approval step.",
  values: {
    APPROVE: { description: "Approve: the step's output has decision \"approved\"." },
    REJECT: { description: "Reject: the step's output has decision \"rejected\"." },
  },
});

const DeciderRef = builder.objectRef<{ id: string; name: string }>("ApprovalDecider").implement({
  description: "Who decided an approval.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The user's id." }),
    name: t.exposeString("name", { description: "The user's name." }),
  }),
});

export const ApprovalRef = builder.objectRef<ApprovalView>("Approval").implement({
  description: "An approval step of a run: waiting for a decision, or decided (by a person, a signed link, or its timeout).",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The approval's id." }),
    runId: t.exposeID("runId", { description: "The run that waits." }),
    stepId: t.exposeID("stepId", { description: "The approval step's ledger id (`<stepId>@<i>` inside a loop)." }),
    workflowId: t.exposeID("workflowId", { description: "The run's workflow." }),
    title: t.exposeString("title", { description: "The step's title." }),
    instructions: t.exposeString("instructions", { description: "What the approver should check." }),
    expiresAt: t.field({ type: "DateTime", nullable: true, description: "When the timeout's default decision applies; null without a timeout.", resolve: (a) => a.expiresAt }),
    decision: t.string({ nullable: true, description: "\"approved\" or \"rejected\"; null while waiting.", resolve: (a) => a.decision }),
    comment: t.exposeString("comment", { nullable: true, description: "The approver's comment." }),
    data: t.field({ type: "JSON", nullable: true, description: "Data the approver attached.", resolve: (a) => a.data ?? null }),
    decidedVia: t.string({ nullable: true, description: "\"user\" (resumeRun), \"link\" (the signed URL) or \"timeout\".", resolve: (a) => a.decidedVia }),
    decidedAt: t.field({ type: "DateTime", nullable: true, description: "When it was decided.", resolve: (a) => a.decidedAt }),
    decidedBy: t.field({
      type: DeciderRef,
      nullable: true,
      description: "The user who decided through resumeRun; null for a link or a timeout.",
      resolve: (a, _args, ctx) => (a.decidedById ? ctx.deps.db.user.findUnique({ where: { id: a.decidedById }, select: { id: true, name: true } }) : null),
    }),
    createdAt: t.field({ type: "DateTime", description: "When the run reached the step.", resolve: (a) => a.createdAt }),
    run: t.field({ type: RunRef, description: "The run that waits.", resolve: (a, _args, ctx) => getRun(ctx.deps, ctx.caller, a.runId) }),
  }),
});

const ResumeRunPayloadRef = builder.objectRef<{ run: RunView; approval: ApprovalView }>("ResumeRunPayload").implement({
  description: "The decision taken; the run goes on at once.",
  fields: (t) => ({
    run: t.field({ type: RunRef, description: "The run (still running: the engine settles the step next).", resolve: (p) => p.run }),
    approval: t.field({ type: ApprovalRef, description: "The decided approval.", resolve: (p) => p.approval }),
  }),
});

const ResumeRunInput = builder.inputType("ResumeRunInput", {
  description: "A decision on a waiting approval step.",
  fields: (t) => ({
    runId: t.id({ required: true, description: "The run (editors and owners of its workspace)." }),
    stepId: t.id({ required: true, description: "The approval step's id (its ledger id inside a loop)." }),
    decision: t.field({ type: ApprovalDecisionEnum, required: true, description: "Approve or reject." }),
    comment: t.string({ description: "A comment, kept in the step's output." }),
    data: t.field({ type: "JSON", description: "Data for the steps after it (`steps.<id>.output.data`)." }),
  }),
});

builder.mutationField("resumeRun", (t) =>
  t.field({
    type: ResumeRunPayloadRef,
    description: "Approves or rejects a waiting approval step. CONFLICT when it was already decided, timed out, or the run is no longer running.",
    args: { input: t.arg({ type: ResumeRunInput, required: true, description: "The run, the step and the decision." }) },
    resolve: (_root, { input }, ctx) =>
      resumeRun(ctx.deps, ctx.caller, { ...input, comment: input.comment ?? undefined, data: input.data ?? undefined }),
  }),
);

builder.queryField("pendingApprovals", (t) =>
  t.field({
    type: [ApprovalRef],
    description: "The workspace's approvals waiting for a decision, oldest first (at most 200).",
    args: { workspaceId: t.arg.id({ required: true, description: "The workspace." }) },
    resolve: (_root, args, ctx) => pendingApprovals(ctx.deps, ctx.caller, String(args.workspaceId)),
  }),
);

builder.objectFields(RunRef, (t) => ({
  parentRun: t.field({
    type: RunRef,
    nullable: true,
    description: "For a child run (workflow.call) or an error workflow's run: the run that started it.",
    resolve: async (run, _args, ctx) => {
      const row = await ctx.deps.db.run.findUnique({ where: { id: run.id }, select: { parentRunId: true } });
      return row?.parentRunId ? getRun(ctx.deps, ctx.caller, row.parentRunId) : null;
    },
  }),
  childRuns: t.field({
    type: [RunRef],
    description: "The runs this run started (workflow.call steps, its error workflow), oldest first.",
    resolve: async (run, _args, ctx) => {
      await getRun(ctx.deps, ctx.caller, run.id);
      const children = await ctx.deps.db.run.findMany({ where: { parentRunId: run.id }, orderBy: { createdAt: "asc" }, select: RUN_SELECT });
      return children as RunView[];
    },
  }),
  parentStepId: t.field({
    type: "ID",
    nullable: true,
    description: "For a child run: the parent's step (ledger id) waiting for it.",
    resolve: async (run, _args, ctx) => (await ctx.deps.db.run.findUnique({ where: { id: run.id }, select: { parentStepId: true } }))?.parentStepId ?? null,
  }),
  approvals: t.field({
    type: [ApprovalRef],
    description: "The run's approval steps, waiting or decided.",
    resolve: async (run, _args, ctx) => {
      await getRun(ctx.deps, ctx.caller, run.id);
      return runApprovals(ctx.deps, run.id);
    },
  }),
}));
