/**
 * Tenancy matrix (issue 12, "Done when"): GENERATED from `schema.graphql` (every Query, Mutation and Subscription
 * field) and from the served OpenAPI document (every REST route). Each operation must have a case:
 *  - a row of the authorisation table (tests/support/authz-operations.ts, run for every caller kind by
 *    tests/api/authz-matrix.test.ts), or
 *  - a case below, run here for a member of another workspace (NOT_FOUND, learning nothing), an anonymous caller
 *    (UNAUTHENTICATED) and, for writes, a viewer (FORBIDDEN), each after a control that the owner is let through, or
 *  - a listed reason why it is public or scoped to the caller alone.
 * A new operation without a case fails the coverage tests, naming it.
 */
import { buildSchema, isObjectType } from "graphql";
import { readFileSync } from "node:fs";
import path from "node:path";
import { notificationsChannel, workflowRunsChannel } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, gql, ok, rest, type GraphQLResult } from "../support/api.js";
import { createAuthzFixture, EXPECTED, GHOST, OPERATIONS, REST_CODE, type Fixture, type Need, type Outcome, type Targets } from "../support/authz-operations.js";
import { graphqlWsClient, waitFor } from "../support/stack.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

type Caller = "owner" | "viewer" | "outsider" | "anonymous";

/** A case of this file: the call, the need it is checked against, and whether the owner's call is a usable control. */
interface Case {
  need: Need;
  call: (f: Fixture, token: string | undefined, t: Targets) => Promise<Outcome>;
  /** The owner's outcome must be this (the target is real and reachable), or null when no control is possible. */
  control: Outcome | "NOT_DENIED" | null;
  /** A fresh target per call, for operations that consume theirs. */
  prepare?: (f: Fixture) => Promise<Partial<Targets>>;
}

type Coverage = { authz: string } | { here: Case } | { public: string } | { ownOnly: OwnOnlyCase };

/** Operations on the caller's own account: anonymous is UNAUTHENTICATED; another user never sees or changes the owner's. */
interface OwnOnlyCase {
  /** True when, called by the outsider, nothing of the owner's account shows or changes. */
  isolated: (f: Fixture) => Promise<boolean>;
  anonymous: (f: Fixture) => Promise<Outcome>;
}

const graphqlOutcome = (result: GraphQLResult): Outcome => codeOf(result) as Outcome;
const restOutcome = (status: number): Outcome => REST_CODE[status] ?? (`HTTP ${status}` as Outcome);

const freshRun = async (f: Fixture) => {
  const run = ok(await gql(f.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: f.targets.workflowId } }, f.accounts.owner.token));
  return { runId: run.startRun.id as string };
};

