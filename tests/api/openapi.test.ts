/**
 * The OpenAPI document says what the server does (issue #13, defect 8): every operation is called for real and
 * every answer — status, documented headers, body — is validated against the served document with ajv
 * (JSON Schema 2020-12, OpenAPI 3.1's dialect, with ajv-formats); every operation's success answer is among
 * them; Redocly's linter finds no error in it; and the parts that were wrong are pinned: required query
 * parameters, integer `first`, public routes without security, operationIds, servers, error schemas.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { MAX_JSON_BODY_BYTES } from "../../server/rest/index.js";
import { gql, ok } from "../support/api.js";
import { startEchoServer, startTestStack, waitFor } from "../support/stack.js";

type Operation = { operationId: string; security?: unknown[]; parameters?: any[]; requestBody?: any; responses: Record<string, any> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: Record<string, any>; servers?: unknown[]; [key: string]: any };

let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let doc: Doc;
let ajv: Ajv2020;
const DOC_ID = "https://algorythmos.test/openapi.json";

beforeAll(async () => {
  [stack, echo] = await Promise.all([startTestStack({ collab: false, worker: true }), startEchoServer()]);
  const served = await fetch(`${stack.url}/api/openapi.json`);
  expect(served.status).toBe(200);
  doc = (await served.json()) as Doc;
  ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  // The document is not a schema itself; its schemas are reached by JSON pointer through these two keywords.
  ajv.addKeyword("paths");
  ajv.addKeyword("components");
  ajv.addSchema({ $id: DOC_ID, paths: doc.paths, components: doc.components });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await echo?.close();
});

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

function operationById(operationId: string): { path: string; method: string; operation: Operation } {
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) if (operation.operationId === operationId) return { path: route, method, operation };
  }
  throw new Error(`No operation ${operationId} in the document`);
}

const validators = new Map<string, ValidateFunction>();
/** Success answers seen, by operationId ("signUp 201"). */
const covered = new Set<string>();

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls one operation by its operationId: fills path parameters, sends JSON, keeps status, headers and body. */
async function call(
  operationId: string,
  options: { params?: Record<string, string>; query?: Record<string, string>; json?: unknown; raw?: BodyInit; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { path: template, method } = operationById(operationId);
  const route = template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(options.params?.[name] ?? `missing-${name}`));
  const url = new URL(route, stack.url);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, { method: method.toUpperCase(), headers, body: options.json !== undefined ? JSON.stringify(options.json) : options.raw });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // checked below: every documented answer is JSON
  }
  const answer = { status: response.status, headers: response.headers, body };
  expectDocumented(operationId, answer);
  return answer;
}

