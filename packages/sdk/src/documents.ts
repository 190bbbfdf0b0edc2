/**
 * Every GraphQL document the studio and the SDK send, typed from schema.graphql by gql.tada. One module for
 * both, so neither can drift from the schema: a field that is renamed or removed fails `tsc --noEmit` here
 * and in every caller of the document.
 */
import { graphql } from "./graphql.js";

export { print } from "@0no-co/graphql.web";
export type { ResultOf, TadaDocumentNode, VariablesOf } from "./graphql.js";

// ---------------------------------------------------------------------------------------------- auth

export const LOG_IN = graphql(`
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { token refreshToken user { id email name } }
  }
`);

export const SIGN_UP = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token refreshToken user { id email name } }
  }
`);

export const REFRESH_SESSION = graphql(`
  mutation RefreshSession($input: RefreshSessionInput!) {
    refreshSession(input: $input) { token refreshToken }
  }
`);

/** Ends the session of the cookie's access token on the server, so a copy of the cookie stops working too. */
export const END_SESSION = graphql(`
  mutation EndSession {
    endSession
  }
`);

export const ME = graphql(`
  query Me {
    me { id email name workspaces { id name role } }
  }
`);

// ---------------------------------------------------------------------------------------------- workflows

export const WORKFLOW_SUMMARY = graphql(`
  fragment WorkflowSummary on Workflow { id name description updatedAt }
`);

export const WORKFLOWS = graphql(
  `
  query Workflows($workspaceId: ID!, $first: Int) {
    me { id email name workspaces { id name role } }
    workflows(workspaceId: $workspaceId, first: $first) { edges { node { ...WorkflowSummary } } }
  }