/** A subscription's first outcome: its first event (OK), or the error code it ended with. */
async function subscriptionOutcome(f: Fixture, token: string | undefined, query: string, variables: Record<string, unknown>, ready?: () => Promise<boolean>): Promise<Outcome> {
  const client = token
    ? graphqlWsClient(f.url, token)
    : createClient({ url: f.url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    return await new Promise<Outcome>((resolve) => {
      client.subscribe({ query, variables }, {
        next: (message) => resolve(message.errors ? (String(message.errors[0]?.extensions?.code) as Outcome) : "OK"),
        error: (error) => resolve((Array.isArray(error) ? String(error[0]?.extensions?.code) : `closed: ${String((error as { code?: number }).code ?? error)}`) as Outcome),
        complete: () => resolve("OK"),
      });
      // A live subscription with nothing to replay: OK once Redis has its subscriber.
      if (ready) void waitFor("the subscription", ready, 5_000).then(() => resolve("OK"), () => {});
    });
  } finally {
    await client.dispose();
  }
}

const workflowRunsListening = (f: Fixture, workflowId: string, before: number) => async () => {
  const [, count] = (await f.stack.deps.redis.pubsub("NUMSUB", workflowRunsChannel(f.stack.deps.env.REDIS_PREFIX, workflowId))) as [string, number];
  return Number(count) > before;
};

const HERE: Record<string, Case> = {
  workspace: {
    need: "read",
    control: "OK",
    call: async (f, token, t) => graphqlOutcome(await gql(f.url, `query($id: ID!) { workspace(id: $id) { id name } }`, { id: t.workspaceId }, token)),
  },
  cancelRun: {
    need: "write",
    control: "OK",
    prepare: freshRun,
    call: async (f, token, t) => graphqlOutcome(await gql(f.url, `mutation($id: ID!) { cancelRun(id: $id) { id status } }`, { id: t.runId }, token)),
  },
  retryRun: {
    need: "write",
    control: "NOT_DENIED",
    call: async (f, token, t) =>
      graphqlOutcome(await gql(f.url, `mutation($input: RetryRunInput!) { retryRun(input: $input) { id } }`, { input: { runId: t.runId, fromStepId: "a" } }, token)),
  },
  testConnector: {
    need: "write",
    control: null, // the owner's call waits for a worker; the denial happens before anything is queued
    call: async (f, token, t) =>
      graphqlOutcome(
        await gql(f.url, `mutation($input: TestConnectorInput!) { testConnector(input: $input) { ok message } }`, {
          input: { type: "email.postmark", credentialId: t.credentialId, config: {} },
        }, token),
      ),
  },
  runEvents: {
    need: "read",
    control: "OK",
    call: (f, token, t) => subscriptionOutcome(f, token, `subscription($id: ID!) { runEvents(runId: $id) { seq type } }`, { id: t.runId }),
  },
  workflowRuns: {
    need: "read",
    control: "OK",
    call: async (f, token, t) => {
      const [, before] = (await f.stack.deps.redis.pubsub("NUMSUB", workflowRunsChannel(f.stack.deps.env.REDIS_PREFIX, t.workflowId))) as [string, number];
      return subscriptionOutcome(f, token, `subscription($id: ID!) { workflowRuns(workflowId: $id) { seq } }`, { id: t.workflowId },
        token ? workflowRunsListening(f, t.workflowId, Number(before)) : undefined);
    },
  },
  workflowPublication: {
    need: "read",
    control: "OK", // its first event is the state as it is
    call: (f, token, t) => subscriptionOutcome(f, token, `subscription($id: ID!) { workflowPublication(workflowId: $id) { active } }`, { id: t.workflowId }),
  },
  "REST POST /api/runs/{id}/cancel": {
    need: "write",
    control: "OK",
    prepare: freshRun,
    call: async (f, token, t) => restOutcome((await rest(f.url, "POST", `/api/runs/${t.runId}/cancel`, { token })).status),
  },
  "REST POST /api/runs/{id}/retry": {
    need: "write",
    control: "NOT_DENIED",
    call: async (f, token, t) => restOutcome((await rest(f.url, "POST", `/api/runs/${t.runId}/retry`, { token, json: { fromStepId: "a" } })).status),
  },
  "REST POST /api/connectors/test": {
    need: "write",
    control: null,
    call: async (f, token, t) =>
      restOutcome((await rest(f.url, "POST", `/api/connectors/test`, { token, json: { type: "email.postmark", credentialId: t.credentialId, config: {} } })).status),
  },
};

/** The owner's API token, which nobody else may see or revoke. */
let ownerApiToken: { id: string; name: string };

/** A notification of `userId` (as collab stores one for a mention; collab/mentions.ts), in a workflow of `workspaceId`. */
const notificationOf = async (f: Fixture, userId: string, workspaceId: string, workflowId: string) =>
  (await f.stack.deps.db.notification.create({
    data: { userId, workspaceId, workflowId, kind: "mention", commentId: `cmt_${Math.random().toString(36).slice(2)}`, threadId: "cmt_t", actorName: "Someone", excerpt: "@you" },
    select: { id: true },
  })).id;
const ownerNotification = (f: Fixture) => notificationOf(f, f.accounts.owner.userId, f.targets.workspaceId, f.targets.workflowId);

const OWN_ONLY: Record<string, OwnOnlyCase> = {
  me: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `{ me { id } }`)),
    isolated: async (f) => {
      const me = ok(await gql(f.url, `{ me { id workspaces { id } } }`, {}, f.accounts.outsider.token)).me;
      return me.id === f.accounts.outsider.userId && !me.workspaces.some((w: { id: string }) => w.id === f.targets.workspaceId);
    },
  },
  apiTokens: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `{ apiTokens { id } }`)),
    isolated: async (f) => !JSON.stringify(ok(await gql(f.url, `{ apiTokens { id name } }`, {}, f.accounts.outsider.token))).includes(ownerApiToken.id),
  },
  createApiToken: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `mutation { createApiToken(input: { name: "anon" }) { token } }`)),
    isolated: async (f) => {
      ok(await gql(f.url, `mutation { createApiToken(input: { name: "outsider's" }) { token } }`, {}, f.accounts.outsider.token));
      const mine = ok(await gql(f.url, `{ apiTokens { name } }`, {}, f.accounts.owner.token)).apiTokens;
      return !mine.some((token: { name: string }) => token.name === "outsider's");
    },
  },
  revokeApiToken: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: ownerApiToken.id })),
    isolated: async (f) => {
      const result = await gql(f.url, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: ownerApiToken.id }, f.accounts.outsider.token);
      const mine = ok(await gql(f.url, `{ apiTokens { id revokedAt } }`, {}, f.accounts.owner.token)).apiTokens;
      return codeOf(result) === "NOT_FOUND" && mine.find((token: { id: string }) => token.id === ownerApiToken.id)?.revokedAt === null;
    },
  },
  endSession: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `mutation { endSession }`)),
    isolated: async (f) => {
      // The outsider ends a session of their own (a fresh one, so the fixture's token keeps working).
      const session = ok(await gql(f.url, `mutation($input: LogInInput!) { logIn(input: $input) { token } }`, {
        input: { email: f.accounts.outsider.email, password: f.accounts.outsider.password },
      })).logIn;
      ok(await gql(f.url, `mutation { endSession }`, {}, session.token));
      return codeOf(await gql(f.url, `{ me { id } }`, {}, f.accounts.owner.token)) === "OK";
    },
  },
  createWorkspace: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `mutation { createWorkspace(input: { name: "anon" }) { id } }`)),
    isolated: async (f) => {
      const created = ok(await gql(f.url, `mutation { createWorkspace(input: { name: "Outsider's second" }) { id } }`, {}, f.accounts.outsider.token)).createWorkspace;
      const owners = ok(await gql(f.url, `{ me { workspaces { id } } }`, {}, f.accounts.owner.token)).me.workspaces;
      return !owners.some((w: { id: string }) => w.id === created.id);
    },
  },
  notifications: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `{ notifications(first: 1) { unreadCount } }`)),
    isolated: async (f) => {
      const id = await ownerNotification(f);
      const theirs = ok(await gql(f.url, `{ notifications(first: 100) { unreadCount edges { node { id } } } }`, {}, f.accounts.outsider.token)).notifications;
      return !JSON.stringify(theirs).includes(id);
    },
  },
  markNotificationsRead: {
    anonymous: async (f) => graphqlOutcome(await gql(f.url, `mutation { markNotificationsRead(input: { all: true }) { marked } }`)),
    isolated: async (f) => {
      const id = await ownerNotification(f);
      const result = ok(await gql(f.url, `mutation($ids: [ID!]) { markNotificationsRead(input: { ids: $ids }) { marked } }`, { ids: [id] }, f.accounts.outsider.token));
      const row = await f.stack.deps.db.notification.findUnique({ where: { id }, select: { readAt: true } });
      return result.markNotificationsRead.marked === 0 && row?.readAt === null;
    },
  },
  notificationAdded: {
    anonymous: (f) => subscriptionOutcome(f, undefined, `subscription { notificationAdded { id } }`, {}),
    isolated: async (f) => {
      // Even an announcement naming the owner's notification on the outsider's own channel delivers nothing of it.
      const owners = await ownerNotification(f);
      const own = (await gql(f.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: f.accounts.outsider.workspaceId, name: "Outsider's" } }, f.accounts.outsider.token)).data!.createWorkflow.id;
      const mine = await notificationOf(f, f.accounts.outsider.userId, f.accounts.outsider.workspaceId, own);
      const channel = notificationsChannel(f.stack.deps.env.REDIS_PREFIX, f.accounts.outsider.userId);
      const client = graphqlWsClient(f.url, f.accounts.outsider.token);
      try {
        const first = new Promise<string>((resolve) =>
          client.subscribe({ query: `subscription { notificationAdded { id } }` }, {
            next: (message) => resolve(String((message.data as { notificationAdded?: { id: string } } | undefined)?.notificationAdded?.id ?? JSON.stringify(message.errors))),
            error: (error) => resolve(`error ${String(error)}`),
            complete: () => resolve("complete"),
          }),
        );
        await waitFor("the outsider's subscription", async () => Number(((await f.stack.deps.redis.pubsub("NUMSUB", channel)) as [string, number])[1]) > 0, 5_000);
        await f.stack.deps.redis.publish(channel, JSON.stringify({ ids: [owners] }));
        await f.stack.deps.redis.publish(channel, JSON.stringify({ ids: [mine] }));
        return (await first) === mine;
      } finally {
        await client.dispose();
      }
    },
  },
  "REST GET /api/workspaces": {
    anonymous: async (f) => restOutcome((await rest(f.url, "GET", "/api/workspaces")).status),
    isolated: async (f) => !JSON.stringify((await rest(f.url, "GET", "/api/workspaces", { token: f.accounts.outsider.token })).body).includes(f.targets.workspaceId),
  },
  "REST POST /api/api-tokens": {
    anonymous: async (f) => restOutcome((await rest(f.url, "POST", "/api/api-tokens", { json: { name: "anon" } })).status),
    isolated: async (f) => {
      const created = await rest(f.url, "POST", "/api/api-tokens", { token: f.accounts.outsider.token, json: { name: "outsider rest" } });
      const mine = ok(await gql(f.url, `{ apiTokens { name } }`, {}, f.accounts.owner.token)).apiTokens;
      return created.status === 201 && !mine.some((token: { name: string }) => token.name === "outsider rest");
    },
  },
  "REST POST /hooks/{workflowId}/{secret}": {
    // Scoped by the workflow's secret, not by a caller: a wrong secret on a real workflow is answered like a ghost.
    anonymous: async (f) => restOutcome((await rest(f.url, "POST", `/hooks/${f.targets.workflowId}/not-the-secret`, { json: {} })).status),
    isolated: async (f) => {
      const runs = await f.stack.deps.db.run.count({ where: { workflowId: f.targets.workflowId } });
      const real = await rest(f.url, "POST", `/hooks/${f.targets.workflowId}/not-the-secret`, { json: {} });
      const ghost = await rest(f.url, "POST", `/hooks/${GHOST.workflowId}/not-the-secret`, { json: {} });
      const after = await f.stack.deps.db.run.count({ where: { workflowId: f.targets.workflowId } });
      return real.status === ghost.status && JSON.stringify(real.body) === JSON.stringify(ghost.body) && runs === after;
    },
  },
};