/** The answer's status is documented for the operation, and its headers and body are what the document says. */
function expectDocumented(operationId: string, answer: Answer): void {
  const { path: route, method, operation } = operationById(operationId);
  const where = `${operationId} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
  let response = operation.responses[String(answer.status)];
  expect(response, `${where}: status documented`).toBeDefined();
  let schemaPointer = `#/${pointer("paths", route, method, "responses", String(answer.status), "content", "application/json", "schema")}`;
  if (response.$ref) {
    const name = String(response.$ref).split("/").pop()!;
    response = doc.components.responses[name];
    schemaPointer = `#/${pointer("components", "responses", name, "content", "application/json", "schema")}`;
  }
  for (const [header, spec] of Object.entries<any>(response.headers ?? {})) {
    if (!spec.required) continue;
    const value = answer.headers.get(header);
    expect(value, `${where}: header ${header}`).not.toBeNull();
    if (spec.schema?.type === "integer") expect(value, `${where}: header ${header} is an integer`).toMatch(/^\d+$/);
  }
  expect(answer.headers.get("content-type"), `${where}: JSON`).toMatch(/^application\/json/);
  let validate = validators.get(schemaPointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOC_ID}${schemaPointer}` });
    validators.set(schemaPointer, validate);
  }
  const valid = validate(answer.body);
  expect(valid ? [] : validate.errors, `${where}: body matches the documented schema`).toEqual([]);
  if (answer.status < 300) covered.add(`${operationId} ${answer.status}`);
}

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });
const definition = (name: string, trigger: ReturnType<typeof step>, next: ReturnType<typeof step>) => ({ name, steps: [trigger, next], edges: [edge(trigger.id, next.id)] });
const HOOK_OUTPUT = step("hook", "trigger.webhook", { responseMode: "output" });
const SHAPE = step("shape", "transform", { expression: `{ "hello": input.body.name }` });

describe("every operation, called for real, answers what the document says", () => {
  // A bound for a loaded machine, not a speed check: the calls take ~10 s alone.
  it("REST operations and the webhook, their success answers and their errors", { timeout: 120_000 }, async () => {
    const suffix = `${Date.now()}-${process.pid}`;
    const password = "correct horse battery";
    const owner = (await call("signUp", { json: { email: `owner-${suffix}@example.test`, password, name: "Owner" } })).body;
    expect((await call("signUp", { json: { email: "not-an-email", password, name: "X" } })).status).toBe(400);
    const viewer = (await call("signUp", { json: { email: `viewer-${suffix}@example.test`, password, name: "Viewer" } })).body;

    // Password hashing makes sign-ups and log-ins the slow calls: as few as cover their answers.
    const login = (await call("logIn", { json: { email: `owner-${suffix}@example.test`, password } })).body;
    const refreshed = (await call("refreshSession", { json: { refreshToken: login.refreshToken } })).body;
    expect((await call("refreshSession", { json: { refreshToken: login.refreshToken } })).status).toBe(401); // used twice: that session ends
    expect((await call("listWorkspaces", { token: refreshed.token })).status).toBe(401);
    expect((await call("logOut", { json: { refreshToken: refreshed.refreshToken } })).body).toEqual({ loggedOut: true });
    expect((await call("logOut", { json: { refreshToken: "alg_rt_unknown" } })).body).toEqual({ loggedOut: false });
    const session: string = owner.token; // the sign-up's own session is still on

    const workspaceId: string = (await call("listWorkspaces", { token: session })).body.items[0].id;
    expect((await call("listWorkspaces")).status).toBe(401);
    // Members and invites (#17): the viewer joins through an invite link, then is removed and added back directly.
    const invited = (await call("createInvite", { params: { id: workspaceId }, json: { email: `viewer-${suffix}@example.test`, role: "viewer" }, token: session })).body;
    expect((await call("listInvites", { params: { id: workspaceId }, token: session })).body.items).toHaveLength(1);
    expect((await call("acceptInvite", { json: { token: invited.token }, token: viewer.token })).body).toMatchObject({ id: workspaceId, role: "viewer" });
    expect((await call("acceptInvite", { json: { token: invited.token }, token: viewer.token })).status).toBe(409);
    expect((await call("setMemberRole", { params: { id: workspaceId, userId: viewer.user.id }, json: { role: "viewer" }, token: session })).status).toBe(200);
    expect((await call("removeMember", { params: { id: workspaceId, userId: viewer.user.id }, token: session })).status).toBe(200);
    const withdrawn = (await call("createInvite", { params: { id: workspaceId }, json: { email: `withdrawn-${suffix}@example.test`, role: "viewer" }, token: session })).body;
    expect((await call("revokeInvite", { params: { id: withdrawn.invite.id }, token: session })).body.status).toBe("REVOKED");
    expect((await call("inviteMember", { params: { id: workspaceId }, json: { email: `viewer-${suffix}@example.test`, role: "viewer" }, token: session })).status).toBe(201);
    expect((await call("inviteMember", { params: { id: workspaceId }, json: { email: `nobody-${suffix}@example.test`, role: "viewer" }, token: session })).status).toBe(404);
    expect((await call("listMembers", { params: { id: workspaceId }, token: session })).body.items).toHaveLength(2);

    const secret = { headerName: "x-key", headerValue: "s3cret" };
    const credential = (await call("createCredential", { json: { workspaceId, name: "Key", type: "httpHeader", secret }, token: session })).body;
    expect((await call("createCredential", { json: { workspaceId, name: "Key", type: "httpHeader", secret }, token: session })).status).toBe(409);
    expect((await call("listCredentials", { params: { id: workspaceId }, token: session })).body.items).toHaveLength(1);

    const workflow = (await call("createWorkflow", { json: { workspaceId, name: "Documented", definition: definition("Documented", HOOK_OUTPUT, SHAPE) }, token: session })).body;
    expect((await call("createWorkflow", { json: { workspaceId, name: "By a viewer" }, token: viewer.token })).status).toBe(403);
    expect((await call("createWorkflow", { raw: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" }, token: session })).status).toBe(400);
    expect(
      (await call("createWorkflow", { raw: "x".repeat(MAX_JSON_BODY_BYTES + 1), headers: { "content-type": "application/json" }, token: session })).status,
    ).toBe(413);
    expect((await call("listWorkflows", { query: { workspaceId, first: "1" }, token: session })).body.items).toHaveLength(1);
    expect((await call("listWorkflows", { query: { first: "many" }, token: session })).status).toBe(400);
    expect((await call("getWorkflow", { params: { id: workflow.id }, token: session })).body.id).toBe(workflow.id);
    expect((await call("getWorkflow", { params: { id: "wf_missing" }, token: session })).status).toBe(404);
    expect((await call("getWorkflow", { params: { id: workflow.id }, token: "not-a-token" })).status).toBe(401);
    expect((await call("updateWorkflow", { params: { id: workflow.id }, json: { description: "documented" }, token: session })).body.description).toBe("documented");
    const exported = (await call("exportWorkflow", { params: { id: workflow.id }, token: session })).body;
    const imported = (await call("importWorkflow", { json: { workspaceId, json: exported }, token: session })).body;
    const copy = (await call("duplicateWorkflow", { params: { id: workflow.id }, token: session })).body;

    const version = (await call("createVersion", { params: { id: workflow.id }, json: { label: "v1" }, token: session })).body;
    expect((await call("listVersions", { params: { id: workflow.id }, token: session })).body.items).toHaveLength(1);
    expect((await call("diffVersion", { params: { id: version.id }, token: session })).body.nameChanged).toBe(false);
    expect((await call("restoreVersion", { params: { id: version.id }, token: session })).body.id).toBe(workflow.id);

    // Runs: one that succeeds, a re-run of it, one canceled while it waits, one that cannot start.
    const started = (await call("startRun", { json: { workflowId: workflow.id, input: { body: { name: "Ada" } } }, token: session })).body;
    const finished = await waitFor("the run to finish", async () => {
      const run = (await call("getRun", { params: { id: started.id }, token: session })).body;
      return run.finishedAt ? run : null;
    });
    expect(finished).toMatchObject({ status: "succeeded", output: { shape: { hello: "Ada" } } });
    expect((await call("listRuns", { query: { workflowId: workflow.id, status: "succeeded" }, token: session })).body.items[0].id).toBe(started.id);
    expect((await call("listRuns", { token: session })).status).toBe(400);
    expect((await call("listRunSteps", { query: { runId: started.id }, token: session })).body.items.length).toBeGreaterThan(0);
    expect((await call("listRunSteps", { token: session })).status).toBe(400);
    expect((await call("cancelRun", { params: { id: started.id }, token: session })).status).toBe(409);
    expect((await call("retryRun", { params: { id: started.id }, json: { fromStepId: "shape" }, token: session })).body.retryOfRunId).toBe(started.id);
    const waiting = (await call("createWorkflow", { json: { workspaceId, name: "Waits", definition: definition("Waits", step("start", "trigger.manual"), step("wait", "delay", { durationMs: 60_000 })) }, token: session })).body;
    const long = (await call("startRun", { json: { workflowId: waiting.id }, token: session })).body;
    expect((await call("cancelRun", { params: { id: long.id }, token: session })).body.status).toBe("canceled");
    // An approval (R33) waits until resumeRun decides, once.
    const asks = (await call("createWorkflow", { json: { workspaceId, name: "Asks", definition: definition("Asks", step("start", "trigger.manual"), step("ask", "approval", { title: "OK?" })) }, token: session })).body;
    const asking = (await call("startRun", { json: { workflowId: asks.id }, token: session })).body;
    await waitFor("the approval to wait", async () =>
      (await call("listRunSteps", { query: { runId: asking.id }, token: session })).body.items.some((s: { stepId: string; status: string }) => s.stepId === "ask" && s.status === "waiting"),
    );
    expect((await call("resumeRun", { params: { id: asking.id }, json: { stepId: "ask", decision: "APPROVE" }, token: session })).body.approval.decision).toBe("approved");
    expect((await call("resumeRun", { params: { id: asking.id }, json: { stepId: "ask", decision: "REJECT" }, token: session })).status).toBe(409);
    const broken = (await call("createWorkflow", { json: { workspaceId, name: "No trigger", definition: { name: "No trigger", steps: [SHAPE], edges: [] } }, token: session })).body;
    expect((await call("startRun", { json: { workflowId: broken.id }, token: session })).status).toBe(422);

    expect((await call("listStepTypes")).body.items.length).toBeGreaterThan(5);
    const templates = (await call("listTemplates")).body.items as { id: string }[];
    expect((await call("getTemplate", { params: { id: templates[0]!.id } })).body.id).toBe(templates[0]!.id);
    expect((await call("getTemplate", { params: { id: "no-such-template" } })).status).toBe(404);
    const tested = (await call("testConnector", { json: { type: "http.request", config: { method: "GET", url: `${echo.url}/ping` } }, token: session })).body;
    // Whether the worker reached the echo server is tested elsewhere (a loaded machine may answer "no worker answered"); here the shape counts.
    expect(tested).toEqual({ ok: expect.any(Boolean), message: expect.any(String) });
    // Test cases (R50): one test run per case, each case's result; a workflow without cases answers none.
    expect((await call("runTestCases", { params: { id: workflow.id }, json: {}, token: session })).body).toEqual({ results: [] });
    expect((await call("runTestCases", { params: { id: workflow.id }, json: { caseIds: ["tc_nope"] }, token: session })).status).toBe(400);
    const apiToken = (await call("createApiToken", { json: { name: "CI" }, token: session })).body;
    expect((await call("createApiToken", { json: { name: "From a token" }, token: apiToken.token })).status).toBe(403);

    // The webhook: its output (200), a failed run (502 RUN_FAILED), immediate mode (202), a wrong secret (404).
    const hookPath = async (id: string) =>
      ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { webhookPath } }`, { id }, session)).workflow.webhookPath.split("/") as string[];
    const [, , hookId, hookSecret] = await hookPath(workflow.id);
    // Webhooks run the published version (R37): never published → 409 NOT_PUBLISHED; deactivated → 409 INACTIVE.
    expect((await call("triggerWebhook", { params: { workflowId: hookId!, secret: hookSecret! }, json: {} })).body).toMatchObject({ error: { code: "NOT_PUBLISHED" } });
    const published = await call("publishWorkflow", { params: { id: workflow.id }, json: { message: "documented" }, token: session });
    expect(published.body.version).toMatchObject({ kind: "published", message: "documented" });
    expect((await call("publishWorkflow", { params: { id: broken.id }, json: {}, token: session })).status).toBe(422);
    expect((await call("setWorkflowActive", { params: { id: workflow.id }, json: { active: false }, token: session })).body.active).toBe(false);
    expect((await call("triggerWebhook", { params: { workflowId: hookId!, secret: hookSecret! }, json: {} })).body).toMatchObject({ error: { code: "INACTIVE" } });
    expect((await call("setWorkflowActive", { params: { id: workflow.id }, json: { active: true }, token: session })).body.active).toBe(true);
    expect((await call("startRun", { json: { workflowId: workflow.id, version: "PUBLISHED" }, token: session })).body.versionId).toBe(published.body.version.id);
    const output = await call("triggerWebhook", { params: { workflowId: hookId!, secret: hookSecret! }, json: { name: "Grace" } });
    expect(output).toMatchObject({ status: 200, body: { shape: { hello: "Grace" } } });
    const failing = (await call("createWorkflow", { json: { workspaceId, name: "Fails", definition: definition("Fails", HOOK_OUTPUT, step("bad", "transform", { expression: "$error('boom')" })) }, token: session })).body;
    const [, , failingId, failingSecret] = await hookPath(failing.id);
    await call("publishWorkflow", { params: { id: failing.id }, json: {}, token: session });
    const failed = await call("triggerWebhook", { params: { workflowId: failingId!, secret: failingSecret! }, raw: "plain text" });
    expect(failed).toMatchObject({ status: 502, body: { error: { code: "RUN_FAILED", details: { status: "failed" } } } });
    const immediate = (await call("createWorkflow", { json: { workspaceId, name: "Now", definition: definition("Now", step("hook", "trigger.webhook"), SHAPE) }, token: session })).body;
    const [, , immediateId, immediateSecret] = await hookPath(immediate.id);
    await call("publishWorkflow", { params: { id: immediate.id }, json: {}, token: session });
    expect((await call("triggerWebhook", { params: { workflowId: immediateId!, secret: immediateSecret! } })).status).toBe(202);
    expect((await call("triggerWebhook", { params: { workflowId: immediateId!, secret: "0".repeat(64) } })).status).toBe(404);

    expect((await call("deleteCredential", { params: { id: credential.id }, token: session })).body.id).toBe(credential.id);
    for (const id of [copy.id, imported.id]) expect((await call("deleteWorkflow", { params: { id }, token: session })).status).toBe(200);
    expect((await call("deleteWorkflow", { params: { id: copy.id }, token: session })).status).toBe(404);

    // Every operation of the document answered its success status at least once above.
    const successes = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) => Object.keys(operation.responses).filter((status) => /^2/.test(status)).map((status) => `${operation.operationId} ${status}`)),
    );
    expect(successes.filter((success) => !covered.has(success))).toEqual([]);
  });
});