`,
  [WORKFLOW_SUMMARY],
);

/** One page of a workspace's workflows (Relay: `after` is the previous page's endCursor). */
export const WORKFLOWS_PAGE = graphql(
  `
  query WorkflowsPage($workspaceId: ID!, $first: Int, $after: String) {
    workflows(workspaceId: $workspaceId, first: $first, after: $after) {
      edges { cursor node { ...WorkflowSummary workspaceId latestVersion } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,
  [WORKFLOW_SUMMARY],
);

export const CREATE_WORKFLOW = graphql(`
  mutation CreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) { id }
  }
`);

export const DUPLICATE_WORKFLOW = graphql(`
  mutation DuplicateWorkflow($id: ID!) {
    duplicateWorkflow(id: $id) { id name }
  }
`);

export const DELETE_WORKFLOW = graphql(`
  mutation DeleteWorkflow($id: ID!) {
    deleteWorkflow(id: $id) { id name }
  }
`);

/** Imports our export, a bare definition or an n8n export; importReport says what could not be carried over. */
export const IMPORT_WORKFLOW = graphql(`
  mutation ImportWorkflow($input: ImportWorkflowInput!) {
    importWorkflow(input: $input) {
      id name
      definition
      problems { code message stepId }
      importReport { format problems { code message nodeName nodeType stepId parameter } }
    }
  }
`);

export const EXPORT_WORKFLOW = graphql(`
  query ExportWorkflow($id: ID!) {
    workflow(id: $id) { id name export }
  }
`);

/** The templates gallery, in display order (no sign-in needed): create one with createWorkflow and its `definition`. */
export const WORKFLOW_TEMPLATES = graphql(`
  query WorkflowTemplates {
    workflowTemplates { id title description category credentialTypes definition }
  }
`);

/** A workflow's publication state as it is, then after every publish, activate or deactivate. */
export const WORKFLOW_PUBLICATION = graphql(`
  subscription WorkflowPublication($workflowId: ID!) {
    workflowPublication(workflowId: $workflowId) { workflowId active publishedVersionId publishedVersion publishedAt publishedBy { id name } }
  }
`);

export const EDITOR = graphql(`
  query Editor($id: ID!) {
    me { id email name workspaces { id name role } }
    workflow(id: $id) { id name workspaceId }
    stepTypes { type label category description configSchema credentialType }
  }
`);

/** The webhook trigger's address (holds the secret: null for viewers). */
export const WORKFLOW_WEBHOOK = graphql(`
  query WorkflowWebhook($id: ID!) {
    workflow(id: $id) { id webhookPath webhookUrl }
  }
`);

// ---------------------------------------------------------------------------------------------- runs

export const RUN_LIST_FIELDS = graphql(`
  fragment RunListFields on Run { id status trigger createdAt startedAt finishedAt error fromStepId retryOfRunId }
`);

export const START_RUN = graphql(`
  mutation StartRun($input: StartRunInput!) {
    startRun(input: $input) { id status steps { stepId status } }
  }
`);

export const RUN_EVENTS = graphql(`
  subscription RunEvents($runId: ID!) {
    runEvents(runId: $runId) { seq type runId stepId status attempt at error }
  }
`);

export const RUN_EVENT_FIELDS = graphql(`
  fragment RunEventFields on RunEvent { seq type runId workflowId stepId status attempt at error output }
`);

export const RUN_EVENTS_LIVE = graphql(
  `
  subscription RunEventsLive($runId: ID!) {
    runEvents(runId: $runId) { ...RunEventFields }
  }
`,
  [RUN_EVENT_FIELDS],
);

export const WORKFLOW_RUN_EVENTS = graphql(
  `
  subscription WorkflowRunEvents($workflowId: ID!) {
    workflowRuns(workflowId: $workflowId) { ...RunEventFields }
  }
`,
  [RUN_EVENT_FIELDS],
);

export const WORKFLOW_RUNS_PAGE = graphql(
  `
  query WorkflowRunsPage($workflowId: ID!, $first: Int, $after: String, $status: RunStatus, $createdAfter: DateTime, $createdBefore: DateTime, $search: String) {
    workflow(id: $workflowId) { id name workspaceId definition }
    runs(workflowId: $workflowId, first: $first, after: $after, status: $status, createdAfter: $createdAfter, createdBefore: $createdBefore, search: $search) {
      edges { node { ...RunListFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,
  [RUN_LIST_FIELDS],
);

/** One page of a workflow's runs, newest first (Relay: `after` is the previous page's endCursor). */
export const RUNS_PAGE = graphql(
  `
  query RunsPage($workflowId: ID!, $first: Int, $after: String, $status: RunStatus) {
    runs(workflowId: $workflowId, first: $first, after: $after, status: $status) {
      edges { cursor node { ...RunListFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`,
  [RUN_LIST_FIELDS],
);

export const RUN_DETAIL = graphql(
  `
  query RunDetail($id: ID!) {
    run(id: $id) {
      ...RunListFields workflowId input output definition
      steps { id stepId type attempt status startedAt finishedAt input output error }
    }
  }
`,
  [RUN_LIST_FIELDS],
);

export const RUN_WORKFLOW = graphql(`
  query RunWorkflow($id: ID!) {
    me { id email name workspaces { id name role } }
    workflow(id: $id) { id name workspaceId }
  }
`);

export const CANCEL_RUN = graphql(`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) { id status }
  }
`);

export const RETRY_RUN = graphql(`
  mutation RetryRun($input: RetryRunInput!) {
    retryRun(input: $input) { id status }
  }
`);

// ---------------------------------------------------------------------------------------------- versions

export const VERSIONS = graphql(`
  query Versions($id: ID!) {
    workflow(id: $id) { id versions { id label version createdAt authorId author { name } definition } }
  }
`);

export const CREATE_VERSION = graphql(`
  mutation CreateVersion($input: CreateVersionInput!) {
    createVersion(input: $input) { id label version }
  }
`);

export const RESTORE_VERSION = graphql(`
  mutation RestoreVersion($versionId: ID!) {
    restoreVersion(versionId: $versionId) { id }
  }
`);

// ---------------------------------------------------------------------------------------------- workspace settings

export const SETTINGS = graphql(`
  query Settings($workspaceId: ID!) {
    me { id email name }
    workspace(id: $workspaceId) { id name role members { role user { id name email } } }
    apiTokens { id name createdAt lastUsedAt revokedAt }
  }
`);

export const CREDENTIALS = graphql(`
  query Credentials($workspaceId: ID!) {
    credentials(workspaceId: $workspaceId) { id name type createdAt }
  }
`);

export const INVITE_MEMBER = graphql(`
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) { role user { id name email } invite { id email role expiresAt } inviteUrl inviteToken }
  }
`);

export const INVITES = graphql(`
  query Invites($workspaceId: ID!) {
    workspace(id: $workspaceId) { id invites { id email role status createdAt expiresAt invitedBy { name } } }
  }
`);

export const SET_MEMBER_ROLE = graphql(`
  mutation SetMemberRole($input: SetMemberRoleInput!) {
    setMemberRole(input: $input) { role user { id name email } }
  }
`);

export const REVOKE_INVITE = graphql(`
  mutation RevokeInvite($input: RevokeInviteInput!) {
    revokeInvite(input: $input) { id email status }
  }
`);

export const INVITE_PREVIEW = graphql(`
  query InvitePreview($token: String!) {
    invitePreview(token: $token) { workspaceName email role status expiresAt invitedByName }
  }
`);

export const ACCEPT_INVITE = graphql(`
  mutation AcceptInvite($input: AcceptInviteInput!) {
    acceptInvite(input: $input) { id name role }
  }
`);

export const REMOVE_MEMBER = graphql(`
  mutation RemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input) { role user { id name email } }
  }
`);

export const CREATE_CREDENTIAL = graphql(`
  mutation CreateCredential($input: CreateCredentialInput!) {
    createCredential(input: $input) { id name type createdAt }
  }
`);

export const DELETE_CREDENTIAL = graphql(`
  mutation DeleteCredential($id: ID!) {
    deleteCredential(id: $id) { id }
  }
`);

export const CREATE_API_TOKEN = graphql(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { token apiToken { id name createdAt lastUsedAt revokedAt } }
  }
`);

export const REVOKE_API_TOKEN = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) { id }
  }
`);

// ---------------------------------------------------------------------------------------------- notifications

export const NOTIFICATION_FIELDS = graphql(`
  fragment NotificationFields on Notification {
    id kind workflowId workflowName threadId commentId actorName excerpt studioPath createdAt readAt
  }
`);

/** The viewer's notifications, newest first, with the unread count (the studio's bell). */
export const NOTIFICATIONS = graphql(
  `
  query Notifications($first: Int, $unreadOnly: Boolean) {
    notifications(first: $first, unreadOnly: $unreadOnly) { unreadCount edges { node { ...NotificationFields } } }
  }
`,
  [NOTIFICATION_FIELDS],
);

export const MARK_NOTIFICATIONS_READ = graphql(
  `
  mutation MarkNotificationsRead($input: MarkNotificationsReadInput!) {
    markNotificationsRead(input: $input) { marked unreadCount notifications { ...NotificationFields } }
  }
`,
  [NOTIFICATION_FIELDS],
);

export const NOTIFICATION_ADDED = graphql(
  `
  subscription NotificationAdded {
    notificationAdded { ...NotificationFields }
  }
`,
  [NOTIFICATION_FIELDS],
);
