import { builder } from "../builder.js";
import { createVersion, diffVersions, listVersions, restoreVersion, versionAuthor, type VersionView } from "../../services/versions.js";
import type { DefinitionDiff } from "@algorythmos/domain";
import { UserRef } from "./user.js";
import { WorkflowRef } from "./workflow.js";

const VersionRef = builder.objectRef<VersionView>("WorkflowVersion").implement({
  description: "A named snapshot of a workflow (Yjs state and definition).",
  fields: (t) => ({
    id: t.exposeID("id"),
    workflowId: t.exposeID("workflowId"),
    version: t.exposeInt("version"),
    label: t.exposeString("label"),
    definition: t.field({ type: "JSON", resolve: (version) => version.definition }),
    authorId: t.exposeID("authorId", { nullable: true }),
    author: t.field({
      type: UserRef,
      nullable: true,
      description: "Who saved it (null when that account is gone).",
      resolve: (version, _args, ctx) => versionAuthor(ctx.deps, version),
    }),
    createdAt: t.field({ type: "DateTime", resolve: (version) => version.createdAt }),
  }),
});

const DiffRef = builder.objectRef<DefinitionDiff>("VersionDiff").implement({
  description: "What changed from one version to another (steps and edges as definition JSON).",
  fields: (t) => ({
    nameChanged: t.exposeBoolean("nameChanged"),
    descriptionChanged: t.exposeBoolean("descriptionChanged"),
    stepsAdded: t.field({ type: "JSON", resolve: (diff) => diff.stepsAdded }),
    stepsRemoved: t.field({ type: "JSON", resolve: (diff) => diff.stepsRemoved }),
    stepsChanged: t.field({ type: "JSON", description: "[{ id, fields, before, after }]", resolve: (diff) => diff.stepsChanged }),
    edgesAdded: t.field({ type: "JSON", resolve: (diff) => diff.edgesAdded }),
    edgesRemoved: t.field({ type: "JSON", resolve: (diff) => diff.edgesRemoved }),
    edgesChanged: t.field({ type: "JSON", resolve: (diff) => diff.edgesChanged }),
  }),
});

const CreateVersionInput = builder.inputType("CreateVersionInput", {
  fields: (t) => ({ workflowId: t.id({ required: true }), label: t.string({ required: true }) }),
});

builder.objectField(WorkflowRef, "versions", (t) =>
  t.field({ type: [VersionRef], description: "Named versions, newest first.", resolve: (workflow, _args, ctx) => listVersions(ctx.deps, ctx.caller, workflow.id) }),
);

builder.queryField("versionDiff", (t) =>
  t.field({
    type: DiffRef,
    description: "The diff from one version to another, or to the workflow as it is now when toVersionId is omitted.",
    args: { fromVersionId: t.arg.id({ required: true }), toVersionId: t.arg.id() },
    resolve: (_root, args, ctx) => diffVersions(ctx.deps, ctx.caller, String(args.fromVersionId), args.toVersionId ? String(args.toVersionId) : null),
  }),
);

builder.mutationFields((t) => ({
  createVersion: t.field({
    type: VersionRef,
    args: { input: t.arg({ type: CreateVersionInput, required: true }) },
    resolve: (_root, { input }, ctx) => createVersion(ctx.deps, ctx.caller, input),
  }),
  restoreVersion: t.field({
    type: WorkflowRef,
    description: "Applies the version as a new change that every connected editor receives.",
    args: { versionId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => restoreVersion(ctx.deps, ctx.caller, String(args.versionId)),
  }),
}));
