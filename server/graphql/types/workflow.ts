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
  webhookUrl,
  type ImportReport,
  type WorkflowView,
} from "../../services/workflows.js";

const ImportProblemRef = builder.objectRef<ImportReport["problems"][number]>("ImportProblem").implement({
  description: "Something in the imported JSON that could not be carried over exactly (an n8n node, expression, setting or connection).",
  fields: (t) => ({
    code: t.exposeString("code", { description: "UNSUPPORTED_NODE, EXPRESSION_NOT_TRANSLATED, PARAMETER_NOT_TRANSLATED, CREDENTIAL_NOT_IMPORTED or CONNECTION_NOT_IMPORTED." }),
    message: t.exposeString("message", { description: "What was not carried over, and what to do about it." }),
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
    problems: t.field({ type: [ImportProblemRef], description: "What could not be carried over exactly; empty when everything was.", resolve: (r) => r.problems }),
  }),
});

const ProblemRef = builder
  .objectRef<{ code: string; message: string; stepId?: string; edgeId?: string; path?: (string | number)[] }>("WorkflowProblem")
  .implement({
    description: "A validation problem of the definition. Problems never block editing; they block running.",
    fields: (t) => ({
      code: t.exposeString("code", { description: "The kind of problem, e.g. MISSING_TRIGGER, CYCLE, INVALID_CONFIG, UNKNOWN_STEP_TYPE." }),
      message: t.exposeString("message", { description: "The problem, for people." }),
      stepId: t.string({ nullable: true, description: "The step it is about, if any.", resolve: (p) => p.stepId ?? null }),
      edgeId: t.string({ nullable: true, description: "The edge it is about, if any.", resolve: (p) => p.edgeId ?? null }),
      path: t.stringList({ nullable: true, description: "Where in the definition, e.g. [steps, 2, config, url].", resolve: (p) => p.path?.map(String) ?? null }),
    }),
  });

export const WorkflowRef = builder.objectRef<WorkflowView>("Workflow").implement({
  description: "A graph of steps, co-edited live (its Y.Doc) and run on workers.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The workflow's id (`wf_…`)." }),
    workspaceId: t.exposeID("workspaceId", { description: "The workspace it belongs to." }),
    name: t.exposeString("name", { description: "The workflow's name." }),
    description: t.exposeString("description", { description: "What the workflow is for (may be empty)." }),
    definition: t.field({ type: "JSON", description: "The workflow definition (domain schema), as last materialised.", resolve: (w) => w.definition }),
    problems: t.field({ type: [ProblemRef], description: "What keeps the definition from running; empty when it can run.", resolve: (w) => w.problems }),
    latestVersion: t.exposeInt("latestVersion", { description: "The number of the newest named version; 0 before the first." }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: "DateTime", description: "When it was last changed.", resolve: (w) => w.updatedAt }),
    webhookPath: t.string({
      nullable: true,
      description: "POST here to start a run (needs a trigger.webhook step). Holds a secret: editors and owners only; null for viewers.",
      resolve: (w, _args, ctx) => webhookPath(ctx.deps, ctx.caller, w.id),
    }),
    webhookUrl: t.string({
      nullable: true,
      description: "The full webhook URL (PUBLIC_URL + webhookPath). Holds a secret: editors and owners only; null for viewers and when the server has no PUBLIC_URL.",
      resolve: (w, _args, ctx) => webhookUrl(ctx.deps, ctx.caller, w.id),
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
  description: "Changes to a workflow; what is omitted stays as it is.",
  fields: (t) => ({
    id: t.id({ required: true, description: "The workflow's id." }),
    name: t.string({ description: "A new name." }),
    description: t.string({ description: "A new description." }),
    definition: t.field({ type: "JSON", description: "A full definition; applied as a minimal change live editors receive." }),
  }),
});

const ImportWorkflowInput = builder.inputType("ImportWorkflowInput", {
  description: "JSON to create a workflow from.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace to create it in (editors and owners)." }),
    json: t.field({ type: "JSON", required: true, description: "A Workflow.export value (or a bare definition), as JSON or a JSON string." }),
  }),
});

const CreateWorkflowInput = builder.inputType("CreateWorkflowInput", {
  description: "A new workflow.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace to create it in (editors and owners)." }),
    name: t.string({ required: true, description: "The workflow's name." }),
    description: t.string({ description: "What the workflow is for." }),
    definition: t.field({ type: "JSON", description: "A workflow definition; defaults to a manual trigger only." }),
  }),
});

builder.queryFields((t) => ({
  workflows: t.connection(
    {
      type: WorkflowRef,
      description: "A workspace's workflows, newest first, a page at a time.",
      args: { workspaceId: t.arg.id({ required: true, description: "The workspace's id." }) },
      resolve: async (_root, args, ctx) =>
        toConnection(await listWorkflows(ctx.deps, ctx.caller, { ...pageArgs(args), workspaceId: String(args.workspaceId) }), args),
    },
    { description: "A page of workflows." },
    { description: "A workflow in a page." },
  ),
  workflow: t.field({
    type: WorkflowRef,
    description: "One workflow (NOT_FOUND outside your workspaces).",
    args: { id: t.arg.id({ required: true, description: "The workflow's id." }) },
    resolve: (_root, args, ctx) => getWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
}));

builder.mutationFields((t) => ({
  createWorkflow: t.field({
    type: WorkflowRef,
    description: "Creates a workflow (editors and owners).",
    args: { input: t.arg({ type: CreateWorkflowInput, required: true, description: "The new workflow." }) },
    resolve: (_root, { input }, ctx) => createWorkflow(ctx.deps, ctx.caller, input),
  }),
  updateWorkflow: t.field({
    type: WorkflowRef,
    description: "Changes a workflow through its Y.Doc, as a minimal change live editors receive like anyone's edit.",
    args: { input: t.arg({ type: UpdateWorkflowInput, required: true, description: "The changes." }) },
    resolve: (_root, { input }, ctx) => updateWorkflow(ctx.deps, ctx.caller, input),
  }),
  deleteWorkflow: t.field({
    type: WorkflowRef,
    description: "Deletes the workflow with its runs and versions; returns it as it was.",
    args: { id: t.arg.id({ required: true, description: "The workflow's id." }) },
    resolve: (_root, args, ctx) => deleteWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
  duplicateWorkflow: t.field({
    type: WorkflowRef,
    description: "Copies a workflow into a new one in the same workspace.",
    args: { id: t.arg.id({ required: true, description: "The workflow to copy." }) },
    resolve: (_root, args, ctx) => duplicateWorkflow(ctx.deps, ctx.caller, String(args.id)),
  }),
  importWorkflow: t.field({
    type: WorkflowRef,
    description: "Creates a workflow from JSON (an export, a bare definition, or an n8n workflow); see importReport.",
    args: { input: t.arg({ type: ImportWorkflowInput, required: true, description: "The JSON and where to put it." }) },
    resolve: (_root, { input }, ctx) => importWorkflow(ctx.deps, ctx.caller, input),
  }),
}));
