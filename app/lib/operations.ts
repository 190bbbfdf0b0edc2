/**
 * The GraphQL documents the studio sends: the SDK's typed documents (packages/sdk/src/documents.ts, typed from
 * schema.graphql by gql.tada), printed once for the wire. Result and variable types come from the schema, so
 * a schema change breaks the type-check here and in every caller, never the studio in production.
 * The only hand-written types left narrow JSON scalars (a config schema, a captured definition).
 */
import * as documents from "@algorythmos/sdk/documents";
import { print, type ResultOf, type TadaDocumentNode, type VariablesOf } from "@algorythmos/sdk/documents";

/** A GraphQL document carrying its result and variable types. */
export interface Operation<Data, Variables extends Record<string, unknown> = Record<string, never>> {
  query: string;
  /** Phantom field: never set, only carries the types. */
  readonly __types?: { data: Data; variables: Variables };
}

type AnyDocument = TadaDocumentNode<any, any>;
type VariablesFor<D extends AnyDocument> = VariablesOf<D> extends Record<string, unknown> ? VariablesOf<D> : Record<string, never>;

/** The document as an Operation typed from the schema. */
const op = <D extends AnyDocument>(document: D): Operation<ResultOf<D>, VariablesFor<D>> => ({ query: print(document) });
/**
 * The same, with JSON scalars read as a narrower type. `Data` must extend the schema's type, so a narrowing
 * can only refine a JSON field, never add or rename one.
 */
const narrowed = <Data extends ResultOf<D>, D extends AnyDocument = AnyDocument>(document: D): Operation<Data, VariablesFor<D>> => ({ query: print(document) });

/** The part of JSON Schema (as zod prints it) the config forms understand. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
}
/** The part of a captured definition the trace reads (the JSON is the workflow definition schema). */
export interface CapturedDefinition {
  steps?: { id: string; name?: string; type: string; config?: Record<string, unknown> }[];
}

export type Me = ResultOf<typeof documents.ME>["me"];
export type Workspace = Me["workspaces"][number];
export type RoleName = Workspace["role"];
export type WorkflowSummary = ResultOf<typeof documents.WORKFLOW_SUMMARY>;
type EditorData = ResultOf<typeof documents.EDITOR>;
export type StepTypeInfo = Omit<EditorData["stepTypes"][number], "configSchema"> & { configSchema: JsonSchema };
export type RunSummary = ResultOf<typeof documents.START_RUN>["startRun"];
export type RunEventData = ResultOf<typeof documents.RUN_EVENTS>["runEvents"];
export type RunListItem = ResultOf<typeof documents.RUN_LIST_FIELDS>;
type RunDetailData = ResultOf<typeof documents.RUN_DETAIL>["run"];
export type RunStepAttempt = RunDetailData["steps"][number];
export type RunDetail = Omit<RunDetailData, "definition"> & {
  /** The workflow definition captured when the run started (later edits do not change it). */
  definition: CapturedDefinition;
};
/** A run event with its payload (output carries `{ delta }` on STEP_CHUNK). */
export type RunEventWithOutput = ResultOf<typeof documents.RUN_EVENT_FIELDS>;
export type VersionInfo = ResultOf<typeof documents.VERSIONS>["workflow"]["versions"][number];
type SettingsData = ResultOf<typeof documents.SETTINGS>;
export type MemberInfo = SettingsData["workspace"]["members"][number];
export type ApiTokenInfo = SettingsData["apiTokens"][number];
export type CredentialInfo = ResultOf<typeof documents.CREDENTIALS>["credentials"][number];
export type InviteInfo = ResultOf<typeof documents.INVITES>["workspace"]["invites"][number];

export const ME = op(documents.ME);
export const LOG_IN = op(documents.LOG_IN);
/** Ends the session of the cookie's access token on the server, so a copy of the cookie stops working too. */
export const END_SESSION = op(documents.END_SESSION);
export const SIGN_UP = op(documents.SIGN_UP);
export const WORKFLOWS = op(documents.WORKFLOWS);
export const CREATE_WORKFLOW = op(documents.CREATE_WORKFLOW);
export const EDITOR = narrowed<Omit<EditorData, "stepTypes"> & { stepTypes: StepTypeInfo[] }>(documents.EDITOR);
export const WORKFLOW_WEBHOOK = op(documents.WORKFLOW_WEBHOOK);
export const START_RUN = op(documents.START_RUN);
export const RUN_EVENTS = op(documents.RUN_EVENTS);

