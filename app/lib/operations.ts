/**
 * The GraphQL documents the studio sends, each typed with its data and variables by hand (schema.graphql is
 * the contract; there is no codegen step). One place, so a schema change is a one-file edit here.
 */
import type { RunStatus, StepStatus } from "@algorythmos/domain";

/** A GraphQL document carrying its result and variable types. */
export interface Operation<Data, Variables extends Record<string, unknown> = Record<string, never>> {
  query: string;
  /** Phantom field: never set, only carries the types. */
  readonly __types?: { data: Data; variables: Variables };
}

const op = <Data, Variables extends Record<string, unknown> = Record<string, never>>(query: string): Operation<Data, Variables> => ({ query });

export interface Workspace {
  id: string;
  name: string;
  role: "owner" | "editor" | "viewer";
}
export interface Me {
  id: string;
  email: string;
  name: string;
  workspaces: Workspace[];
}
export interface StepTypeInfo {
  type: string;
  label: string;
  category: string;
  description: string;
  configSchema: JsonSchema;
}
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
export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  updatedAt: string;
}
export interface RunSummary {
  id: string;
  status: RunStatus;
  steps: { stepId: string; status: StepStatus }[];
}
export interface RunEventData {
  seq: number;
  type: string;
  runId: string;
  stepId: string | null;
  status: string;
  /** The step attempt a step event is about (null for run events). */
  attempt: number | null;
  at: string;
  error: string | null;
}

export const ME = op<{ me: Me }>(/* GraphQL */ `
  query Me {
    me { id email name workspaces { id name role } }
  }
`);

export const LOG_IN = op<{ logIn: { token: string } }, { input: { email: string; password: string } }>(/* GraphQL */ `
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { token }
  }
`);

/** Ends the session of the cookie's access token on the server, so a copy of the cookie stops working too. */
export const END_SESSION = op<{ endSession: boolean }>(/* GraphQL */ `
  mutation EndSession {
    endSession
  }
`);

export const SIGN_UP = op<{ signUp: { token: string } }, { input: { name: string; email: string; password: string } }>(/* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token }
  }
`);

export const WORKFLOWS = op<
  { me: Me; workflows: { edges: { node: WorkflowSummary }[] } },
  { workspaceId: string; first: number }
>(/* GraphQL */ `
  query Workflows($workspaceId: ID!, $first: Int) {
    me { id email name workspaces { id name role } }
    workflows(workspaceId: $workspaceId, first: $first) { edges { node { id name description updatedAt } } }
  }
`);

export const CREATE_WORKFLOW = op<{ createWorkflow: { id: string } }, { input: { workspaceId: string; name: string } }>(/* GraphQL */ `
  mutation CreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) { id }
  }
`);

export const EDITOR = op<
  { me: Me; workflow: { id: string; name: string; workspaceId: string }; stepTypes: StepTypeInfo[] },
  { id: string }
>(/* GraphQL */ `
  query Editor($id: ID!) {
    me { id email name workspaces { id name role } }
    workflow(id: $id) { id name workspaceId }
    stepTypes { type label category description configSchema }
  }
`);

export const START_RUN = op<{ startRun: RunSummary }, { input: { workflowId: string; input: unknown } }>(/* GraphQL */ `
  mutation StartRun($input: StartRunInput!) {
    startRun(input: $input) { id status steps { stepId status } }
  }
`);

export const RUN_EVENTS = op<{ runEvents: RunEventData }, { runId: string }>(/* GraphQL */ `
  subscription RunEvents($runId: ID!) {
    runEvents(runId: $runId) { seq type runId stepId status attempt at error }
  }
`);

// ---------- runs and traces ----------

