import {
  CREDENTIAL_TYPE_NAMES,
  EdgeLabel,
  IMPORT_FORMATS,
  PageArgs,
  ROLES,
  RUN_STATUSES,
  RunsFilter,
  STEP_STATUSES,
  TEMPLATE_CATEGORIES,
  WORKFLOW_EXPORT_FORMAT,
} from "@algorythmos/domain";
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
  // Checked by the service (listRuns), like GraphQL's `runs` arguments: one set of rules and messages.
  createdAfter: z.string().optional().meta({ description: "Only runs queued at or after this ISO 8601 date-time" }),
  createdBefore: z.string().optional().meta({ description: "Only runs queued before this ISO 8601 date-time (later than createdAfter)" }),
  search: z.string().optional().meta({ description: "A run id (exact), or text the run's input contains (case-insensitive, at most 200 characters; reads the newest 5,000 runs that pass the other filters)" }),
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
export const Invite = z
  .object({
    id,
    workspaceId: id,
    email: z.string(),
    role: z.enum(ROLES),
    status: z.enum(["PENDING", "EXPIRED", "ACCEPTED", "REVOKED"]),
    createdAt: timestamp,
    expiresAt: timestamp,
    invitedBy: User.nullable(),
  })
  .meta({ id: "Invite", description: "An invite link, by its email and role: the token is never readable back" });
export const CreatedInvite = z
  .object({
    invite: Invite,
    token: z.string().meta({ description: "The link's token, shown once (for POST /api/invites/accept)" }),
    url: z.string().meta({ description: "The link to send: <PUBLIC_URL>/invite/<token>; single-use, for that email, 7 days" }),
  })
  .meta({ id: "CreatedInvite" });
export const Credential = z
  .object({ id, workspaceId: id, name: z.string(), type: z.enum(CREDENTIAL_TYPE_NAMES as [string, ...string[]]), createdAt: timestamp })
  .meta({ id: "Credential", description: "A credential as the API shows it: never the secret" });

const Step = z
  .object({
    id,
    type: z.string(),
    key: z.string().optional().meta({ description: "The readable key expressions call the step by (steps.<key>.output); absent: by id only" }),
    name: z.string(),
    config: z.record(z.string(), z.unknown()),
    position: z.object({ x: z.number(), y: z.number() }),
    notes: z.string().optional(),
    onError: z.enum(["fail", "continue", "branch"]).optional(),
  })
  .meta({ id: "Step" });
const Edge = z.object({ id, source: id, target: id, label: EdgeLabel.optional() }).meta({ id: "Edge" });
const TestCase = z
  .object({
    id,
    name: z.string(),
    input: z.unknown().meta({ description: "The run input of the case" }),
    assertions: z.array(
      z.object({ kind: z.enum(["equals", "jsonata", "schema"]), stepId: id.optional() }).catchall(z.unknown()).meta({ description: "equals (expected), jsonata (expression) or schema (schema)" }),
    ),
  })
  .meta({ id: "TestCase", description: "A named test case: a run input and what its run must produce (R49)" });
export const Definition = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string(),
    description: z.string(),
    steps: z.array(Step),
    edges: z.array(Edge),
    settings: z.object({ maxConcurrentRuns: z.number().int().optional(), errorWorkflowId: z.string().optional() }).optional(),
    pinned: z.record(z.string(), z.unknown()).optional().meta({ description: "Pinned step outputs by step id (R47); absent when nothing is pinned" }),
    testCases: z.array(TestCase).optional().meta({ description: "Test cases (R49); absent when there are none" }),
  })
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
export const DefinitionDiff = z
  .object({
    nameChanged: z.boolean(),
    descriptionChanged: z.boolean(),
    stepsAdded: z.array(Step),
    stepsRemoved: z.array(Step),
    stepsChanged: z.array(z.object({ id, fields: z.array(z.enum(["id", "type", "key", "name", "config", "position", "notes", "onError"])), before: Step, after: Step })),
    edgesAdded: z.array(Edge),
    edgesRemoved: z.array(Edge),
    edgesChanged: z.array(z.object({ id, before: Edge, after: Edge })),
  })
  .meta({ id: "DefinitionDiff" });