const PUBLIC = {
  signUp: "creates an account; needs no caller",
  logIn: "needs no caller; rate limited per address",
  logOut: "acts only on the refresh token it is given (tests/security/auth-sessions.test.ts)",
  refreshSession: "acts only on the refresh token it is given (tests/api/tokens.test.ts)",
  stepTypes: "the step-type registry: the same for everyone, no workspace data",
  workflowTemplates: "the built-in templates gallery: the same static definitions for everyone, no workspace data",
  invitePreview: "the invite link's token is its only credential (tests/api/members.test.ts: a wrong one is NOT_FOUND)",
  acceptInvite: "the invite link's token is its credential, and only an account using the invited email may accept it (tests/api/members.test.ts)",
  "REST POST /api/invites/accept": "as acceptInvite",
  "REST POST /api/auth/signup": "as signUp",
  "REST POST /api/auth/login": "as logIn",
  "REST POST /api/auth/refresh": "as refreshSession",
  "REST POST /api/auth/logout": "as logOut",
  "REST GET /api/step-types": "as stepTypes",
  "REST GET /api/templates": "as workflowTemplates",
  "REST GET /api/templates/{id}": "as workflowTemplates",
};

/** Rows of the shared authorisation table, by the operation they cover. */
const AUTHZ: Record<string, string> = {
  workflow: "workflow(id)",
  testStep: "testStep",
  runTestCases: "runTestCases",
  workflows: "workflows(workspaceId)",
  run: "run(id)",
  runs: "runs(workflowId)",
  versionDiff: "versionDiff",
  credentials: "credentials(workspaceId)",
  createWorkflow: "createWorkflow",
  updateWorkflow: "updateWorkflow",
  deleteWorkflow: "deleteWorkflow",
  duplicateWorkflow: "duplicateWorkflow",
  importWorkflow: "importWorkflow",
  createVersion: "createVersion",
  restoreVersion: "restoreVersion",
  publishWorkflow: "publishWorkflow",
  setWorkflowActive: "setWorkflowActive",
  startRun: "startRun",
  createCredential: "createCredential",
  deleteCredential: "deleteCredential",
  inviteMember: "inviteMember",
  removeMember: "removeMember",
  setMemberRole: "setMemberRole",
  revokeInvite: "revokeInvite",
  operations: "operations(workspaceId)",
  cancelRuns: "cancelRuns",
  resumeRun: "resumeRun",
  pendingApprovals: "pendingApprovals(workspaceId)",
  retryRuns: "retryRuns",
  "REST GET /api/workspaces/{id}/members": "Workspace.members",
  "REST POST /api/workspaces/{id}/members": "inviteMember",
  "REST PATCH /api/workspaces/{id}/members/{userId}": "setMemberRole",
  "REST DELETE /api/workspaces/{id}/members/{userId}": "removeMember",
  "REST GET /api/workspaces/{id}/invites": "Workspace.invites",
  "REST POST /api/workspaces/{id}/invites": "createInvite (REST)",
  "REST DELETE /api/invites/{id}": "revokeInvite",
  "REST GET /api/workspaces/{id}/credentials": "credentials(workspaceId)",
  "REST POST /api/credentials": "createCredential",
  "REST DELETE /api/credentials/{id}": "deleteCredential",
  "REST GET /api/workflows": "workflows(workspaceId)",
  "REST POST /api/workflows": "createWorkflow",
  "REST POST /api/workflows/import": "importWorkflow",
  "REST GET /api/workflows/{id}": "workflow(id)",
  "REST PATCH /api/workflows/{id}": "updateWorkflow",
  "REST DELETE /api/workflows/{id}": "deleteWorkflow",
  "REST POST /api/workflows/{id}/duplicate": "duplicateWorkflow",
  "REST GET /api/workflows/{id}/export": "Workflow.export",
  "REST GET /api/workflows/{id}/versions": "Workflow.versions",
  "REST POST /api/workflows/{id}/versions": "createVersion",
  "REST POST /api/versions/{id}/restore": "restoreVersion",
  "REST GET /api/versions/{id}/diff": "versionDiff",
  "REST POST /api/workflows/{id}/publish": "publishWorkflow",
  "REST PUT /api/workflows/{id}/active": "setWorkflowActive",
  "REST POST /api/workflows/{id}/test-cases/run": "runTestCases",
  "REST GET /api/runs": "runs(workflowId)",
  "REST POST /api/runs": "startRun",
  "REST POST /api/runs/{id}/resume": "resumeRun",
  "REST GET /api/runs/{id}": "run(id)",
  "REST GET /api/steps": "run steps (REST /api/steps)",
};