describe("the document", () => {
  it("passes Redocly's recommended lint rules with no error", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), "openapi-lint-"));
    try {
      const file = path.join(folder, "openapi.json");
      writeFileSync(file, JSON.stringify(doc));
      const result = await promisify(execFile)(path.resolve("node_modules/.bin/redocly"), ["lint", file, "--format", "json"], {
        timeout: 60_000,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      }).catch((error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? "", code: error.code }));
      const report = JSON.parse(result.stdout) as { totals: { errors: number }; problems: { severity: string; message: string; ruleId: string }[] };
      expect(report.problems.filter((problem) => problem.severity === "error")).toEqual([]);
      expect(report.totals.errors).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  const operations = () => Object.entries(doc.paths).flatMap(([route, item]) => Object.entries(item).map(([method, operation]) => ({ route, method, operation })));
  const parameter = (operationId: string, name: string) => operationById(operationId).operation.parameters?.find((p) => p.name === name);

  it("names every operation and says where the server is", () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers).toEqual([expect.objectContaining({ url: expect.any(String) })]);
  });

  it("requires the query parameters the handlers require, with their types", () => {
    expect(parameter("listRuns", "workflowId")).toMatchObject({ in: "query", required: true });
    expect(parameter("listRunSteps", "runId")).toMatchObject({ in: "query", required: true });
    expect(parameter("listWorkflows", "first")).toMatchObject({ required: false, schema: { type: "integer", minimum: 1, maximum: 100 } });
    expect(parameter("listRuns", "status").schema.enum).toEqual(["queued", "running", "succeeded", "failed", "canceled"]);
  });

  it("claims no credentials for public operations, and the bearer token for the others", () => {
    const publicOnes = operations().filter(({ operation }) => Array.isArray(operation.security) && operation.security.length === 0).map(({ operation }) => operation.operationId);
    expect(publicOnes.sort()).toEqual(["getTemplate", "listStepTypes", "listTemplates", "logIn", "logOut", "refreshSession", "signUp", "triggerWebhook"]);
    expect(doc.security).toContainEqual({ bearer: [] });
  });

  it("gives every success answer a schema, and every error answer the error schema", () => {
    for (const { operation } of operations()) {
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        const resolved = response.$ref ? doc.components.responses[response.$ref.split("/").pop()] : response;
        const schema = resolved.content["application/json"].schema;
        if (/^2/.test(status)) {
          expect(Object.keys(schema).length, `${operation.operationId} ${status} has a schema`).toBeGreaterThan(0);
        } else {
          // One code per status, except the webhook's 409: NOT_PUBLISHED or INACTIVE (R38).
          const code = schema.properties.error.properties.code;
          for (const each of code.const !== undefined ? [code.const] : code.enum) expect(each, `${operation.operationId} ${status}`).toMatch(/^[A-Z_]+$/);
        }
      }
    }
    expect(Object.keys(operationById("triggerWebhook").operation.responses).sort()).toEqual(["200", "202", "400", "404", "409", "413", "422", "429", "500", "502", "503"]);
  });
});