// ---------- runs and traces ----------
export const WORKFLOW_RUNS_PAGE = op(documents.WORKFLOW_RUNS_PAGE);
export const RUN_DETAIL = narrowed<{ run: RunDetail }>(documents.RUN_DETAIL);
export const RUN_WORKFLOW = op(documents.RUN_WORKFLOW);
export const CANCEL_RUN = op(documents.CANCEL_RUN);
export const RETRY_RUN = op(documents.RETRY_RUN);
export const RUN_EVENTS_LIVE = op(documents.RUN_EVENTS_LIVE);
export const WORKFLOW_RUN_EVENTS = op(documents.WORKFLOW_RUN_EVENTS);
/** A workflow's publication state (published version, active), then each change (#17: live Publish button and toggle). */
export const WORKFLOW_PUBLICATION = op(documents.WORKFLOW_PUBLICATION);

// ---------- versions ----------
export const VERSIONS = op(documents.VERSIONS);
export const CREATE_VERSION = op(documents.CREATE_VERSION);
export const RESTORE_VERSION = op(documents.RESTORE_VERSION);

// ---------- workspace settings ----------
export const SETTINGS = op(documents.SETTINGS);
export const CREDENTIALS = op(documents.CREDENTIALS);
export const INVITE_MEMBER = op(documents.INVITE_MEMBER);
export const REMOVE_MEMBER = op(documents.REMOVE_MEMBER);
export const INVITES = op(documents.INVITES);
export const SET_MEMBER_ROLE = op(documents.SET_MEMBER_ROLE);
export const REVOKE_INVITE = op(documents.REVOKE_INVITE);
export const INVITE_PREVIEW = op(documents.INVITE_PREVIEW);
export const ACCEPT_INVITE = op(documents.ACCEPT_INVITE);
export const CREATE_CREDENTIAL = op(documents.CREATE_CREDENTIAL);
export const DELETE_CREDENTIAL = op(documents.DELETE_CREDENTIAL);
export const CREATE_API_TOKEN = op(documents.CREATE_API_TOKEN);
export const REVOKE_API_TOKEN = op(documents.REVOKE_API_TOKEN);

// ---------- workflow list actions ----------
export const DUPLICATE_WORKFLOW = op(documents.DUPLICATE_WORKFLOW);
export const DELETE_WORKFLOW = op(documents.DELETE_WORKFLOW);
export const IMPORT_WORKFLOW = op(documents.IMPORT_WORKFLOW);
export const EXPORT_WORKFLOW = op(documents.EXPORT_WORKFLOW);
export const WORKFLOW_TEMPLATES = op(documents.WORKFLOW_TEMPLATES);
/** A template as the gallery shows it (the definition stays on the server until "Use template"). */
export type TemplateSummary = Omit<ResultOf<typeof documents.WORKFLOW_TEMPLATES>["workflowTemplates"][number], "definition">;

// ---------- draft and publish, approvals (#15) ----------
// Hand-typed for now: schema.graphql gains #15's fields when it is regenerated at the end of the round; these
// documents then move into the SDK's typed documents (packages/sdk/src/documents.ts) unchanged.
const untyped = <Data, Variables extends Record<string, unknown>>(query: string): Operation<Data, Variables> => ({ query });

export type RunVersionChoice = "DRAFT" | "PUBLISHED";

/** A published version as the studio shows it (the definition is the workflow definition JSON). */
export interface PublishedVersionInfo {
  id: string;
  version: number;
  label: string;
  message: string | null;
  createdAt: string;
  author: { name: string } | null;
  definition: unknown;
}
/** One person's edits since the published version (from the Yjs update log, which carries the author). */
export interface ChangeSincePublished {
  user: { id: string; name: string } | null;
  stepIds: string[];
  fields?: string[] | null;
  at: string;
  edits: number;
}
export interface PublishStateData {
  workflow: { id: string; active: boolean; published: PublishedVersionInfo | null };
}
export const PUBLISH_STATE = untyped<PublishStateData, { id: string }>(`
  query PublishState($id: ID!) {
    workflow(id: $id) { id active published { id version label message createdAt author { name } definition } }
  }
`);
export const CHANGES_SINCE_PUBLISHED = untyped<{ workflow: { id: string; changesSincePublished: ChangeSincePublished[] } }, { id: string }>(`
  query ChangesSincePublished($id: ID!) {
    workflow(id: $id) { id changesSincePublished { user { id name } stepIds fields at edits } }
  }
`);
/** Which versions are publications (kind "published") and their messages, beside VERSIONS. */
export const VERSION_KINDS = untyped<{ workflow: { id: string; versions: { id: string; kind: string; message: string | null }[] } }, { id: string }>(`
  query VersionKinds($id: ID!) {
    workflow(id: $id) { id versions { id kind message } }
  }
`);
export const PUBLISH_WORKFLOW = untyped<
  { publishWorkflow: { version: { id: string; version: number; label: string } } },
  { input: { workflowId: string; message: string; fromVersionId?: string; overrideFailingTests?: boolean } }
