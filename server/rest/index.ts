import { Hono, type Context } from "hono";
import { callerFromRequest } from "../auth.js";
import { clientIp, refuseLargeBodies } from "../limits.js";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, errorBody } from "../errors.js";
import { createApiToken } from "../services/api-tokens.js";
import { testConnector } from "../services/connectors.js";
import { listStepTypes } from "../services/step-types.js";
import { openApiDocument } from "./openapi.js";
import { cancelRun, getRun, listRuns, listRunSteps, retryRun, startRun } from "../services/runs.js";
import { logOut, refreshSession } from "../services/sessions.js";
import { logIn, signUp } from "../services/users.js";
import { createCredential, deleteCredential, listCredentials } from "../services/credentials.js";
import { createVersion, diffVersions, listVersions, restoreVersion } from "../services/versions.js";
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
import { inviteMember, listMembers } from "../services/workspaces.js";
import { listMyWorkspaces } from "../services/users.js";

/**
 * REST compatibility routes: thin JSON handlers over the same services as GraphQL.
 * Lists return { items, nextCursor }; creates answer 201; errors { error: { code, message, details } }.
 */
type Env = { Variables: { caller: Caller } };

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/json")) throw new AppError("BAD_USER_INPUT", "Send the body as JSON with Content-Type: application/json");
  try {
    return await c.req.json();
  } catch {
    throw badInput("The body is not valid JSON");
  }
}

async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badInput("The body must be a JSON object");
  return body as Record<string, unknown>;
}

const intParam = (value: string | undefined) => (value === undefined ? undefined : Number.parseInt(value, 10));

export function createRestApi(deps: ServerDeps) {
  const api = new Hono<Env>();
  api.use("*", refuseLargeBodies(MAX_JSON_BODY_BYTES, (c, message) => c.json(errorBody("PAYLOAD_TOO_LARGE", message), 413)));
  api.use("*", async (c, next) => {
    c.set("caller", await callerFromRequest(deps, c.req.raw, clientIp(c)));
    await next();
  });

  api.post("/auth/signup", async (c) => c.json(await signUp(deps, c.get("caller"), await readJson(c)), 201));
  api.post("/auth/login", async (c) => c.json(await logIn(deps, c.get("caller"), await readJson(c))));
  api.post("/auth/refresh", async (c) => c.json(await refreshSession(deps, c.get("caller"), await readJson(c))));
  api.post("/auth/logout", async (c) => c.json({ loggedOut: await logOut(deps, await readJson(c)) }));

  api.get("/workspaces", async (c) => c.json({ items: await listMyWorkspaces(deps, c.get("caller")), nextCursor: null }));

  api.get("/workflows", async (c) => {
    const page = await listWorkflows(deps, c.get("caller"), {
      workspaceId: c.req.query("workspaceId"),
      first: intParam(c.req.query("first")),
      after: c.req.query("after"),
    });
    return c.json(page);
  });
  api.post("/workflows", async (c) => c.json(await createWorkflow(deps, c.get("caller"), await readJson(c)), 201));
  api.post("/workflows/import", async (c) => c.json(await importWorkflow(deps, c.get("caller"), await readJson(c)), 201));
  api.get("/workflows/:id", async (c) => c.json(await getWorkflow(deps, c.get("caller"), c.req.param("id"))));
  api.patch("/workflows/:id", async (c) =>
    c.json(await updateWorkflow(deps, c.get("caller"), { ...(await readJsonObject(c)), id: c.req.param("id") })),
  );
  api.delete("/workflows/:id", async (c) => c.json(await deleteWorkflow(deps, c.get("caller"), c.req.param("id"))));
  api.post("/workflows/:id/duplicate", async (c) => c.json(await duplicateWorkflow(deps, c.get("caller"), c.req.param("id")), 201));
  api.get("/workflows/:id/export", async (c) => c.json(await exportWorkflow(deps, c.get("caller"), c.req.param("id"))));
  api.get("/workflows/:id/versions", async (c) => c.json({ items: await listVersions(deps, c.get("caller"), c.req.param("id")), nextCursor: null }));
  api.post("/workflows/:id/versions", async (c) =>
    c.json(await createVersion(deps, c.get("caller"), { ...(await readJsonObject(c)), workflowId: c.req.param("id") }), 201),
  );
  api.post("/versions/:id/restore", async (c) => c.json(await restoreVersion(deps, c.get("caller"), c.req.param("id"))));
  api.get("/versions/:id/diff", async (c) => c.json(await diffVersions(deps, c.get("caller"), c.req.param("id"), c.req.query("to") ?? null)));

  api.get("/workspaces/:id/members", async (c) => c.json({ items: await listMembers(deps, c.get("caller"), c.req.param("id")), nextCursor: null }));
  api.post("/workspaces/:id/members", async (c) =>
    c.json(await inviteMember(deps, c.get("caller"), { ...(await readJsonObject(c)), workspaceId: c.req.param("id") }), 201),
  );
  api.get("/workspaces/:id/credentials", async (c) => c.json({ items: await listCredentials(deps, c.get("caller"), c.req.param("id")), nextCursor: null }));
  api.post("/credentials", async (c) => c.json(await createCredential(deps, c.get("caller"), await readJson(c)), 201));
  api.delete("/credentials/:id", async (c) => c.json(await deleteCredential(deps, c.get("caller"), c.req.param("id"))));

  api.get("/runs", async (c) => {
    const workflowId = c.req.query("workflowId");
    if (!workflowId) throw badInput("Query parameter workflowId is required", [{ path: ["workflowId"], message: "Required" }]);
    const status = c.req.query("status");
    const page = await listRuns(deps, c.get("caller"), {
      workflowId,
      status: status as never,
      first: intParam(c.req.query("first")),
      after: c.req.query("after"),
    });
    return c.json(page);
  });
  api.post("/runs", async (c) => c.json(await startRun(deps, c.get("caller"), await readJson(c)), 201));
  api.get("/runs/:id", async (c) => c.json(await getRun(deps, c.get("caller"), c.req.param("id"))));
  api.post("/runs/:id/cancel", async (c) => c.json(await cancelRun(deps, c.get("caller"), c.req.param("id"))));
  api.post("/runs/:id/retry", async (c) => c.json(await retryRun(deps, c.get("caller"), { ...(await readJsonObject(c)), runId: c.req.param("id") }), 201));
  api.get("/steps", async (c) => {
    const runId = c.req.query("runId");
    if (!runId) throw badInput("Query parameter runId is required", [{ path: ["runId"], message: "Required" }]);
    return c.json({ items: await listRunSteps(deps, c.get("caller"), runId), nextCursor: null });
  });
  api.get("/step-types", (c) => c.json({ items: listStepTypes(), nextCursor: null }));
  api.post("/connectors/test", async (c) => c.json(await testConnector(deps, c.get("caller"), await readJson(c))));
  api.post("/api-tokens", async (c) => c.json(await createApiToken(deps, c.get("caller"), await readJson(c)), 201));
  const openApi = openApiDocument();
  api.get("/openapi.json", (c) => c.json(openApi));
  return api;
}
