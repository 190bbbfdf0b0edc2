import {
  AcceptInviteInput,
  CreateApiTokenInput,
  CreateCredentialInput,
  CreateVersionInput,
  CreateWorkflowInput,
  findTemplate,
  ImportWorkflowInput,
  InviteMemberInput,
  LogInInput,
  RefreshSessionInput,
  RetryRunInput,
  SetMemberRoleInput,
  SignUpInput,
  StartRunInput,
  TestConnectorInput,
  UpdateWorkflowInput,
  WORKFLOW_TEMPLATES,
  type WorkflowTemplate,
} from "@algorythmos/domain";
import type { Context } from "hono";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, type ErrorCode } from "../errors.js";
import { createApiToken } from "../services/api-tokens.js";
import { testConnector } from "../services/connectors.js";
import { createCredential, deleteCredential, listCredentials } from "../services/credentials.js";
import { resumeRun, ResumeRunInput } from "../services/approvals.js";
import { cancelRun, getRun, listRuns, listRunSteps, retryRun, startRun } from "../services/runs.js";
import { logOut, refreshSession } from "../services/sessions.js";
import { listStepTypes } from "../services/step-types.js";
import { listMyWorkspaces, logIn, signUp } from "../services/users.js";
import { createVersion, diffVersions, listVersions, restoreVersion } from "../services/versions.js";
import { runTestCases, RunTestCasesInput } from "../services/test-cases.js";
import { publicationOf, PublishWorkflowInput, publishWorkflow, setWorkflowActive, SetWorkflowActiveInput } from "../services/publish.js";
import {
  createWorkflow,
  deleteWorkflow,
  duplicateWorkflow,
  exportWorkflow,
  getWorkflow,
  importWorkflow,
  listWorkflows,
  updateWorkflow,
} from "../services/workflows.js";
import { inviteMember, listMembers, removeMember, setMemberRole } from "../services/workspaces.js";
import { acceptInvite, createInvite, listInvites, revokeInvite } from "../services/invites.js";
import * as S from "./schemas.js";

export type Method = "get" | "post" | "put" | "patch" | "delete";

export interface RouteInput<Query> {
  deps: ServerDeps;
  c: Context;
  caller: Caller;
  /** The query string, parsed by the route's `query` schema. */
  query: Query;
  /** A path parameter (`{id}` in the route's path). */
  param(name: string): string;
  /** The JSON body, unparsed: the service validates it with the route's `body` schema. */
  json(): Promise<unknown>;
  /** The JSON body as an object (BAD_USER_INPUT otherwise), to merge with path parameters. */
  jsonObject(): Promise<Record<string, unknown>>;
}

/**
 * One REST operation: how it is served and how it is documented, in one place. `body` is the domain schema
 * the service validates the request with; `response` the REST schema of what `handle` returns (the types
 * make `handle` return what the schema describes); `errors` the codes beyond those every operation can give.
 */
export interface RestRoute<Query extends z.ZodObject | undefined = z.ZodObject | undefined, Response extends z.ZodType = z.ZodType> {
  operationId: string;
  method: Method;
  /** Under /api, OpenAPI style: `/workflows/{id}`. */
  path: string;
  tag: string;
  summary: string;
  /** Needs no credentials (a bearer token sent anyway must be valid). */
  public?: boolean;
  query?: Query;
  body?: z.ZodType;
  status: 200 | 201;
  response: Response;
  errors?: ErrorCode[];
  handle(input: RouteInput<Query extends z.ZodObject ? z.output<Query> : undefined>): Promise<z.input<Response>> | z.input<Response>;
}

const route = <Response extends z.ZodType, Query extends z.ZodObject | undefined = undefined>(spec: RestRoute<Query, Response>) =>
  spec as unknown as RestRoute;