function coverageOf(operation: string): Coverage | null {
  if (AUTHZ[operation]) return { authz: AUTHZ[operation]! };
  if (HERE[operation]) return { here: HERE[operation]! };
  if (OWN_ONLY[operation]) return { ownOnly: OWN_ONLY[operation]! };
  if (operation in PUBLIC) return { public: PUBLIC[operation as keyof typeof PUBLIC] };
  return null;
}

/** Every Query, Mutation and Subscription field of the committed schema. */
function schemaOperations(): string[] {
  const schema = buildSchema(readFileSync(path.resolve("schema.graphql"), "utf8"));
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter(isObjectType)
    .flatMap((type) => Object.keys(type.getFields()));
}

let fixture: Fixture;
let restOperations: string[];
/** Attempts made by this file, for the tried/held/broken table printed at the end. */
const tally = { tried: 0, held: 0, broken: 0 };
async function attempt(check: () => Promise<void>): Promise<void> {
  tally.tried++;
  try {
    await check();
    tally.held++;
  } catch (error) {
    tally.broken++;
    throw error;
  }
}

beforeAll(async () => {
  fixture = await createAuthzFixture();
  const document = (await rest(fixture.url, "GET", "/api/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  restOperations = Object.entries(document.paths).flatMap(([route, methods]) => Object.keys(methods).map((method) => `REST ${method.toUpperCase()} ${route}`));
  const created = ok(await gql(fixture.url, `mutation { createApiToken(input: { name: "owner's own" }) { apiToken { id name } } }`, {}, fixture.accounts.owner.token));
  ownerApiToken = created.createApiToken.apiToken;
});
afterAll(async () => {
  console.info(`tenancy matrix (cases outside the authorisation table): tried ${tally.tried}, held ${tally.held}, broken ${tally.broken}`);
  await fixture?.stack.close();
});

describe("coverage: every operation has a case", () => {
  it("every Query, Mutation and Subscription field of schema.graphql", () => {
    const operations = schemaOperations();
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((operation) => !coverageOf(operation)), "operations without a tenancy case").toEqual([]);
  });

  it("every route of the OpenAPI document", () => {
    expect(restOperations.length).toBeGreaterThan(25);
    expect(restOperations.filter((operation) => !coverageOf(operation)), "routes without a tenancy case").toEqual([]);
  });

  it("every reference to the authorisation table names a row with that transport", () => {
    const broken = Object.entries(AUTHZ).filter(([operation, name]) => {
      const row = OPERATIONS.find((op) => op.name === name);
      return !row || (operation.startsWith("REST ") ? !row.rest : !row.graphql);
    });
    expect(broken).toEqual([]);
  });

  it("no case is left over for an operation that no longer exists", () => {
    const known = new Set([...schemaOperations(), ...restOperations]);
    const cases = [...Object.keys(AUTHZ), ...Object.keys(HERE), ...Object.keys(OWN_ONLY), ...Object.keys(PUBLIC)];
    expect(cases.filter((operation) => !known.has(operation))).toEqual([]);
  });
});

const callers = (need: Need): Caller[] => (need === "read" ? ["outsider", "anonymous"] : ["viewer", "outsider", "anonymous"]);
const tokenOf = (caller: Caller) => (caller === "anonymous" ? undefined : fixture.accounts[caller].token);
const targetsFor = async (c: Case): Promise<Targets> => ({ ...fixture.targets, marker: "tenancy", ...(await c.prepare?.(fixture)) });

describe("operations outside the authorisation table", () => {
  const rows = Object.entries(HERE).flatMap(([operation, c]) => [
    ...(c.control ? [{ title: `${operation} as owner → ${c.control} (the control)`, operation, c, caller: "owner" as Caller, expected: c.control }] : []),
    ...callers(c.need).map((caller) => ({ title: `${operation} as ${caller} → ${EXPECTED[c.need][caller]}`, operation, c, caller, expected: EXPECTED[c.need][caller] as Outcome | "NOT_DENIED" })),
  ]);

  it.each(rows)("$title", ({ c, caller, expected }) =>
    attempt(async () => {
      const outcome = await c.call(fixture, tokenOf(caller), await targetsFor(c));
      if (expected === "NOT_DENIED") expect(["NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"]).not.toContain(outcome);
      else expect(outcome).toBe(expected);
      if (caller === "outsider") {
        // Learns nothing: a real target is answered like one that does not exist.
        expect(outcome).toBe(await c.call(fixture, tokenOf(caller), { ...GHOST, marker: "ghost" }));
      }
    }),
  );
});

describe("operations on the caller's own account", () => {
  it.each(Object.entries(OWN_ONLY).map(([operation, c]) => ({ operation, c })))("$operation: anonymous is refused, another user sees and changes nothing of the owner's", ({ operation, c }) =>
    attempt(async () => {
      const anonymous = await c.anonymous(fixture);
      // Webhooks are meant for anonymous callers: there the secret is the credential, and a wrong one is NOT_FOUND.
      expect(anonymous).toBe(operation.startsWith("REST POST /hooks/") ? "NOT_FOUND" : "UNAUTHENTICATED");
      expect(await c.isolated(fixture)).toBe(true);
    }),
  );
});