export interface RunListItem {
  id: string;
  status: RunStatus;
  trigger: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  fromStepId: string | null;
  retryOfRunId: string | null;
}
export interface RunStepAttempt {
  id: string;
  stepId: string;
  type: string;
  attempt: number;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  input: unknown;
  output: unknown;
  error: string | null;
}
/** The part of a captured definition the trace reads (the JSON is the workflow definition schema). */
export interface CapturedDefinition {
  steps?: { id: string; name?: string; type: string; config?: Record<string, unknown> }[];
}
export interface RunDetail extends RunListItem {
  workflowId: string;
  input: unknown;
  output: unknown;
  /** The workflow definition captured when the run started (later edits do not change it). */
  definition: CapturedDefinition;
  steps: RunStepAttempt[];
}
/** A run event with its payload (output carries `{ delta }` on STEP_CHUNK). */
export interface RunEventWithOutput extends RunEventData {
  output: unknown;
  workflowId: string;
}

const RUN_LIST_FIELDS = "id status trigger createdAt startedAt finishedAt error fromStepId retryOfRunId";

export const WORKFLOW_RUNS_PAGE = op<
  { workflow: { id: string; name: string; workspaceId: string }; runs: { edges: { node: RunListItem }[]; pageInfo: { hasNextPage: boolean } } },
  { workflowId: string; first: number }
>(/* GraphQL */ `
  query WorkflowRunsPage($workflowId: ID!, $first: Int) {
    workflow(id: $workflowId) { id name workspaceId }
    runs(workflowId: $workflowId, first: $first) { edges { node { ${RUN_LIST_FIELDS} } } pageInfo { hasNextPage } }
  }
`);

export const RUN_DETAIL = op<{ run: RunDetail }, { id: string }>(/* GraphQL */ `
  query RunDetail($id: ID!) {
    run(id: $id) {
      ${RUN_LIST_FIELDS} workflowId input output definition
      steps { id stepId type attempt status startedAt finishedAt input output error }
    }
  }
`);

export const RUN_WORKFLOW = op<{ me: Me; workflow: { id: string; name: string; workspaceId: string } }, { id: string }>(/* GraphQL */ `
  query RunWorkflow($id: ID!) {
    me { id email name workspaces { id name role } }
    workflow(id: $id) { id name workspaceId }
  }
`);

export const CANCEL_RUN = op<{ cancelRun: { id: string; status: RunStatus } }, { id: string }>(/* GraphQL */ `
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) { id status }
  }
`);

export const RETRY_RUN = op<{ retryRun: { id: string; status: RunStatus } }, { input: { runId: string; fromStepId: string; input?: unknown } }>(/* GraphQL */ `
  mutation RetryRun($input: RetryRunInput!) {
    retryRun(input: $input) { id status }
  }
`);

const EVENT_FIELDS = "seq type runId workflowId stepId status attempt at error output";

export const RUN_EVENTS_LIVE = op<{ runEvents: RunEventWithOutput }, { runId: string }>(/* GraphQL */ `
  subscription RunEventsLive($runId: ID!) {
    runEvents(runId: $runId) { ${EVENT_FIELDS} }
  }
`);

export const WORKFLOW_RUN_EVENTS = op<{ workflowRuns: RunEventWithOutput }, { workflowId: string }>(/* GraphQL */ `
  subscription WorkflowRunEvents($workflowId: ID!) {
    workflowRuns(workflowId: $workflowId) { ${EVENT_FIELDS} }
  }
`);

// ---------- versions ----------

export interface VersionInfo {
  id: string;
  label: string;
  version: number;
  createdAt: string;
  authorId: string | null;
  /** Who saved it; null when that account is gone (or no one did). */
  author: { name: string } | null;
  definition: unknown;
}
export const VERSIONS = op<{ workflow: { id: string; versions: VersionInfo[] } }, { id: string }>(/* GraphQL */ `
  query Versions($id: ID!) {
    workflow(id: $id) { id versions { id label version createdAt authorId author { name } definition } }
  }
`);

export const CREATE_VERSION = op<{ createVersion: { id: string; label: string; version: number } }, { input: { workflowId: string; label: string } }>(/* GraphQL */ `
  mutation CreateVersion($input: CreateVersionInput!) {
    createVersion(input: $input) { id label version }
  }
`);

