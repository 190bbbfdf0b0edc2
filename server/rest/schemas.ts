import { CREDENTIAL_TYPE_NAMES, EdgeLabel, IMPORT_FORMATS, PageArgs, ROLES, RUN_STATUSES, RunsFilter, STEP_STATUSES, WORKFLOW_EXPORT_FORMAT } from "@algorythmos/domain";
import { z } from "zod";

/**
 * The REST layer's own schemas: query strings (validated by the handlers) and response bodies (what the
 * handlers send, checked against the services' view types by the route table's types, and outside production
 * at run time). The OpenAPI document is generated from these and from the domain's input schemas, so it says
 * what the server does. Timestamps are `Date`s here and ISO 8601 strings on the wire (`format: date-time`).
 * Response schemas state the shape a response is guaranteed to have, not the input rules (a definition edited
 * live may hold what an API write would refuse).
 */

const timestamp = z.date();
const id = z.string();

// ---- query strings ----

/** `first` / `after` of every paged list, as query-string parameters. */
const PageQuery = z.object({
  first: z.coerce.number<string>().pipe(PageArgs.shape.first.unwrap()).optional().meta({ description: "Page size, 1–100 (default 20)" }),
  after: z.string().max(200).optional().meta({ description: "The `nextCursor` of the previous page" }),
});

export const ListWorkflowsQuery = PageQuery.extend({
  workspaceId: z.string().min(1).optional().meta({ description: "One workspace; every workspace of the caller when omitted" }),
});
export const ListRunsQuery = PageQuery.extend({
  workflowId: z.string({ error: "Query parameter workflowId is required" }).min(1, "Query parameter workflowId is required").meta({ description: "The workflow whose runs to list" }),
  status: RunsFilter.shape.status,
});
export const DiffQuery = z.object({ to: z.string().min(1).optional().meta({ description: "The version to compare with; the workflow as it is now when omitted" }) });
export const ListStepsQuery = z.object({
  runId: z.string({ error: "Query parameter runId is required" }).min(1, "Query parameter runId is required").meta({ description: "The run whose step attempts to list" }),
});

// ---- responses ----

export const User = z.object({ id, email: z.string(), name: z.string() }).meta({ id: "User" });
export const AuthPayload = z
  .object({
    token: z.string().meta({ description: "Access token (JWT, 12 h) for `Authorization: Bearer`" }),
    refreshToken: z.string().meta({ description: "Exchanged once, through /api/auth/refresh, for the next pair" }),
    user: User,
  })
  .meta({ id: "AuthPayload" });
export const LoggedOut = z.object({ loggedOut: z.boolean().meta({ description: "false when the refresh token was unknown" }) }).meta({ id: "LoggedOut" });

export const Workspace = z.object({ id, name: z.string(), role: z.enum(ROLES) }).meta({ id: "Workspace" });
export const Member = z.object({ userId: id, email: z.string(), name: z.string(), role: z.enum(ROLES) }).meta({ id: "Member" });
export const Credential = z
  .object({ id, workspaceId: id, name: z.string(), type: z.enum(CREDENTIAL_TYPE_NAMES as [string, ...string[]]), createdAt: timestamp })
  .meta({ id: "Credential", description: "A credential as the API shows it: never the secret" });

const Step = z
  .object({
    id,
    type: z.string(),
    name: z.string(),
    config: z.record(z.string(), z.unknown()),
    position: z.object({ x: z.number(), y: z.number() }),
    notes: z.string().optional(),
  })
  .meta({ id: "Step" });
const Edge = z.object({ id, source: id, target: id, label: EdgeLabel.optional() }).meta({ id: "Edge" });
export const Definition = z
  .object({ schemaVersion: z.literal(1), name: z.string(), description: z.string(), steps: z.array(Step), edges: z.array(Edge) })
  .meta({ id: "WorkflowDefinition" });
const Problem = z
  .object({
    code: z.string(),
    message: z.string(),
    stepId: z.string().optional(),
    edgeId: z.string().optional(),
    path: z.array(z.union([z.string(), z.number()])).optional(),
  })
  .meta({ id: "Problem", description: "Why a workflow cannot run yet; problems never block editing" });

