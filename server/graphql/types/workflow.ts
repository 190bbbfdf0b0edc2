import { builder } from "../builder.js";
import { pageArgs, toConnection } from "../connection.js";
import {
  createWorkflow,
  deleteWorkflow,
  duplicateWorkflow,
  exportWorkflow,
  getWorkflow,
  importWorkflow,
  listWorkflows,
  updateWorkflow,
  webhookPath,
  type ImportReport,
  type WorkflowView,
} from "../../services/workflows.js";

const ImportProblemRef = builder.objectRef<ImportReport["problems"][number]>("ImportProblem").implement({
  description: "Something in the imported JSON that could not be carried over exactly (an n8n node, expression, setting or connection).",
  fields: (t) => ({
    code: t.exposeString("code", { description: "UNSUPPORTED_NODE, EXPRESSION_NOT_TRANSLATED, PARAMETER_NOT_TRANSLATED, CREDENTIAL_NOT_IMPORTED or CONNECTION_NOT_IMPORTED." }),
    message: t.exposeString("message"),
    nodeName: t.string({ nullable: true, description: "The source node's name.", resolve: (p) => p.nodeName ?? null }),
    nodeType: t.string({ nullable: true, description: "The source node's type, e.g. n8n-nodes-base.slack.", resolve: (p) => p.nodeType ?? null }),
    stepId: t.string({ nullable: true, description: "The step the node became; null when it was not imported.", resolve: (p) => p.stepId ?? null }),
    parameter: t.string({ nullable: true, description: "The source parameter, e.g. url.", resolve: (p) => p.parameter ?? null }),
  }),
});

const ImportReportRef = builder.objectRef<ImportReport>("ImportReport").implement({
  description: "What importWorkflow read and what it could not carry over.",
  fields: (t) => ({
    format: t.exposeString("format", { description: "The format read: algorythmos or n8n." }),
    problems: t.field({ type: [ImportProblemRef], resolve: (r) => r.problems }),
  }),
});

const ProblemRef = builder
  .objectRef<{ code: string; message: string; stepId?: string; edgeId?: string; path?: (string | number)[] }>("WorkflowProblem")
  .implement({
    description: "A validation problem of the definition. Problems never block editing; they block running.",
    fields: (t) => ({
      code: t.exposeString("code"),
      message: t.exposeString("message"),
      stepId: t.string({ nullable: true, resolve: (p) => p.stepId ?? null }),
      edgeId: t.string({ nullable: true, resolve: (p) => p.edgeId ?? null }),
      path: t.stringList({ nullable: true, resolve: (p) => p.path?.map(String) ?? null }),
    }),
  });

export const WorkflowRef = builder.objectRef<WorkflowView>("Workflow").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    workspaceId: t.exposeID("workspaceId"),
    name: t.exposeString("name"),
    description: t.exposeString("description"),
    definition: t.field({ type: "JSON", description: "The workflow definition (domain schema), as last materialised.", resolve: (w) => w.definition }),
    problems: t.field({ type: [ProblemRef], resolve: (w) => w.problems }),
    latestVersion: t.exposeInt("latestVersion"),
    createdAt: t.field({ type: "DateTime", resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (w) => w.updatedAt }),
    webhookPath: t.string({
      nullable: true,
      description: "POST here to start a run (needs a trigger.webhook step). Holds a secret: editors and owners only; null for viewers.",
      resolve: (w, _args, ctx) => webhookPath(ctx.deps, ctx.caller, w.id),
    }),
    export: t.field({
      type: "JSON",
      description: "The workflow as importable JSON: { format, definition } with every acknowledged edit.",
      resolve: (w, _args, ctx) => exportWorkflow(ctx.deps, ctx.caller, w.id, ctx.liveReads),
    }),
    importReport: t.field({
      type: ImportReportRef,
      nullable: true,
      description: "Only on the Workflow importWorkflow returns: the format read and what could not be carried over. Null elsewhere.",
      resolve: (w) => ("importReport" in w ? (w as WorkflowView & { importReport: ImportReport }).importReport : null),
    }),
  }),
});

const UpdateWorkflowInput = builder.inputType("UpdateWorkflowInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    description: t.string(),
    definition: t.field({ type: "JSON", description: "A full definition; applied as a minimal change live editors receive." }),
  }),
});

const ImportWorkflowInput = builder.inputType("ImportWorkflowInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    json: t.field({ type: "JSON", required: true, description: "A Workflow.export value (or a bare definition), as JSON or a JSON string." }),
  }),
});

const CreateWorkflowInput = builder.inputType("CreateWorkflowInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    definition: t.field({ type: "JSON", description: "A workflow definition; defaults to a manual trigger only." }),
  }),
});

builder.queryFields((t) => ({
  workflows: t.connection({
    type: WorkflowRef,
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      toConnection(await listWorkflows(ctx.deps, ctx.caller, { ...pageArgs(args), workspaceId: String(args.workspaceId) }), args),
  }),
  workflow: t.field({
    type: WorkflowRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => getWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
}));

builder.mutationFields((t) => ({
  createWorkflow: t.field({
    type: WorkflowRef,
    args: { input: t.arg({ type: CreateWorkflowInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWorkflow(ctx.deps, ctx.caller, input),
  }),
  updateWorkflow: t.field({
    type: WorkflowRef,
    args: { input: t.arg({ type: UpdateWorkflowInput, required: true }) },
    resolve: (_root, { input }, ctx) => updateWorkflow(ctx.deps, ctx.caller, input),
  }),
  deleteWorkflow: t.field({
    type: WorkflowRef,
    description: "Deletes the workflow with its runs and versions; returns it as it was.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => deleteWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
  duplicateWorkflow: t.field({
    type: WorkflowRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => duplicateWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
  importWorkflow: t.field({
    type: WorkflowRef,
    args: { input: t.arg({ type: ImportWorkflowInput, required: true }) },
    resolve: (_root, { input }, ctx) => importWorkflow(ctx.deps, ctx.caller, input),
  }),
}));