/** Every REST route under /api (the webhook, under /hooks, is documented beside them in openapi.ts). */
export const REST_ROUTES: RestRoute[] = [
  route({
    operationId: "signUp", method: "post", path: "/auth/signup", tag: "auth", public: true,
    summary: "Create an account (and its workspace); returns tokens",
    body: SignUpInput, status: 201, response: S.AuthPayload, errors: ["CONFLICT"],
    handle: async ({ deps, caller, json }) => signUp(deps, caller, await json()),
  }),
  route({
    operationId: "logIn", method: "post", path: "/auth/login", tag: "auth", public: true,
    summary: "Log in; returns an access token and a refresh token",
    body: LogInInput, status: 200, response: S.AuthPayload,
    handle: async ({ deps, caller, json }) => logIn(deps, caller, await json()),
  }),
  route({
    operationId: "refreshSession", method: "post", path: "/auth/refresh", tag: "auth", public: true,
    summary: "Exchange a refresh token (once) for a new pair; a reused one ends its session",
    body: RefreshSessionInput, status: 200, response: S.AuthPayload,
    handle: async ({ deps, caller, json }) => refreshSession(deps, caller, await json()),
  }),
  route({
    operationId: "logOut", method: "post", path: "/auth/logout", tag: "auth", public: true,
    summary: "End the session of a refresh token (its access tokens stop working at once)",
    body: RefreshSessionInput, status: 200, response: S.LoggedOut,
    handle: async ({ deps, json }) => ({ loggedOut: await logOut(deps, await json()) }),
  }),

  route({
    operationId: "listWorkspaces", method: "get", path: "/workspaces", tag: "workspaces",
    summary: "The caller's workspaces and roles",
    status: 200, response: S.pageOf(S.Workspace, "Workspace"),
    handle: async ({ deps, caller }) => ({ items: await listMyWorkspaces(deps, caller), nextCursor: null }),
  }),
  route({
    operationId: "listMembers", method: "get", path: "/workspaces/{id}/members", tag: "workspaces",
    summary: "Members of a workspace",
    status: 200, response: S.pageOf(S.Member, "Member"), errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param }) => ({ items: await listMembers(deps, caller, param("id")), nextCursor: null }),
  }),
  route({
    operationId: "inviteMember", method: "post", path: "/workspaces/{id}/members", tag: "workspaces",
    summary: "Add an existing account, or change a member's role (owners)",
    body: InviteMemberInput.omit({ workspaceId: true }), status: 201, response: S.Member, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param, jsonObject }) => inviteMember(deps, caller, { ...(await jsonObject()), workspaceId: param("id") }),
  }),
  route({
    operationId: "setMemberRole", method: "patch", path: "/workspaces/{id}/members/{userId}", tag: "workspaces",
    summary: "Change a member's role (owners; CONFLICT LAST_OWNER for the last owner)",
    body: SetMemberRoleInput.pick({ role: true }), status: 200, response: S.Member, errors: ["NOT_FOUND", "CONFLICT"],
    handle: async ({ deps, caller, param, jsonObject }) => setMemberRole(deps, caller, { ...(await jsonObject()), workspaceId: param("id"), userId: param("userId") }),
  }),
  route({
    operationId: "removeMember", method: "delete", path: "/workspaces/{id}/members/{userId}", tag: "workspaces",
    summary: "Remove a member, or leave (owners; CONFLICT LAST_OWNER for the last owner); answers the membership as it was",
    status: 200, response: S.Member, errors: ["NOT_FOUND", "CONFLICT"],
    handle: ({ deps, caller, param }) => removeMember(deps, caller, param("id"), param("userId")),
  }),
  route({
    operationId: "listInvites", method: "get", path: "/workspaces/{id}/invites", tag: "workspaces",
    summary: "Invites not yet accepted or revoked, newest first (owners)",
    status: 200, response: S.pageOf(S.Invite, "Invite"), errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param }) => ({ items: await listInvites(deps, caller, param("id")), nextCursor: null }),
  }),
  route({
    operationId: "createInvite", method: "post", path: "/workspaces/{id}/invites", tag: "workspaces",
    summary: "An invite link for someone without an account (owners); a newer link to the same email replaces the old",
    body: InviteMemberInput.omit({ workspaceId: true }), status: 201, response: S.CreatedInvite, errors: ["NOT_FOUND", "CONFLICT"],
    handle: async ({ deps, caller, param, jsonObject }) => createInvite(deps, caller, { ...(await jsonObject()), workspaceId: param("id") }),
  }),
  route({
    operationId: "revokeInvite", method: "delete", path: "/invites/{id}", tag: "workspaces",
    summary: "Withdraw an invite (owners): its link stops working at once",
    status: 200, response: S.Invite, errors: ["NOT_FOUND", "CONFLICT"],
    handle: ({ deps, caller, param }) => revokeInvite(deps, caller, param("id")),
  }),
  route({
    operationId: "acceptInvite", method: "post", path: "/invites/accept", tag: "workspaces",
    summary: "Join the invite's workspace as the caller (whose account must use the invited email)",
    body: AcceptInviteInput, status: 200, response: S.Workspace, errors: ["NOT_FOUND", "CONFLICT"],
    handle: async ({ deps, caller, json }) => acceptInvite(deps, caller, await json()),
  }),
  route({
    operationId: "listCredentials", method: "get", path: "/workspaces/{id}/credentials", tag: "credentials",
    summary: "Credentials of a workspace (names and types only)",
    status: 200, response: S.pageOf(S.Credential, "Credential"), errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param }) => ({ items: await listCredentials(deps, caller, param("id")), nextCursor: null }),
  }),
  route({
    operationId: "createCredential", method: "post", path: "/credentials", tag: "credentials",
    summary: "Store an encrypted credential",
    body: CreateCredentialInput, status: 201, response: S.Credential, errors: ["NOT_FOUND", "CONFLICT"],
    handle: async ({ deps, caller, json }) => createCredential(deps, caller, await json()),
  }),
  route({
    operationId: "deleteCredential", method: "delete", path: "/credentials/{id}", tag: "credentials",
    summary: "Delete a credential; answers the deleted one",
    status: 200, response: S.Credential, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => deleteCredential(deps, caller, param("id")),
  }),

  route({
    operationId: "listWorkflows", method: "get", path: "/workflows", tag: "workflows",
    summary: "Workflows, newest first",
    query: S.ListWorkflowsQuery, status: 200, response: S.pageOf(S.Workflow, "Workflow"), errors: ["NOT_FOUND"],
    handle: ({ deps, caller, query }) => listWorkflows(deps, caller, query),
  }),
  route({
    operationId: "createWorkflow", method: "post", path: "/workflows", tag: "workflows",
    summary: "Create a workflow (a manual trigger only, unless a definition is given)",
    body: CreateWorkflowInput, status: 201, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, json }) => createWorkflow(deps, caller, await json()),
  }),
  route({
    operationId: "importWorkflow", method: "post", path: "/workflows/import", tag: "workflows",
    summary: "Import our export, a bare definition or an n8n export; answers the workflow and an import report",
    body: ImportWorkflowInput, status: 201, response: S.ImportedWorkflow, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, json }) => importWorkflow(deps, caller, await json()),
  }),
  route({
    operationId: "getWorkflow", method: "get", path: "/workflows/{id}", tag: "workflows",
    summary: "A workflow with its definition and problems",
    status: 200, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => getWorkflow(deps, caller, param("id")),
  }),
  route({
    operationId: "updateWorkflow", method: "patch", path: "/workflows/{id}", tag: "workflows",
    summary: "Change name, description or definition (live editors receive it as an edit)",
    body: UpdateWorkflowInput.omit({ id: true }), status: 200, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param, jsonObject }) => updateWorkflow(deps, caller, { ...(await jsonObject()), id: param("id") }),
  }),
  route({
    operationId: "deleteWorkflow", method: "delete", path: "/workflows/{id}", tag: "workflows",
    summary: "Delete a workflow; answers the deleted one",
    status: 200, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => deleteWorkflow(deps, caller, param("id")),
  }),
  route({
    operationId: "duplicateWorkflow", method: "post", path: "/workflows/{id}/duplicate", tag: "workflows",
    summary: "Copy a workflow into its workspace",
    status: 201, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => duplicateWorkflow(deps, caller, param("id")),
  }),
  route({
    operationId: "exportWorkflow", method: "get", path: "/workflows/{id}/export", tag: "workflows",
    summary: "The workflow as importable JSON (every acknowledged edit)",
    status: 200, response: S.WorkflowExport, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => exportWorkflow(deps, caller, param("id")),
  }),

  route({
    operationId: "listVersions", method: "get", path: "/workflows/{id}/versions", tag: "versions",
    summary: "Named versions of a workflow, newest first",
    status: 200, response: S.pageOf(S.Version, "Version"), errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param }) => ({ items: await listVersions(deps, caller, param("id")), nextCursor: null }),
  }),
  route({
    operationId: "createVersion", method: "post", path: "/workflows/{id}/versions", tag: "versions",
    summary: "Name the workflow as it is now as its next version",
    body: CreateVersionInput.omit({ workflowId: true }), status: 201, response: S.Version, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param, jsonObject }) => createVersion(deps, caller, { ...(await jsonObject()), workflowId: param("id") }),
  }),
  route({
    operationId: "restoreVersion", method: "post", path: "/versions/{id}/restore", tag: "versions",
    summary: "Restore a version as a new change; answers the workflow",
    status: 200, response: S.Workflow, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => restoreVersion(deps, caller, param("id")),
  }),
  route({
    operationId: "diffVersion", method: "get", path: "/versions/{id}/diff", tag: "versions",
    summary: "What changed from a version to another (?to=) or to now",
    query: S.DiffQuery, status: 200, response: S.DefinitionDiff, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param, query }) => diffVersions(deps, caller, param("id"), query.to ?? null),
  }),

  route({
    operationId: "publishWorkflow", method: "post", path: "/workflows/{id}/publish", tag: "versions",
    summary: "Publish the draft (or, with fromVersionId, an earlier version again) as the version webhook and cron runs run",
    body: PublishWorkflowInput.omit({ workflowId: true }), status: 201, response: S.PublishResult, errors: ["NOT_FOUND", "UNPROCESSABLE"],
    handle: async ({ deps, caller, param, jsonObject }) => publishWorkflow(deps, caller, { ...(await jsonObject()), workflowId: param("id") }),
  }),
  route({
    operationId: "runTestCases", method: "post", path: "/workflows/{id}/test-cases/run", tag: "workflows",
    summary: "Run the draft's test cases (all, or caseIds): one draft run per case (trigger test, pins not used); answers each case's result",
    body: RunTestCasesInput.omit({ workflowId: true }), status: 200, response: S.TestCaseResults, errors: ["NOT_FOUND", "UNPROCESSABLE"],
    handle: async ({ deps, caller, param, jsonObject }) => ({ results: await runTestCases(deps, caller, { ...(await jsonObject()), workflowId: param("id") }) }),
  }),
  route({
    operationId: "setWorkflowActive", method: "put", path: "/workflows/{id}/active", tag: "workflows",
    summary: "Turn the workflow's triggers (webhook, cron) on or off; the draft stays editable",
    body: SetWorkflowActiveInput.omit({ workflowId: true }), status: 200, response: S.WorkflowPublication, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param, jsonObject }) => {
      const workflow = await setWorkflowActive(deps, caller, { ...(await jsonObject()), workflowId: param("id") });
      return { workflowId: workflow.id, ...(await publicationOf(deps, workflow.id)) };
    },
  }),

  route({
    operationId: "listRuns", method: "get", path: "/runs", tag: "runs",
    summary: "Runs of a workflow, newest first",
    query: S.ListRunsQuery, status: 200, response: S.pageOf(S.Run, "Run"), errors: ["NOT_FOUND"],
    handle: ({ deps, caller, query }) => listRuns(deps, caller, query),
  }),
  route({
    operationId: "startRun", method: "post", path: "/runs", tag: "runs",
    summary: "Start a run of the draft as it is now (or, with version PUBLISHED, of the published version)",
    body: StartRunInput.extend({ version: z.enum(["DRAFT", "PUBLISHED"]).optional().meta({ description: "DRAFT (default) or PUBLISHED" }) }), status: 201, response: S.Run, errors: ["NOT_FOUND", "UNPROCESSABLE"],
    handle: async ({ deps, caller, json }) => startRun(deps, caller, await json()),
  }),
  route({
    operationId: "getRun", method: "get", path: "/runs/{id}", tag: "runs",
    summary: "A run",
    status: 200, response: S.Run, errors: ["NOT_FOUND"],
    handle: ({ deps, caller, param }) => getRun(deps, caller, param("id")),
  }),
  route({
    operationId: "cancelRun", method: "post", path: "/runs/{id}/cancel", tag: "runs",
    summary: "Cancel a queued or running run (CONFLICT when it is already final)",
    status: 200, response: S.Run, errors: ["NOT_FOUND", "CONFLICT"],
    handle: ({ deps, caller, param }) => cancelRun(deps, caller, param("id")),
  }),
  route({
    operationId: "resumeRun", method: "post", path: "/runs/{id}/resume", tag: "runs",
    summary: "Approve or reject a waiting approval step (editors and owners); CONFLICT when already decided or timed out",
    body: ResumeRunInput.omit({ runId: true }), status: 200, response: S.ResumeRunResult, errors: ["NOT_FOUND", "CONFLICT"],
    handle: async ({ deps, caller, param, jsonObject }) => resumeRun(deps, caller, { ...(await jsonObject()), runId: param("id") }),
  }),
  route({
    operationId: "retryRun", method: "post", path: "/runs/{id}/retry", tag: "runs",
    summary: "Re-run from a step, reusing the earlier outputs; answers the new run",
    body: RetryRunInput.omit({ runId: true }), status: 201, response: S.Run, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, param, jsonObject }) => retryRun(deps, caller, { ...(await jsonObject()), runId: param("id") }),
  }),
  route({
    operationId: "listRunSteps", method: "get", path: "/steps", tag: "runs",
    summary: "Step attempts of a run, in the order they started",
    query: S.ListStepsQuery, status: 200, response: S.pageOf(S.RunStep, "RunStep"), errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, query }) => ({ items: await listRunSteps(deps, caller, query.runId), nextCursor: null }),
  }),

  route({
    operationId: "listStepTypes", method: "get", path: "/step-types", tag: "steps", public: true,
    summary: "The step-type registry, with each type's config JSON Schema",
    status: 200, response: S.pageOf(S.StepType, "StepType"),
    handle: () => ({ items: listStepTypes(), nextCursor: null }),
  }),
  route({
    operationId: "listTemplates", method: "get", path: "/templates", tag: "templates", public: true,
    summary: "The templates gallery, in display order (GraphQL workflowTemplates); create one with POST /api/workflows",
    status: 200, response: S.pageOf(S.WorkflowTemplate, "WorkflowTemplate"),
    handle: () => ({ items: [...WORKFLOW_TEMPLATES], nextCursor: null }),
  }),
  route({
    operationId: "getTemplate", method: "get", path: "/templates/{id}", tag: "templates", public: true,
    summary: "One template of the gallery, by its id (llm-summarise, …)",
    status: 200, response: S.WorkflowTemplate, errors: ["NOT_FOUND"],
    handle: ({ param }) => templateById(param("id")),
  }),
  route({
    operationId: "testConnector", method: "post", path: "/connectors/test", tag: "steps",
    summary: "Try a connector from a worker, without side effects: { ok, message } within 20 s",
    body: TestConnectorInput, status: 200, response: S.ConnectorTestResult, errors: ["NOT_FOUND"],
    handle: async ({ deps, caller, json }) => testConnector(deps, caller, await json()),
  }),
  route({
    operationId: "createApiToken", method: "post", path: "/api-tokens", tag: "auth",
    summary: "Create a personal API token (its secret is shown once; API tokens cannot create more)",
    body: CreateApiTokenInput, status: 201, response: S.CreatedApiToken,
    handle: async ({ deps, caller, json }) => createApiToken(deps, caller, await json()),
  }),
];

/** A template by id, or NOT_FOUND saying where the ids are (the id is echoed shortened: it comes from the URL). */
function templateById(id: string): WorkflowTemplate {
  const template = findTemplate(id);
  if (!template) throw new AppError("NOT_FOUND", `No template ${JSON.stringify(id.slice(0, 100))}: GET /api/templates lists the templates and their ids`);
  return template;
}

/** Parses a query string with a route's schema: BAD_USER_INPUT naming the parameter otherwise. */
export function parseQuery<Query extends z.ZodObject>(schema: Query, values: Record<string, string>): z.output<Query> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/** Reads the body as JSON (BAD_USER_INPUT when it is not JSON or not sent as JSON). */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/json")) throw new AppError("BAD_USER_INPUT", "Send the body as JSON with Content-Type: application/json");
  try {
    return await c.req.json();
  } catch {
    throw badInput("The body is not valid JSON");
  }
}

export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badInput("The body must be a JSON object");
  return body as Record<string, unknown>;
}
