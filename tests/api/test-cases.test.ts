/**
 * Test cases (docs/run-engine.md R50; Y.Doc layout L10) through the public API on a real stack: each case is
 * a draft run (trigger "test", pins not used, R48) checked by a worker; a failing case blocks publishing
 * unless overridden, and the override is recorded on the version.
 */
import { applyDefinitionToDoc, definitionFromDoc, docFromDefinition, pinStepOutput, pinnedOutput, putTestCase, removeStep, WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, gql, ok, rest } from "../support/api.js";
import { signUpUser, startEchoServer, startTestStack } from "../support/stack.js";

let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
beforeAll(async () => {
  [stack, echo] = await Promise.all([startTestStack({ collab: false, worker: true }), startEchoServer()]);
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await echo?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

/** start → fetch (GET echo, pinned) → greet (transform) */
const definition = (testCases: unknown[]) => ({
  name: "Greeter",
  steps: [
    step("start", "trigger.manual"),
    step("fetch", "http.request", { method: "GET", url: `${echo.url}/who/{{ input.name }}` }),
    step("greet", "transform", { expression: "{ 'greeting': 'Hello ' & input.name, 'path': steps.fetch.output.body.path }" }),
  ],
  edges: [edge("start", "fetch"), edge("fetch", "greet")],
  pinned: { fetch: { status: 200, headers: {}, body: { ok: true, path: "/pinned" } } },
  testCases,
});
const passing = {
  id: "tc_ada",
  name: "greets Ada",
  input: { name: "Ada" },
  assertions: [
    { kind: "equals", expected: { greet: { greeting: "Hello Ada", path: "/who/Ada" } } },
    { kind: "jsonata", stepId: "fetch", expression: "value.status = 200 and input.name = 'Ada'" },
    { kind: "schema", stepId: "greet", schema: { type: "object", required: ["greeting"], properties: { greeting: { type: "string", pattern: "^Hello " } } } },
  ],
};
const failing = {
  id: "tc_bo",
  name: "greets Bo formally",
  input: { name: "Bo" },
  assertions: [
    { kind: "equals", stepId: "greet", expected: { greeting: "Good day Bo" } },
    { kind: "jsonata", expression: "$count($keys(value)) = 2" },
    { kind: "schema", stepId: "greet", schema: { type: "object", required: ["title"] } },
  ],
};

async function setUp(testCases: unknown[]) {
  const user = await signUpUser(stack.url);
  const created = ok(
    await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: user.workspaceId, name: "Greeter", definition: definition(testCases) } }, user.token),
  );
  return { token: user.token, workflowId: created.createWorkflow.id as string };
}

const RUN_CASES = `mutation($input: RunTestCasesInput!) { runTestCases(input: $input) { caseId name runId passed failures } }`;
const PUBLISH = `mutation($input: PublishWorkflowInput!) { publishWorkflow(input: $input) { version { id overrideFailingTests } testResults { testCaseId passed message runId } } }`;

describe("L10 pinned data and test cases in the Y.Doc", () => {
  it("L10: pins and test cases read back as the definition; a definition without them leaves them alone; removeStep drops the pin", () => {
    const parsed = WorkflowDefinition.parse(definition([passing]));
    const doc = docFromDefinition(parsed);
    expect(definitionFromDoc(doc)).toMatchObject({ definition: { pinned: parsed.pinned, testCases: [passing] }, problems: [] });
    // The name is co-typed text.
    const item = doc.getMap("testCases").get("tc_ada") as Y.Map<unknown>;
    expect(item.get("name")).toBeInstanceOf(Y.Text);
    // A co-editor's pin arrives as an ordinary update.
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
    pinStepOutput(doc, "greet", { greeting: "pinned" });
    putTestCase(doc, { ...failing, assertions: failing.assertions as never });
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)));
    expect(pinnedOutput(other, "greet")).toEqual({ pinned: true, output: { greeting: "pinned" } });
    expect(definitionFromDoc(other).definition.testCases!.map((c) => c.id)).toEqual(["tc_ada", "tc_bo"]);
    // Applying a definition from before test cases (none of the keys) keeps them; [] clears them.
    const { pinned: _p, testCases: _t, ...older } = definitionFromDoc(doc).definition;
    applyDefinitionToDoc(doc, older);
    expect(definitionFromDoc(doc).definition.testCases).toHaveLength(2);
    applyDefinitionToDoc(doc, { ...older, testCases: [] });
    expect(definitionFromDoc(doc).definition.testCases).toBeUndefined();
    removeStep(doc, "fetch");
    expect(pinnedOutput(doc, "fetch").pinned).toBe(false);
  });

  it("L10: a malformed test case is an INVALID_DEFINITION problem naming it", () => {
    const doc = docFromDefinition(WorkflowDefinition.parse(definition([])));
    doc.getMap("testCases").set("tc_bad", "not a map");
    const bad = new Y.Map<unknown>();
    doc.getMap("testCases").set("tc_kind", bad);
    bad.set("assertions", [{ kind: "roughly" }]);
    const messages = definitionFromDoc(doc).problems.map((problem) => problem.message);
    expect(messages).toContain('Test case "tc_bad" is malformed');
    expect(messages.some((message) => message.startsWith("testCases.0.assertions.0"))).toBe(true);
  });
});

