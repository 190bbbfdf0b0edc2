/**
 * R55 in "test step" and test cases (docs/run-engine.md R49, R50, R55) on a real stack (PostgreSQL, Redis,
 * BullMQ, a worker): an earlier step is `steps.<key>` as well as `steps.<id>`, as in runs — whether its
 * output came from the last run, from a pin or from typed input, and in test-case JSONata assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { gql, ok } from "../support/api.js";
import { signUpUser, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: true });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });
/** start → step_0insp4brb9up (key fetch_user) → greet, which reads the earlier step by its key only. */
const keyedFlow = (extra: Record<string, unknown> = {}) => ({
  name: "Keys in step tests",
  steps: [
    { id: "start", type: "trigger.manual", position: { x: 0, y: 0 } },
    { id: "step_0insp4brb9up", key: "fetch_user", type: "transform", name: "Fetch user", config: { expression: "{ 'name': input.name }" }, position: { x: 200, y: 0 } },
    { id: "greet", type: "transform", name: "Greet", config: { expression: "'Hi ' & steps.fetch_user.output.name" }, position: { x: 400, y: 0 } },
  ],
  edges: [edge("start", "step_0insp4brb9up"), edge("step_0insp4brb9up", "greet")],
  ...extra,
});

async function setUp(definition: Record<string, unknown>) {
  const user = await signUpUser(stack.url);
  const created = ok(
    await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: user.workspaceId, name: "Keys", definition } }, user.token),
  );
  return { token: user.token, workflowId: created.createWorkflow.id as string };
}

const TEST_STEP = `mutation($input: TestStepInput!) { testStep(input: $input) { output error inputSource } }`;

describe("R55 steps by key in step tests and test cases", () => {
  it("R55: testStep sees an earlier step by its key, from pinned data, typed input (by id) and the last run", async () => {
    const { token, workflowId } = await setUp(keyedFlow({ pinned: { step_0insp4brb9up: { name: "Pinned" } } }));
    const pinned = ok(await gql(stack.url, TEST_STEP, { input: { workflowId, stepId: "greet" } }, token)).testStep;
    expect(pinned).toMatchObject({ inputSource: "pinned", error: null, output: "Hi Pinned" });

    // Typed by id (as the context the studio shows lists it): the key reaches the same output.
    const typed = ok(await gql(stack.url, TEST_STEP, { input: { workflowId, stepId: "greet", input: { input: {}, steps: { step_0insp4brb9up: { output: { name: "Typed" } } } } } }, token)).testStep;
    expect(typed).toMatchObject({ inputSource: "typed", error: null, output: "Hi Typed" });

    const started = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { name: "Ada" } } }, token));
    await waitFor("the run to finish", async () => {
      const run = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { status } }`, { id: started.startRun.id }, token)).run;
      return run.status === "succeeded" || run.status === "failed" ? run : null;
    });
    const last = ok(await gql(stack.url, TEST_STEP, { input: { workflowId, stepId: "greet" } }, token)).testStep;
    // The draft run used the pin (R47), so the last run's context holds the pinned output, under the step's id.
    expect(last).toMatchObject({ inputSource: "lastRun", error: null, output: "Hi Pinned" });
  });

  it("R55: a test case's JSONata assertion reads steps.<key>, and an assertion's stepId may be the key", async () => {
    const testCases = [
      {
        id: "tc_keys",
        name: "by key",
        input: { name: "Ada" },
        assertions: [
          { kind: "jsonata", expression: "steps.fetch_user.output.name = 'Ada' and steps.step_0insp4brb9up.output.name = 'Ada'" },
          { kind: "equals", stepId: "fetch_user", expected: { name: "Ada" } },
        ],
      },
    ];
    const { token, workflowId } = await setUp(keyedFlow({ testCases }));
    const results = ok(await gql(stack.url, `mutation($input: RunTestCasesInput!) { runTestCases(input: $input) { caseId passed failures } }`, { input: { workflowId } }, token)).runTestCases;
    expect(results).toEqual([{ caseId: "tc_keys", passed: true, failures: [] }]);
  });
});