export const Version = z
  .object({
    id,
    workflowId: id,
    version: z.number().int(),
    label: z.string(),
    definition: Definition,
    authorId: id.nullable(),
    createdAt: timestamp,
    kind: z.enum(["snapshot", "published"]).meta({ description: "published versions are immutable; webhook and cron runs run the workflow's published one" }),
    message: z.string(),
    sourceVersionId: id.nullable().meta({ description: "A rollback: the earlier version it published again" }),
    overrideFailingTests: z.boolean(),
    diff: DefinitionDiff.nullable().meta({ description: "A published version: what changed against the version published before it; null for a snapshot" }),
  })
  .meta({ id: "Version" });

const json = z.unknown().meta({ description: "Any JSON value" });
export const Run = z
  .object({
    id,
    workflowId: id,
    status: z.enum(RUN_STATUSES),
    trigger: z.string().meta({ description: "manual, webhook, cron or retry" }),
    triggerStepId: id.nullable().meta({ description: "The trigger step the run started at (R4); null for runs from before it was recorded" }),
    input: json,
    retryOfRunId: id.nullable(),
    fromStepId: id.nullable(),
    versionId: id.nullable().meta({ description: "The published version it ran; null for a run of the draft" }),
    output: json,
    error: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: "Run" });
export const Approval = z
  .object({
    id,
    runId: id,
    stepId: id.meta({ description: "The approval step's ledger id (`<stepId>@<i>` inside a loop)" }),
    workflowId: id,
    title: z.string(),
    instructions: z.string(),
    expiresAt: timestamp.nullable().meta({ description: "When the timeout's default decision applies; null without a timeout" }),
    decision: z.enum(["approved", "rejected"]).nullable().meta({ description: "null while waiting" }),
    comment: z.string().nullable(),
    data: json,
    decidedById: id.nullable().meta({ description: "The user who decided (resumeRun); null for a signed link or a timeout" }),
    decidedVia: z.enum(["user", "link", "timeout"]).nullable(),
    decidedAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: "Approval" });
export const ResumeRunResult = z.object({ run: Run, approval: Approval }).meta({ id: "ResumeRunResult" });
export const PublishResult = z
  .object({
    workflow: Workflow,
    version: Version,
    testResults: z.array(
      z.object({ testCaseId: id, name: z.string(), passed: z.boolean(), message: z.string().nullable(), runId: id.nullable() }).meta({ id: "PublishTestResult" }),
    ),
  })
  .meta({ id: "PublishResult" });
export const TestCaseResults = z
  .object({
    results: z.array(
      z
        .object({
          caseId: id,
          name: z.string(),
          runId: id.nullable().meta({ description: "The case's run (trigger test); null when it could not start" }),
          passed: z.boolean(),
          failures: z.array(z.string()).meta({ description: "Why it failed, one line each; empty when it passed" }),
        })
        .meta({ id: "TestCaseResult" }),
    ),
  })
  .meta({ id: "TestCaseResults" });
export const WorkflowPublication = z
  .object({
    workflowId: id,
    active: z.boolean().meta({ description: "Whether webhook and cron run the published version" }),
    publishedVersionId: id.nullable().meta({ description: "The published version; null until first published" }),
  })
  .meta({ id: "WorkflowPublication" });
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
    credentialType: z.string().nullable().meta({ description: "The Credential.type its config.credentialId names (openai, postmark, httpHeader); null when it takes no credential" }),
    configSchema: z.unknown().meta({ description: "JSON Schema of the step's config" }),
    outputSchema: z.unknown().meta({ description: "JSON Schema of a succeeded step's output" }),
  })
  .meta({ id: "StepType" });
export const WorkflowTemplate = z
  .object({
    id: id.meta({ description: "Stable template id, e.g. llm-summarise" }),
    title: z.string().meta({ description: "Its name for people (also the created workflow's default name)" }),
    description: z.string().meta({ description: "One line: what it does" }),
    category: z.enum(TEMPLATE_CATEGORIES as [string, ...string[]]).meta({ description: "Its gallery group" }),
    credentialTypes: z
      .array(z.enum(CREDENTIAL_TYPE_NAMES as [string, ...string[]]))
      .meta({ description: "Credential types its steps need before it can run; empty when none" }),
    // Pass it to POST /api/workflows as `definition` (with `name`) to create the workflow.
    definition: Definition,
  })
  .meta({ id: "WorkflowTemplate", description: "A ready-made workflow from the templates gallery" });
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
