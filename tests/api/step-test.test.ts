/**
 * "Test step" (docs/run-engine.md R49) through the public GraphQL API, on a real stack (PostgreSQL, Redis,
 * BullMQ, a worker): one step of the live draft on sample input, no Run row, side effects only when confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, gql, ok } from "../support/api.js";
import { signUpUser, startEchoServer, startTestStack, waitFor } from "../support/stack.js";

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

async function setUp(definition: Record<string, unknown>) {
  const user = await signUpUser(stack.url);
  const created = ok(
    await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: user.workspaceId, name: "Step tests", definition } }, user.token),
  );
  return { token: user.token, workflowId: created.createWorkflow.id as string };
}

const TEST_STEP = `mutation($input: TestStepInput!) { testStep(input: $input) { output error durationMs logs { level message } input inputSource } }`;
const testStep = (token: string, input: Record<string, unknown>) => gql(stack.url, TEST_STEP, { input }, token);

const shapeFlow = {
  name: "Shape",
  steps: [step("start", "trigger.manual"), step("fetch", "transform", { expression: "{ 'items': input.names }" }), step("shape", "transform", { expression: "$count(steps.fetch.output.items) & ' from ' & input.who" })],
  edges: [edge("start", "fetch"), edge("fetch", "shape")],
};

describe("R49 test a step", () => {
  it("R49: a transform on typed input answers its output and duration, and records no run", async () => {
    const { token, workflowId } = await setUp(shapeFlow);
    const input = { input: { who: "Ada" }, steps: { fetch: { output: { items: [1, 2, 3] } } } };
    const answer = ok(await testStep(token, { workflowId, stepId: "shape", input })).testStep;
    expect(answer).toMatchObject({ output: "3 from Ada", error: null, inputSource: "typed", input });
    expect(answer.durationMs).toBeGreaterThanOrEqual(0);
    const runs = ok(await gql(stack.url, `query($id: ID!) { runs(workflowId: $id) { edges { node { id } } } }`, { id: workflowId }, token));
    expect(runs.runs.edges).toEqual([]);
  });

  it("R49: a failing expression is the answer's error, not a GraphQL error", async () => {
    const { token, workflowId } = await setUp({ ...shapeFlow, steps: [...shapeFlow.steps.slice(0, 2), step("shape", "transform", { expression: "$error('no shape for ' & input.who)" })] });
    const result = await testStep(token, { workflowId, stepId: "shape", input: { input: { who: "Ada" } } });
    const answer = ok(result).testStep;
    expect(answer.output).toBeNull();
    expect(answer.error).toMatch(/no shape for Ada/);
  });

  it("R49: with input omitted, the last run's actual input for the step; before any run, the pinned outputs", async () => {
    const { token, workflowId } = await setUp({ ...shapeFlow, pinned: { fetch: { items: ["p"] } } });
    const pinned = ok(await testStep(token, { workflowId, stepId: "shape" })).testStep;
    expect(pinned).toMatchObject({ inputSource: "pinned", input: { input: {}, steps: { fetch: { output: { items: ["p"] } } } }, output: "1 from " });

    const started = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { names: ["a", "b"], who: "Bo" } } }, token));
    const runId = started.startRun.id as string;
    await waitFor("the run to finish", async () => {
      const run = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { status } }`, { id: runId }, token)).run;
      return run.status === "succeeded" ? run : null;
    });
    const last = ok(await testStep(token, { workflowId, stepId: "shape" })).testStep;
    expect(last.inputSource).toBe("lastRun");
    // The draft run used the pin for fetch (R47): that is what shape saw.
    expect(last.input).toEqual({ input: { names: ["a", "b"], who: "Bo" }, steps: { start: { output: { names: ["a", "b"], who: "Bo" } }, fetch: { output: { items: ["p"] } } } });
    expect(last.output).toBe("1 from Bo");
  });

  it("R49: a side-effecting step needs confirmSideEffects; confirmed, it really sends", async () => {
    const { token, workflowId } = await setUp({
      name: "Call",
      steps: [step("start", "trigger.manual"), step("call", "http.request", { method: "POST", url: `${echo.url}/hook/{{ input.id }}`, body: { hello: "{{ input.id }}" } })],
      edges: [edge("start", "call")],
    });
    const refused = await testStep(token, { workflowId, stepId: "call", input: { input: { id: "r49" } } });
    expect(codeOf(refused)).toBe("CONFIRMATION_REQUIRED");
    expect(refused.errors![0]!.message).toMatch(/side effects/);
    expect(echo.requests.some((request) => request.url === "/hook/r49")).toBe(false);

    const answer = ok(await testStep(token, { workflowId, stepId: "call", input: { input: { id: "r49" } }, confirmSideEffects: true })).testStep;
    expect(answer.error).toBeNull();
    expect(answer.output).toMatchObject({ status: 200, body: { ok: true, path: "/hook/r49" } });
    expect(echo.requests.filter((request) => request.url === "/hook/r49")).toEqual([{ method: "POST", url: "/hook/r49" }]);
  });

  it("R49: bad input is a clear BAD_USER_INPUT; viewers may not test", async () => {
    const { token, workflowId } = await setUp(shapeFlow);
    const wrongShape = await testStep(token, { workflowId, stepId: "shape", input: { who: "Ada" } });
    expect(codeOf(wrongShape)).toBe("BAD_USER_INPUT");
    expect(wrongShape.errors![0]!.message).toMatch(/input\.input/);
    const noStep = await testStep(token, { workflowId, stepId: "nope", input: {} });
    expect(codeOf(noStep)).toBe("BAD_USER_INPUT");
    expect(noStep.errors![0]!.message).toMatch(/no step "nope"/);
    const outsider = await signUpUser(stack.url, "Eve");
    expect(codeOf(await testStep(outsider.token, { workflowId, stepId: "shape", input: {} }))).toBe("NOT_FOUND");
  });
});