export const RESTORE_VERSION = op<{ restoreVersion: { id: string } }, { versionId: string }>(/* GraphQL */ `
  mutation RestoreVersion($versionId: ID!) {
    restoreVersion(versionId: $versionId) { id }
  }
`);

// ---------- workspace settings ----------

export type RoleName = Workspace["role"];
export interface MemberInfo {
  role: RoleName;
  user: { id: string; name: string; email: string };
}
export interface CredentialInfo {
  id: string;
  name: string;
  type: string;
  createdAt: string;
}
export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export const SETTINGS = op<
  { me: Omit<Me, "workspaces">; workspace: Workspace & { members: MemberInfo[] }; apiTokens: ApiTokenInfo[] },
  { workspaceId: string }
>(/* GraphQL */ `
  query Settings($workspaceId: ID!) {
    me { id email name }
    workspace(id: $workspaceId) { id name role members { role user { id name email } } }
    apiTokens { id name createdAt lastUsedAt revokedAt }
  }
`);

export const CREDENTIALS = op<{ credentials: CredentialInfo[] }, { workspaceId: string }>(/* GraphQL */ `
  query Credentials($workspaceId: ID!) {
    credentials(workspaceId: $workspaceId) { id name type createdAt }
  }
`);

export const INVITE_MEMBER = op<{ inviteMember: MemberInfo }, { input: { workspaceId: string; email: string; role: RoleName } }>(/* GraphQL */ `
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) { role user { id name email } }
  }
`);

export const REMOVE_MEMBER = op<{ removeMember: MemberInfo }, { input: { workspaceId: string; userId: string } }>(/* GraphQL */ `
  mutation RemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input) { role user { id name email } }
  }
`);

export const CREATE_CREDENTIAL = op<
  { createCredential: CredentialInfo },
  { input: { workspaceId: string; name: string; type: string; secret: Record<string, string> } }
>(/* GraphQL */ `
  mutation CreateCredential($input: CreateCredentialInput!) {
    createCredential(input: $input) { id name type createdAt }
  }
`);

export const DELETE_CREDENTIAL = op<{ deleteCredential: { id: string } }, { id: string }>(/* GraphQL */ `
  mutation DeleteCredential($id: ID!) {
    deleteCredential(id: $id) { id }
  }
`);

export const CREATE_API_TOKEN = op<{ createApiToken: { token: string; apiToken: ApiTokenInfo } }, { input: { name: string } }>(/* GraphQL */ `
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { token apiToken { id name createdAt lastUsedAt revokedAt } }
  }
`);

export const REVOKE_API_TOKEN = op<{ revokeApiToken: { id: string } }, { id: string }>(/* GraphQL */ `
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) { id }
  }
`);

// ---------- workflow list actions ----------

export const DUPLICATE_WORKFLOW = op<{ duplicateWorkflow: { id: string; name: string } }, { id: string }>(/* GraphQL */ `
  mutation DuplicateWorkflow($id: ID!) {
    duplicateWorkflow(id: $id) { id name }
  }
`);

export const DELETE_WORKFLOW = op<{ deleteWorkflow: { id: string; name: string } }, { id: string }>(/* GraphQL */ `
  mutation DeleteWorkflow($id: ID!) {
    deleteWorkflow(id: $id) { id name }
  }
`);

export const IMPORT_WORKFLOW = op<{ importWorkflow: { id: string; name: string } }, { input: { workspaceId: string; json: unknown } }>(/* GraphQL */ `
  mutation ImportWorkflow($input: ImportWorkflowInput!) {
    importWorkflow(input: $input) { id name }
  }
`);

export const EXPORT_WORKFLOW = op<{ workflow: { id: string; name: string; export: unknown } }, { id: string }>(/* GraphQL */ `
  query ExportWorkflow($id: ID!) {
    workflow(id: $id) { id name export }
  }
`);
