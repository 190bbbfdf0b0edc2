import {
  CreateApiTokenInput,
  CreateCredentialInput,
  CreateVersionInput,
  CreateWorkflowInput,
  ImportWorkflowInput,
  InviteMemberInput,
  LogInInput,
  RefreshSessionInput,
  SignUpInput,
  RetryRunInput,
  StartRunInput,
  TestConnectorInput,
  UpdateWorkflowInput,
} from "@algorythmos/domain";
import { z } from "zod";

/**
 * The OpenAPI 3.1 document of the REST compatibility routes, served at /api/openapi.json. Request bodies come
 * from the same zod schemas the services validate with, so the document cannot drift from the checks.
 */
type Route = { method: "get" | "post" | "patch" | "delete"; path: string; summary: string; body?: z.ZodType; created?: boolean; query?: string[] };

const ROUTES: Route[] = [
  { method: "post", path: "/api/auth/signup", summary: "Create an account (and its workspace); returns tokens", body: SignUpInput, created: true },
  { method: "post", path: "/api/auth/login", summary: "Log in; returns an access token and a refresh token", body: LogInInput },
  { method: "post", path: "/api/auth/refresh", summary: "Exchange a refresh token (once) for a new pair", body: RefreshSessionInput },
  { method: "post", path: "/api/auth/logout", summary: "Revoke the session of a refresh token", body: RefreshSessionInput },
  { method: "get", path: "/api/workspaces", summary: "The caller's workspaces and roles" },
  { method: "get", path: "/api/workspaces/{id}/members", summary: "Members of a workspace" },
  { method: "post", path: "/api/workspaces/{id}/members", summary: "Invite an existing account (owners)", body: InviteMemberInput.omit({ workspaceId: true }), created: true },
  { method: "get", path: "/api/workspaces/{id}/credentials", summary: "Credentials of a workspace (names and types only)" },
  { method: "post", path: "/api/credentials", summary: "Store an encrypted credential", body: CreateCredentialInput, created: true },
  { method: "delete", path: "/api/credentials/{id}", summary: "Delete a credential" },
  { method: "get", path: "/api/workflows", summary: "Workflows, newest first", query: ["workspaceId", "first", "after"] },
  { method: "post", path: "/api/workflows", summary: "Create a workflow", body: CreateWorkflowInput, created: true },
  { method: "post", path: "/api/workflows/import", summary: "Import an exported workflow", body: ImportWorkflowInput, created: true },
  { method: "get", path: "/api/workflows/{id}", summary: "A workflow with its definition and problems" },
  { method: "patch", path: "/api/workflows/{id}", summary: "Change name, description or definition (live editors receive it)", body: UpdateWorkflowInput.omit({ id: true }) },
  { method: "delete", path: "/api/workflows/{id}", summary: "Delete a workflow" },
  { method: "post", path: "/api/workflows/{id}/duplicate", summary: "Copy a workflow", created: true },
  { method: "get", path: "/api/workflows/{id}/export", summary: "The workflow as importable JSON" },
  { method: "get", path: "/api/workflows/{id}/versions", summary: "Named versions, newest first" },
  { method: "post", path: "/api/workflows/{id}/versions", summary: "Name the current state as a version", body: CreateVersionInput.omit({ workflowId: true }), created: true },
  { method: "post", path: "/api/versions/{id}/restore", summary: "Restore a version as a new change" },
  { method: "get", path: "/api/versions/{id}/diff", summary: "Diff from a version to another (?to=) or to now", query: ["to"] },
  { method: "get", path: "/api/runs", summary: "Runs of a workflow, newest first", query: ["workflowId", "status", "first", "after"] },
  { method: "post", path: "/api/runs", summary: "Start a run", body: StartRunInput, created: true },
  { method: "get", path: "/api/runs/{id}", summary: "A run" },
  { method: "post", path: "/api/runs/{id}/cancel", summary: "Cancel a queued or running run" },
  { method: "post", path: "/api/runs/{id}/retry", summary: "Re-run from a step, reusing earlier outputs", body: RetryRunInput.omit({ runId: true }), created: true },
  { method: "post", path: "/hooks/{workflowId}/{secret}", summary: "Webhook trigger: starts a run with { body, query, headers } as input" },
  { method: "get", path: "/api/steps", summary: "Step attempts of a run", query: ["runId"] },
  { method: "get", path: "/api/step-types", summary: "The step-type registry with config JSON Schemas" },
  { method: "post", path: "/api/connectors/test", summary: "Try a connector from a worker: { ok, message }", body: TestConnectorInput },
  { method: "post", path: "/api/api-tokens", summary: "Create a personal API token (shown once)", body: CreateApiTokenInput, created: true },
];

const errorResponse = {
  description: "An error",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
            required: ["code", "message"],
          },
        },
      },
    },
  },
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } })),
      ...(route.query ?? []).map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
    ];
    (paths[route.path] ??= {})[route.method] = {
      summary: route.summary,
      parameters,
      ...(route.body && {
        requestBody: { required: true, content: { "application/json": { schema: z.toJSONSchema(route.body, { io: "input", unrepresentable: "any" }) } } },
      }),
      responses: {
        [route.created ? "201" : "200"]: { description: "OK (lists are { items, nextCursor })", content: { "application/json": { schema: {} } } },
        ...Object.fromEntries(["400", "401", "403", "404", "409", "413", "422", "429"].map((status) => [status, errorResponse])),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Algorythmos Studio REST API", version: "1", description: "REST compatibility routes; GraphQL at /graphql is the full API." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A JWT from login or a personal API token (alg_pat_…)" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