describe("R50 test cases", () => {
  it("R50: Workflow.testCases lists the draft's cases; runTestCases runs each as a test run without pins and checks it", async () => {
    const { token, workflowId } = await setUp([passing, failing]);
    const listed = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { testCases { id name input assertions { kind stepId expected expression schema } } } }`, { id: workflowId }, token));
    expect(listed.workflow.testCases.map((c: { id: string }) => c.id)).toEqual(["tc_ada", "tc_bo"]);
    expect(listed.workflow.testCases[0].assertions[1]).toEqual({ kind: "jsonata", stepId: "fetch", expected: null, expression: passing.assertions[1]!.expression, schema: null });

    const results = ok(await gql(stack.url, RUN_CASES, { input: { workflowId } }, token)).runTestCases;
    expect(results).toHaveLength(2);
    const [ada, bo] = results;
    expect(ada).toMatchObject({ caseId: "tc_ada", name: "greets Ada", passed: true, failures: [] });
    expect(bo).toMatchObject({ caseId: "tc_bo", passed: false });
    expect(bo.failures).toEqual([
      'Assertion 1: expected step "greet" to equal {"greeting":"Good day Bo"}, got {"greeting":"Hello Bo","path":"/who/Bo"}',
      "Assertion 2: $count($keys(value)) = 2 is false for the run's output",
      `Assertion 3: step "greet" does not match the schema: / must have required property 'title'`,
    ]);
    // R48: the pinned fetch really ran in both (the echo server saw both names), and the runs are test runs with traces.
    expect(echo.requests.map((request) => request.url)).toEqual(expect.arrayContaining(["/who/Ada", "/who/Bo"]));
    const run = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { trigger status steps { stepId input } } }`, { id: ada.runId }, token)).run;
    expect(run).toMatchObject({ trigger: "test", status: "succeeded" });
    expect(run.steps.find((s: { stepId: string }) => s.stepId === "fetch").input).not.toEqual({ pinned: true });

    // Only the chosen cases; an unknown one is a clear error.
    const one = ok(await gql(stack.url, RUN_CASES, { input: { workflowId, caseIds: ["tc_ada"] } }, token)).runTestCases;
    expect(one.map((r: { caseId: string }) => r.caseId)).toEqual(["tc_ada"]);
    const unknown = await gql(stack.url, RUN_CASES, { input: { workflowId, caseIds: ["tc_nope"] } }, token);
    expect(codeOf(unknown)).toBe("BAD_USER_INPUT");
    expect(unknown.errors![0]!.message).toBe("No such test case: tc_nope");
  });

  it("R50: a case whose run fails reports the run's error; the REST route answers the same results", async () => {
    const { token, workflowId } = await setUp([{ id: "tc_missing", name: "missing page", input: { name: "x" }, assertions: [{ kind: "equals", stepId: "greet", expected: 1 }] }]);
    // Make fetch fail: point it at the echo server's 500.
    const current = definition([{ id: "tc_missing", name: "missing page", input: { name: "x" }, assertions: [{ kind: "equals", stepId: "greet", expected: 1 }] }]);
    current.steps[1] = step("fetch", "http.request", { method: "GET", url: `${echo.url}/fail`, retry: { maxAttempts: 1, backoffMs: 100 } });
    ok(await gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id: workflowId, definition: current } }, token));
    const answer = await rest(stack.url, "POST", `/api/workflows/${workflowId}/test-cases/run`, { token, json: {} });
    expect(answer.status).toBe(200);
    const [result] = answer.body.results;
    expect(result).toMatchObject({ caseId: "tc_missing", passed: false });
    expect(result.failures[0]).toMatch(/^The run failed: Step "fetch" failed: HTTP 500/);
    expect(result.failures[1]).toBe('Assertion 1: step "greet" was skipped, so it has no output');
  });

  it("R50: a failing case blocks publishing (TEST_CASES_FAILED with the results); the override publishes and is recorded", async () => {
    const { token, workflowId } = await setUp([passing, failing]);
    const refused = await gql(stack.url, PUBLISH, { input: { workflowId, message: "try" } }, token);
    expect(codeOf(refused)).toBe("TEST_CASES_FAILED");
    expect(refused.errors![0]!.message).toMatch(/"greets Bo formally": Assertion 1/);
    const testResults = refused.errors![0]!.extensions!.testResults as { testCaseId: string; passed: boolean; runId: string }[];
    expect(testResults.map((r) => [r.testCaseId, r.passed])).toEqual([["tc_ada", true], ["tc_bo", false]]);
    const workflow = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { published { id } } }`, { id: workflowId }, token)).workflow;
    expect(workflow.published).toBeNull();

    const overridden = ok(await gql(stack.url, PUBLISH, { input: { workflowId, message: "anyway", overrideFailingTests: true } }, token)).publishWorkflow;
    expect(overridden.version.overrideFailingTests).toBe(true);
    expect(overridden.testResults.map((r: { passed: boolean }) => r.passed)).toEqual([true, false]);
  });

  it("R50: passing cases publish without an override (none recorded)", async () => {
    const { token, workflowId } = await setUp([passing]);
    const published = ok(await gql(stack.url, PUBLISH, { input: { workflowId, message: "green" } }, token)).publishWorkflow;
    expect(published.version.overrideFailingTests).toBe(false);
    expect(published.testResults).toEqual([{ testCaseId: "tc_ada", passed: true, message: null, runId: expect.any(String) }]);
  });
});