>(`
  mutation PublishWorkflow($input: PublishWorkflowInput!) {
    publishWorkflow(input: $input) { version { id version label } }
  }
`);
export const SET_WORKFLOW_ACTIVE = untyped<{ setWorkflowActive: { id: string; active: boolean } }, { input: { workflowId: string; active: boolean } }>(`
  mutation SetWorkflowActive($input: SetWorkflowActiveInput!) {
    setWorkflowActive(input: $input) { id active }
  }
`);
/** startRun with the version to run (DRAFT, the default, or PUBLISHED). */
export const START_RUN_VERSION = untyped<
  { startRun: RunSummary },
  { input: { workflowId: string; input: unknown; version: RunVersionChoice; triggerStepId?: string } }
>(`
  mutation StartRunVersion($input: StartRunInput!) {
    startRun(input: $input) { id status steps { stepId status } }
  }
`);
/** Which version a run ran: null for a draft run. */
export const RUN_VERSION = untyped<{ run: { id: string; version: { id: string; version: number; label: string } | null } }, { id: string }>(`
  query RunVersion($id: ID!) {
    run(id: $id) { id version { id version label } }
  }
`);

export type ApprovalDecision = "APPROVE" | "REJECT";
export interface PendingApproval {
  runId: string;
  stepId: string;
  title: string | null;
  createdAt: string;
  workflowId?: string | null;
}
export const PENDING_APPROVALS = untyped<{ pendingApprovals: PendingApproval[] }, { workspaceId: string }>(`
  query PendingApprovals($workspaceId: ID!) {
    pendingApprovals(workspaceId: $workspaceId) { runId stepId title createdAt workflowId }
  }
`);
export const RESUME_RUN = untyped<
  { resumeRun: { run: { id: string; status: string }; approval: { id: string; decision: string | null } } },
  { input: { runId: string; stepId: string; decision: ApprovalDecision; comment?: string; data?: unknown } }
>(`
  mutation ResumeRun($input: ResumeRunInput!) {
    resumeRun(input: $input) { run { id status } approval { id decision } }
  }
`);
/** A run's approval steps, waiting (decision null) or decided, for the run page's inbox. */
export interface RunApprovalInfo {
  id: string;
  stepId: string;
  title: string;
  instructions: string;
  expiresAt: string | null;
  decision: string | null;
  comment: string | null;
  decidedVia: string | null;
  decidedAt: string | null;
  decidedBy: { name: string } | null;
  createdAt: string;
}
export const RUN_APPROVALS = untyped<{ run: { id: string; approvals: RunApprovalInfo[] } }, { id: string }>(`
  query RunApprovals($id: ID!) {
    run(id: $id) { id approvals { id stepId title instructions expiresAt decision comment decidedVia decidedAt decidedBy { name } createdAt } }
  }
`);
/** A run's parent (workflow.call, error workflow) and the runs it started. */
export interface RunFamilyData {
  run: {
    id: string;
    parentStepId: string | null;
    parentRun: { id: string; status: string; workflowId: string } | null;
    childRuns: { id: string; status: string; workflowId: string; parentStepId: string | null }[];
  };
}
export const RUN_FAMILY = untyped<RunFamilyData, { id: string }>(`
  query RunFamily($id: ID!) {
    run(id: $id) { id parentStepId parentRun { id status workflowId } childRuns { id status workflowId parentStepId } }
  }
`);
/**
 * A child run as its parent's trace nests it (#15 "the trace nests the child run's waterfall"): its steps
 * (without their payloads: the child's own page shows those), its captured definition for the step names, and
 * its own children for the next level.
 */
export interface ChildRunTraceData {
  run: {
    id: string;
    status: string;
    workflowId: string;
    parentStepId: string | null;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    error: string | null;
    definition: CapturedDefinition;
    steps: { id: string; stepId: string; type: string; attempt: number; status: string; startedAt: string | null; finishedAt: string | null; error: string | null }[];
    childRuns: { id: string; status: string; workflowId: string; parentStepId: string | null }[];
  };
}
export const CHILD_RUN_TRACE = untyped<ChildRunTraceData, { id: string }>(`
  query ChildRunTrace($id: ID!) {
    run(id: $id) {
      id status workflowId parentStepId createdAt startedAt finishedAt error definition
      steps { id stepId type attempt status startedAt finishedAt error }
      childRuns { id status workflowId parentStepId }
    }
  }
`);

// ---------- notifications (#17: @mentions) ----------
export const NOTIFICATIONS = op(documents.NOTIFICATIONS);
export const MARK_NOTIFICATIONS_READ = op(documents.MARK_NOTIFICATIONS_READ);
export const NOTIFICATION_ADDED = op(documents.NOTIFICATION_ADDED);
export type NotificationInfo = ResultOf<typeof documents.NOTIFICATION_FIELDS>;
