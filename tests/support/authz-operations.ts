/**
 * The authorisation table shared by tests/api/authz-matrix.test.ts (every caller kind × every operation that
 * touches a workspace resource) and tests/security/tenancy-matrix.test.ts (which checks that every operation of
 * schema.graphql and the OpenAPI document has a row here or there).
 */
import { randomBytes } from "node:crypto";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, definitionWith, gql, invite, ok, rest, signUp, type Account, type GraphQLResult } from "./api.js";
import { startTestStack } from "./stack.js";

export type Role = "owner" | "editor" | "viewer" | "outsider" | "anonymous";
export type Need = "read" | "write" | "manage";
export type Outcome = "OK" | "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED";

export const ROLES: Role[] = ["owner", "editor", "viewer", "outsider", "anonymous"];

/** The one table every row's expectation comes from. */
export const EXPECTED: Record<Need, Record<Role, Outcome>> = {
  read: { owner: "OK", editor: "OK", viewer: "OK", outsider: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  write: { owner: "OK", editor: "OK", viewer: "FORBIDDEN", outsider: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  manage: { owner: "OK", editor: "FORBIDDEN", viewer: "FORBIDDEN", outsider: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
};

/** The ids an operation acts on; `marker` is unique per row, so a row's effect can be looked up. */
export interface Targets {
  workspaceId: string;
  workflowId: string;
  versionId: string;
  runId: string;
  credentialId: string;
  member: { userId: string; email: string };
  marker: string;
  /** An invite link's id (made fresh by the rows that consume one). */
  inviteId?: string;
}

export interface Fixture {
  url: string;
  stack: Stack;
  accounts: Record<Exclude<Role, "anonymous">, Account>;
  targets: Omit<Targets, "marker">;
  /** Names only members can know; an outsider's response must never contain them. */
  secrets: string[];
}

/** Ids that do not exist: an outsider must not be able to tell a real resource from one of these. */
export const GHOST: Targets = {
  workspaceId: "ws_ghost000000000000",
  workflowId: "wf_ghost000000000000",
  versionId: "ver_ghost00000000000",
  runId: "run_ghost00000000000",
  credentialId: "cred_ghost0000000000",
  member: { userId: "usr_ghost00000000000", email: "ghost@example.test" },
  marker: "ghost",
  inviteId: "inv_ghost00000000000",
};

export interface Operation {
  name: string;
  need: Need;
  /** Fresh resources (made by the owner) for operations that consume or change their target. */
  prepare?: (f: Fixture, marker: string) => Promise<Partial<Targets>>;
  graphql?: { field: string; call: (url: string, token: string | undefined, t: Targets) => Promise<GraphQLResult> };
  rest?: (url: string, token: string | undefined, t: Targets) => ReturnType<typeof rest>;
  /** Whether the operation's effect happened (for writes): true after an allowed call, false after a denied one. */
  effect?: (f: Fixture, t: Targets) => Promise<boolean>;
}

export const q = (query: string, variables: (t: Targets) => Record<string, unknown>) => (url: string, token: string | undefined, t: Targets) =>
  gql(url, query, variables(t), token);

export const freshWorkflow = async (f: Fixture, marker: string, steps: string[] = ["a"]) =>
  (await createWorkflow(f.url, f.accounts.owner.token, f.targets.workspaceId, `src ${marker}`, definitionWith(`src ${marker}`, steps))).id;

export const OPERATIONS: Operation[] = [
  {
    name: "workflow(id)",
    need: "read",
    graphql: { field: "workflow", call: q(`query($id: ID!) { workflow(id: $id) { id name } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/workflows/${t.workflowId}`, { token }),
  },
  {
    name: "workflows(workspaceId)",
    need: "read",
    graphql: {
      field: "workflows",
      call: q(`query($ws: ID!) { workflows(workspaceId: $ws, first: 5) { edges { node { id name } } } }`, (t) => ({ ws: t.workspaceId })),
    },
    rest: (url, token, t) => rest(url, "GET", `/api/workflows?workspaceId=${t.workspaceId}&first=5`, { token }),
  },
  {
    name: "createWorkflow",
    need: "write",
    graphql: {
      field: "createWorkflow",
      call: q(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, (t) => ({ input: { workspaceId: t.workspaceId, name: t.marker } })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/workflows`, { token, json: { workspaceId: t.workspaceId, name: t.marker } }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.count({ where: { name: t.marker } })) > 0,
  },
  {
    name: "updateWorkflow",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: {
      field: "updateWorkflow",
      call: q(`mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id name } }`, (t) => ({ input: { id: t.workflowId, name: t.marker } })),
    },
    rest: (url, token, t) => rest(url, "PATCH", `/api/workflows/${t.workflowId}`, { token, json: { name: t.marker } }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.findUnique({ where: { id: t.workflowId }, select: { name: true } }))?.name === t.marker,
  },
  {
    name: "deleteWorkflow",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: { field: "deleteWorkflow", call: q(`mutation($id: ID!) { deleteWorkflow(id: $id) { id } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "DELETE", `/api/workflows/${t.workflowId}`, { token }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.count({ where: { id: t.workflowId } })) === 0,
  },
  {
    name: "duplicateWorkflow",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: { field: "duplicateWorkflow", call: q(`mutation($id: ID!) { duplicateWorkflow(id: $id) { id } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "POST", `/api/workflows/${t.workflowId}/duplicate`, { token }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.count({ where: { name: `src ${t.marker} (copy)` } })) > 0,
  },
  {
    name: "importWorkflow",
    need: "write",
    graphql: {
      field: "importWorkflow",
      call: q(`mutation($input: ImportWorkflowInput!) { importWorkflow(input: $input) { id } }`, (t) => ({
        input: { workspaceId: t.workspaceId, json: { format: "algorythmos.workflow/v1", definition: definitionWith(t.marker) } },
      })),
    },
    rest: (url, token, t) =>
      rest(url, "POST", `/api/workflows/import`, { token, json: { workspaceId: t.workspaceId, json: { format: "algorythmos.workflow/v1", definition: definitionWith(t.marker) } } }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.count({ where: { name: t.marker } })) > 0,
  },
  {
    name: "Workflow.export",
    need: "read",
    graphql: { field: "workflow", call: q(`query($id: ID!) { workflow(id: $id) { export } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/workflows/${t.workflowId}/export`, { token }),
  },
  {
    name: "Workflow.versions",
    need: "read",
    graphql: { field: "workflow", call: q(`query($id: ID!) { workflow(id: $id) { versions { id label } } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/workflows/${t.workflowId}/versions`, { token }),
  },
  {
    name: "createVersion",
    need: "write",
    graphql: {
      field: "createVersion",
      call: q(`mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, (t) => ({ input: { workflowId: t.workflowId, label: t.marker } })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/workflows/${t.workflowId}/versions`, { token, json: { label: t.marker } }),
    effect: async (f, t) => (await f.stack.deps.db.workflowSnapshot.count({ where: { label: t.marker } })) > 0,
  },
  {
    name: "restoreVersion",
    need: "write",
    prepare: async (f, marker) => {
      const workflowId = await freshWorkflow(f, marker, ["a"]);
      const owner = f.accounts.owner.token;
      const version = ok(
        await gql(f.url, `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, { input: { workflowId, label: "v1" } }, owner),
      );
      ok(
        await gql(f.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, {
          input: { id: workflowId, definition: definitionWith(`src ${marker}`, ["a", "b"]) },
        }, owner),
      );
      return { workflowId, versionId: version.createVersion.id };
    },
    graphql: { field: "restoreVersion", call: q(`mutation($id: ID!) { restoreVersion(versionId: $id) { id } }`, (t) => ({ id: t.versionId })) },
    rest: (url, token, t) => rest(url, "POST", `/api/versions/${t.versionId}/restore`, { token }),
    effect: async (f, t) => {
      const data = ok(await gql(f.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: t.workflowId }, f.accounts.owner.token));
      return !data.workflow.export.definition.steps.some((step: { id: string }) => step.id === "b");
    },
  },
  {
    name: "publishWorkflow",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: {
      field: "publishWorkflow",
      call: q(`mutation($input: PublishWorkflowInput!) { publishWorkflow(input: $input) { version { id } } }`, (t) => ({ input: { workflowId: t.workflowId, message: t.marker } })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/workflows/${t.workflowId}/publish`, { token, json: { message: t.marker } }),
    effect: async (f, t) => (await f.stack.deps.db.workflowSnapshot.count({ where: { workflowId: t.workflowId, kind: "published", message: t.marker } })) > 0,
  },
  {
    name: "testStep",
    need: "write",
    graphql: {
      field: "testStep",
      call: q(`mutation($input: TestStepInput!) { testStep(input: $input) { output error } }`, (t) => ({ input: { workflowId: t.workflowId, stepId: "start", input: { input: { marker: t.marker } } } })),
    },
  },
  {
    name: "runTestCases",
    need: "write",
    graphql: { field: "runTestCases", call: q(`mutation($input: RunTestCasesInput!) { runTestCases(input: $input) { caseId passed } }`, (t) => ({ input: { workflowId: t.workflowId } })) },
    rest: (url, token, t) => rest(url, "POST", `/api/workflows/${t.workflowId}/test-cases/run`, { token, json: {} }),
  },
  {
    name: "setWorkflowActive",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: {
      field: "setWorkflowActive",
      call: q(`mutation($input: SetWorkflowActiveInput!) { setWorkflowActive(input: $input) { id active } }`, (t) => ({ input: { workflowId: t.workflowId, active: false } })),
    },
    rest: (url, token, t) => rest(url, "PUT", `/api/workflows/${t.workflowId}/active`, { token, json: { active: false } }),
    effect: async (f, t) => (await f.stack.deps.db.workflow.findUnique({ where: { id: t.workflowId }, select: { active: true } }))?.active === false,
  },
  {
    name: "versionDiff",
    need: "read",
    graphql: { field: "versionDiff", call: q(`query($id: ID!) { versionDiff(fromVersionId: $id) { stepsAdded nameChanged } }`, (t) => ({ id: t.versionId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/versions/${t.versionId}/diff`, { token }),
  },
  {
    name: "startRun",
    need: "write",
    prepare: async (f, marker) => ({ workflowId: await freshWorkflow(f, marker) }),
    graphql: {
      field: "startRun",
      call: q(`mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`, (t) => ({ input: { workflowId: t.workflowId, input: { row: t.marker } } })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/runs`, { token, json: { workflowId: t.workflowId, input: { row: t.marker } } }),
    effect: async (f, t) => (await f.stack.deps.db.run.count({ where: { workflowId: t.workflowId } })) > 0,
  },
  {
    name: "runs(workflowId)",
    need: "read",
    graphql: { field: "runs", call: q(`query($id: ID!) { runs(workflowId: $id) { edges { node { id status } } } }`, (t) => ({ id: t.workflowId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/runs?workflowId=${t.workflowId}`, { token }),
  },
  {
    name: "run(id)",
    need: "read",
    graphql: { field: "run", call: q(`query($id: ID!) { run(id: $id) { id status input steps { stepId } } }`, (t) => ({ id: t.runId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/runs/${t.runId}`, { token }),
  },
  {
    name: "run steps (REST /api/steps)",
    need: "read",
    rest: (url, token, t) => rest(url, "GET", `/api/steps?runId=${t.runId}`, { token }),
  },
  {
    name: "credentials(workspaceId)",
    need: "read",
    graphql: { field: "credentials", call: q(`query($ws: ID!) { credentials(workspaceId: $ws) { id name type } }`, (t) => ({ ws: t.workspaceId })) },
    rest: (url, token, t) => rest(url, "GET", `/api/workspaces/${t.workspaceId}/credentials`, { token }),
  },
  {
    name: "createCredential",
    need: "write",
    graphql: {
      field: "createCredential",
      call: q(`mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, (t) => ({
        input: { workspaceId: t.workspaceId, name: t.marker, type: "postmark", secret: { serverToken: "pm-token" } },
      })),
    },
    rest: (url, token, t) =>
      rest(url, "POST", `/api/credentials`, { token, json: { workspaceId: t.workspaceId, name: t.marker, type: "postmark", secret: { serverToken: "pm-token" } } }),
    effect: async (f, t) => (await f.stack.deps.db.credential.count({ where: { name: t.marker } })) > 0,
  },
  {
    name: "deleteCredential",
    need: "write",
    prepare: async (f, marker) => {
      const created = ok(
        await gql(f.url, `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
          input: { workspaceId: f.targets.workspaceId, name: `cred ${marker}`, type: "postmark", secret: { serverToken: "pm-token" } },
        }, f.accounts.owner.token),
      );
      return { credentialId: created.createCredential.id };
    },
    graphql: { field: "deleteCredential", call: q(`mutation($id: ID!) { deleteCredential(id: $id) { id } }`, (t) => ({ id: t.credentialId })) },
    rest: (url, token, t) => rest(url, "DELETE", `/api/credentials/${t.credentialId}`, { token }),
    effect: async (f, t) => (await f.stack.deps.db.credential.count({ where: { id: t.credentialId } })) === 0,
  },
  {
    name: "inviteMember",
    need: "manage",
    prepare: async (f, marker) => {
      const account = await signUp(f.url, `Invitee ${marker}`);
      return { member: { userId: account.userId, email: account.email } };
    },
    graphql: {
      field: "inviteMember",
      call: q(`mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role user { id } } }`, (t) => ({
        input: { workspaceId: t.workspaceId, email: t.member.email, role: "editor" },
      })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/workspaces/${t.workspaceId}/members`, { token, json: { email: t.member.email, role: "editor" } }),
    effect: async (f, t) => (await f.stack.deps.db.membership.count({ where: { userId: t.member.userId, workspaceId: t.workspaceId } })) > 0,
  },
  {
    name: "removeMember",
    need: "manage",
    prepare: async (f, marker) => {
      const account = await signUp(f.url, `Member ${marker}`);
      await invite(f.url, f.accounts.owner, f.targets.workspaceId, account, "viewer");
      return { member: { userId: account.userId, email: account.email } };
    },
    graphql: {
      field: "removeMember",
      call: q(`mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`, (t) => ({ input: { workspaceId: t.workspaceId, userId: t.member.userId } })),
    },
    rest: (url, token, t) => rest(url, "DELETE", `/api/workspaces/${t.workspaceId}/members/${t.member.userId}`, { token }),
    effect: async (f, t) => (await f.stack.deps.db.membership.count({ where: { userId: t.member.userId, workspaceId: t.workspaceId } })) === 0,
  },
  // Members and invites (#17): owners only.
  {
    name: "setMemberRole",
    need: "manage",
    prepare: async (f, marker) => {
      const account = await signUp(f.url, `Role ${marker}`);
      await invite(f.url, f.accounts.owner, f.targets.workspaceId, account, "viewer");
      return { member: { userId: account.userId, email: account.email } };
    },
    graphql: {
      field: "setMemberRole",
      call: q(`mutation($input: SetMemberRoleInput!) { setMemberRole(input: $input) { role } }`, (t) => ({ input: { workspaceId: t.workspaceId, userId: t.member.userId, role: "editor" } })),
    },
    rest: (url, token, t) => rest(url, "PATCH", `/api/workspaces/${t.workspaceId}/members/${t.member.userId}`, { token, json: { role: "editor" } }),
    effect: async (f, t) => (await f.stack.deps.db.membership.count({ where: { userId: t.member.userId, workspaceId: t.workspaceId, role: "editor" } })) > 0,
  },
  {
    name: "revokeInvite",
    need: "manage",
    prepare: async (f, marker) => {
      const made = ok(
        await gql(f.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invite { id } } }`, {
          input: { workspaceId: f.targets.workspaceId, email: `invitee-${marker.toLowerCase().replace(/[^a-z0-9]/g, "")}@example.test`, role: "viewer" },
        }, f.accounts.owner.token),
      );
      return { inviteId: made.inviteMember.invite.id };
    },
    graphql: { field: "revokeInvite", call: q(`mutation($input: RevokeInviteInput!) { revokeInvite(input: $input) { id } }`, (t) => ({ input: { inviteId: t.inviteId } })) },
    rest: (url, token, t) => rest(url, "DELETE", `/api/invites/${t.inviteId}`, { token }),
    effect: async (f, t) => (await f.stack.deps.db.invite.count({ where: { id: t.inviteId!, revokedAt: { not: null } } })) > 0,
  },
  {
    name: "Workspace.invites",
    need: "manage",
    graphql: { field: "me", call: (url, token, t) => workspaceField(url, token, t, "invites { id email }") },
    rest: (url, token, t) => rest(url, "GET", `/api/workspaces/${t.workspaceId}/invites`, { token }),
  },
  {
    name: "createInvite (REST)",
    need: "manage",
    rest: (url, token, t) => rest(url, "POST", `/api/workspaces/${t.workspaceId}/invites`, { token, json: { email: `${t.marker}@example.test`, role: "viewer" } }),
    effect: async (f, t) => (await f.stack.deps.db.invite.count({ where: { workspaceId: t.workspaceId, email: `${t.marker}@example.test` } })) > 0,
  },
  {
    name: "Workspace.members",
    need: "read",
    graphql: { field: "me", call: (url, token, t) => workspaceField(url, token, t, "members { role user { id email } }") },
    rest: (url, token, t) => rest(url, "GET", `/api/workspaces/${t.workspaceId}/members`, { token }),
  },
  {
    name: "Workspace.credentials",
    need: "read",
    graphql: { field: "me", call: (url, token, t) => workspaceField(url, token, t, "credentials { id name }") },
  },
  // The operations page (docs/observability.md): owners only.
  {
    name: "operations(workspaceId)",
    need: "manage",
    graphql: {
      field: "operations",
      call: q(`query($ws: ID!) { operations(workspaceId: $ws) { queues { name waiting } troubledRuns { run { id } } collab { rooms { workflowId } } } }`, (t) => ({ ws: t.workspaceId })),
    },
  },
  {
    name: "resumeRun",
    need: "write",
    // A run waiting at an approval step (made directly: the fixture has no worker).
    prepare: async (f, marker) => {
      const runId = `run_${randomBytes(10).toString("hex")}`;
      const db = f.stack.deps.db;
      await db.run.create({ data: { id: runId, workflowId: f.targets.workflowId, workspaceId: f.targets.workspaceId, definition: {}, trigger: "manual", input: { marker }, status: "running", startedAt: new Date() } });
      await db.runApproval.create({ data: { id: `apv_${randomBytes(10).toString("hex")}`, runId, stepId: "ask", tokenHash: randomBytes(32).toString("hex") } });
      return { runId };
    },
    graphql: {
      field: "resumeRun",
      call: q(`mutation($input: ResumeRunInput!) { resumeRun(input: $input) { approval { decision } } }`, (t) => ({ input: { runId: t.runId, stepId: "ask", decision: "APPROVE", comment: t.marker } })),
    },
    rest: (url, token, t) => rest(url, "POST", `/api/runs/${t.runId}/resume`, { token, json: { stepId: "ask", decision: "APPROVE", comment: t.marker } }),
    effect: async (f, t) => (await f.stack.deps.db.runApproval.count({ where: { runId: t.runId, comment: t.marker } })) > 0,
  },
  {
    name: "pendingApprovals(workspaceId)",
    need: "read",
    graphql: { field: "pendingApprovals", call: q(`query($ws: ID!) { pendingApprovals(workspaceId: $ws) { id runId title } }`, (t) => ({ ws: t.workspaceId })) },
  },
  {
    name: "cancelRuns",
    need: "manage",
    prepare: async (f, marker) => {
      const workflowId = await freshWorkflow(f, marker);
      const run = ok(await gql(f.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, f.accounts.owner.token));
      return { workflowId, runId: run.startRun.id as string };
    },
    graphql: {
      field: "cancelRuns",
      call: q(`mutation($input: BulkRunInput!) { cancelRuns(input: $input) { runs { id status } failures { code } } }`, (t) => ({ input: { workspaceId: t.workspaceId, runIds: [t.runId] } })),
    },
    effect: async (f, t) => (await f.stack.deps.db.run.count({ where: { id: t.runId, status: "canceled" } })) > 0,
  },
  {
    name: "retryRuns",
    need: "manage",
    prepare: async (f, marker) => {
      const workflowId = await freshWorkflow(f, marker);
      const run = ok(await gql(f.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, f.accounts.owner.token));
      ok(await gql(f.url, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: run.startRun.id }, f.accounts.owner.token));
      return { workflowId, runId: run.startRun.id as string };
    },
    graphql: {
      field: "retryRuns",
      call: q(`mutation($input: BulkRunInput!) { retryRuns(input: $input) { runs { id } failures { code } } }`, (t) => ({ input: { workspaceId: t.workspaceId, runIds: [t.runId] } })),
    },
    effect: async (f, t) => (await f.stack.deps.db.run.count({ where: { retryOfRunId: t.runId } })) > 0,
  },
];

/**
 * A Workspace is reached only through `me.workspaces`: a non-member cannot address another workspace at all,
 * which is reported here as NOT_FOUND (the outcome an outsider must see everywhere else).
 */
export async function workspaceField(url: string, token: string | undefined, t: Targets, selection: string): Promise<GraphQLResult> {
  const result = await gql(url, `{ me { workspaces { id ${selection} } } }`, {}, token);
  if (result.errors?.length) return result;
  const workspace = result.data!.me.workspaces.find((w: { id: string }) => w.id === t.workspaceId);
  if (!workspace) return { ...result, data: null, errors: [{ message: "Workspace not reachable", extensions: { code: "NOT_FOUND" } }] };
  return { ...result, data: { me: workspace } };
}

export const REST_CODE: Record<number, Outcome> = { 200: "OK", 201: "OK", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND" };

/** Workspace A with an owner, an editor and a viewer, one of each resource; the outsider owns workspace B. */
export async function createAuthzFixture(): Promise<Fixture> {
  const stack = await startTestStack({ collab: false, worker: false });
  const url = stack.url;
  const [owner, editor, viewer, outsider] = await Promise.all(["Owner", "Editor", "Viewer", "Outsider"].map((name) => signUp(url, name)));
  const workspaceId = owner!.workspaceId;
  await invite(url, owner!, workspaceId, editor!, "editor");
  await invite(url, owner!, workspaceId, viewer!, "viewer");
  const secretName = `Matrix target ${randomBytes(4).toString("hex")}`;
  const workflow = await createWorkflow(url, owner!.token, workspaceId, secretName, definitionWith(secretName, ["a"]));
  const version = ok(
    await gql(url, `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, { input: { workflowId: workflow.id, label: "first" } }, owner!.token),
  );
  const run = ok(
    await gql(url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id, input: { secret: secretName } } }, owner!.token),
  );
  const credentialName = `Matrix credential ${randomBytes(4).toString("hex")}`;
  const credential = ok(
    await gql(url, `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
      input: { workspaceId, name: credentialName, type: "postmark", secret: { serverToken: "pm-token" } },
    }, owner!.token),
  );
  return {
    url,
    stack,
    accounts: { owner: owner!, editor: editor!, viewer: viewer!, outsider: outsider! },
    targets: {
      workspaceId,
      workflowId: workflow.id,
      versionId: version.createVersion.id,
      runId: run.startRun.id,
      credentialId: credential.createCredential.id,
      member: { userId: viewer!.userId, email: viewer!.email },
    },
    secrets: [secretName, credentialName, owner!.email, editor!.email, viewer!.email],
  };
}
