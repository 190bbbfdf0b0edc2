import { builder } from "../builder.js";
import { createVersion, diffVersions, listVersions, restoreVersion, versionAuthor, type VersionView } from "../../services/versions.js";
import type { DefinitionDiff } from "@algorythmos/domain";
import { UserRef } from "./user.js";
import { WorkflowRef } from "./workflow.js";

export const VersionRef = builder.objectRef<VersionView>("WorkflowVersion").implement({
  description: "A named snapshot of a workflow (Yjs state and definition), or a published version (immutable; what webhooks and cron run).",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The version's id." }),
    workflowId: t.exposeID("workflowId", { description: "The workflow it is a version of." }),
    version: t.exposeInt("version", { description: "Its number: 1 for a workflow's first version, then 2, 3…" }),
    label: t.exposeString("label", { description: "The name it was saved under." }),
    definition: t.field({ type: "JSON", description: "The workflow definition as it was saved.", resolve: (version) => version.definition }),
    authorId: t.exposeID("authorId", { nullable: true, description: "The id of who saved it (null when that account is gone)." }),
    author: t.field({
      type: UserRef,
      nullable: true,
      description: "Who saved it (null when that account is gone).",
      resolve: (version, _args, ctx) => versionAuthor(ctx.deps, version),
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was saved.", resolve: (version) => version.createdAt }),
    kind: t.exposeString("kind", { description: "Either snapshot (saved by a person) or published (made by publishWorkflow; immutable)." }),
    message: t.exposeString("message", { description: "The publish message (empty for a snapshot)." }),
    diff: t.field({
      type: DiffRef,
      nullable: true,
      description: "A published version: what changed against the version published before it (the first: everything added). Null for a snapshot.",
      resolve: (version) => version.diff,
    }),
    sourceVersionId: t.exposeID("sourceVersionId", { nullable: true, description: "A rollback: the earlier version whose definition it published again." }),
    overrideFailingTests: t.exposeBoolean("overrideFailingTests", { description: "Published although test cases failed." }),
  }),
});

const DiffRef = builder.objectRef<DefinitionDiff>("VersionDiff").implement({
  description: "What changed from one version to another (steps and edges as definition JSON).",
  fields: (t) => ({
    nameChanged: t.exposeBoolean("nameChanged", { description: "The workflow's name differs." }),
    descriptionChanged: t.exposeBoolean("descriptionChanged", { description: "The workflow's description differs." }),
    stepsAdded: t.field({ type: "JSON", description: "Steps only in the newer one, as definition JSON.", resolve: (diff) => diff.stepsAdded }),
    stepsRemoved: t.field({ type: "JSON", description: "Steps only in the older one, as definition JSON.", resolve: (diff) => diff.stepsRemoved }),
    stepsChanged: t.field({ type: "JSON", description: "[{ id, fields, before, after }]", resolve: (diff) => diff.stepsChanged }),
    edgesAdded: t.field({ type: "JSON", description: "Edges only in the newer one.", resolve: (diff) => diff.edgesAdded }),
    edgesRemoved: t.field({ type: "JSON", description: "Edges only in the older one.", resolve: (diff) => diff.edgesRemoved }),
    edgesChanged: t.field({ type: "JSON", description: "Edges in both whose ends or label differ: [{ id, before, after }].", resolve: (diff) => diff.edgesChanged }),
  }),
});

const CreateVersionInput = builder.inputType("CreateVersionInput", {
  description: "A named snapshot to save.",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow to snapshot, as it is now." }),
    label: t.string({ required: true, description: "The name to save it under." }),
  }),
});

builder.objectField(WorkflowRef, "versions", (t) =>
  t.field({ type: [VersionRef], description: "Named versions, newest first.", resolve: (workflow, _args, ctx) => listVersions(ctx.deps, ctx.caller, workflow.id) }),
);

builder.queryField("versionDiff", (t) =>
  t.field({
    type: DiffRef,
    description: "The diff from one version to another, or to the workflow as it is now when toVersionId is omitted.",
    args: {
      fromVersionId: t.arg.id({ required: true, description: "The older side." }),
      toVersionId: t.arg.id({ description: "The newer side; omitted: the workflow as it is now." }),
    },
    resolve: (_root, args, ctx) => diffVersions(ctx.deps, ctx.caller, String(args.fromVersionId), args.toVersionId ? String(args.toVersionId) : null),
  }),
);

builder.mutationFields((t) => ({
  createVersion: t.field({
    type: VersionRef,
    description: "Saves the workflow as it is now (every acknowledged edit) as a named version.",
    args: { input: t.arg({ type: CreateVersionInput, required: true, description: "The workflow and the label." }) },
    resolve: (_root, { input }, ctx) => createVersion(ctx.deps, ctx.caller, input),
  }),
  restoreVersion: t.field({
    type: WorkflowRef,
    description: "Applies the version as a new change that every connected editor receives.",
    args: { versionId: t.arg.id({ required: true, description: "The version to restore." }) },
    resolve: (_root, args, ctx) => restoreVersion(ctx.deps, ctx.caller, String(args.versionId)),
  }),
}));