export const Workflow = z
  .object({
    id,
    workspaceId: id,
    name: z.string(),
    description: z.string(),
    definition: Definition,
    problems: z.array(Problem),
    latestVersion: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Workflow" });
const ImportProblem = z
  .object({
    code: z.string(),
    message: z.string(),
    nodeName: z.string().optional(),
    nodeType: z.string().optional(),
    stepId: z.string().optional(),
    parameter: z.string().optional(),
  })
  .meta({ id: "ImportProblem", description: "Something in the imported JSON that could not be carried over exactly" });
export const ImportedWorkflow = Workflow.extend({
  importReport: z.object({ format: z.enum(IMPORT_FORMATS), problems: z.array(ImportProblem) }).meta({ description: "What the JSON was read as, and what could not be carried over" }),
}).meta({ id: "ImportedWorkflow" });
export const WorkflowExport = z.object({ format: z.literal(WORKFLOW_EXPORT_FORMAT), definition: Definition }).meta({ id: "WorkflowExport" });
export const Version = z
  .object({ id, workflowId: id, version: z.number().int(), label: z.string(), definition: Definition, authorId: id.nullable(), createdAt: timestamp })
  .meta({ id: "Version" });
export const DefinitionDiff = z
  .object({
    nameChanged: z.boolean(),
    descriptionChanged: z.boolean(),
    stepsAdded: z.array(Step),
    stepsRemoved: z.array(Step),
    stepsChanged: z.array(z.object({ id, fields: z.array(z.enum(["id", "type", "name", "config", "position", "notes"])), before: Step, after: Step })),
    edgesAdded: z.array(Edge),
    edgesRemoved: z.array(Edge),
    edgesChanged: z.array(z.object({ id, before: Edge, after: Edge })),
  })
  .meta({ id: "DefinitionDiff" });

const json = z.unknown().meta({ description: "Any JSON value" });
export const Run = z
  .object({
    id,
    workflowId: id,
    status: z.enum(RUN_STATUSES),
    trigger: z.string().meta({ description: "manual, webhook, cron or retry" }),
    input: json,
    retryOfRunId: id.nullable(),
    fromStepId: id.nullable(),
    output: json,
    error: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: "Run" });
export const RunStep = z
  .object({
    id,
    stepId: id,
    type: z.string(),
    status: z.enum(STEP_STATUSES),
    attempt: z.number().int(),
    input: json,
    output: json,
    error: z.string().nullable(),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: "RunStep", description: "One attempt of one step of a run" });
export const StepType = z
  .object({
    type: z.string(),
    label: z.string(),
    description: z.string(),
    category: z.string(),
    sideEffects: z.string(),
    configSchema: z.unknown().meta({ description: "JSON Schema of the step's config" }),
  })
  .meta({ id: "StepType" });
export const ConnectorTestResult = z.object({ ok: z.boolean(), message: z.string() }).meta({ id: "ConnectorTestResult" });
const ApiToken = z
  .object({ id, name: z.string(), createdAt: timestamp, lastUsedAt: timestamp.nullable(), revokedAt: timestamp.nullable() })
  .meta({ id: "ApiToken" });
export const CreatedApiToken = z
  .object({ token: z.string().meta({ description: "The secret (alg_pat_…), shown only in this response" }), apiToken: ApiToken })
  .meta({ id: "CreatedApiToken" });

/** A list page: `nextCursor` goes into `after` for the next page, null on the last one. */
export const pageOf = <Item extends z.ZodType>(item: Item, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id: `${name}Page` });

export const WebhookAccepted = z
  .object({
    runId: id,
    status: z.enum(RUN_STATUSES),
    message: z.string().optional().meta({ description: "In output mode: why the run's output is not here (it took too long)" }),
  })
  .meta({ id: "WebhookAccepted" });
export const WebhookOutput = z.unknown().meta({ id: "WebhookOutput", description: "The run's output, as the workflow produced it" });
