/**
 * The operations API (docs/observability.md O10–O12) on an in-process stack: an owner's view holds only the
 * workspace's own runs and rooms; bulk actions touch only the workspace's runs; bad input is a 4xx answer.
 * (Which roles may call it at all is in the authorisation matrix, tests/support/authz-operations.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { connectClient, waitSynced } from "../support/collab.js";
import { graphql, signUpUser, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
let ada: Awaited<ReturnType<typeof signUpUser>>;
let bob: Awaited<ReturnType<typeof signUpUser>>;

const OPERATIONS = `query($ws: ID!) { operations(workspaceId: $ws) {
  queues { name waiting active delayed failed workers }
  troubledRuns { trouble workflowName run { id status } }
  collab { processes rooms { workflowId workflowName connections } } } }`;
const RETRY = `mutation($input: BulkRunInput!) { retryRuns(input: $input) { runs { id status retryOfRunId fromStepId } failures { runId code message } } }`;
const CANCEL = `mutation($input: BulkRunInput!) { cancelRuns(input: $input) { runs { id status } failures { runId code message } } }`;

async function workflowWithRun(user: typeof ada, name: string): Promise<{ workflowId: string; runId: string }> {
  const created = await graphql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: {
      workspaceId: user.workspaceId,
      name,
      definition: { name, steps: [{ id: "start", type: "trigger.manual", config: {} }, { id: "boom", type: "transform", config: { expression: "$error('boom')" } }], edges: [{ id: "e", source: "start", target: "boom" }] },
    },
  }, user.token);
  const workflowId = created.data!.createWorkflow.id as string;
  const run = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, user.token);
  return { workflowId, runId: run.data!.startRun.id as string };
}

const statusOf = async (runId: string, token: string) => (await graphql(stack.url, `query($id: ID!) { run(id: $id) { status } }`, { id: runId }, token)).data?.run?.status;

beforeAll(async () => {
  stack = await startTestStack();
  [ada, bob] = await Promise.all([signUpUser(stack.url, "Ada"), signUpUser(stack.url, "Bob")]);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe("operations API", () => {
  let adaRun = "";
  let bobRun = "";
  let bobWorkflow = "";

  it("O10: an owner sees the queues (cluster-wide) and only the workspace's failed runs", async () => {
    const [mine, theirs] = await Promise.all([workflowWithRun(ada, "Ada's flow"), workflowWithRun(bob, "Bob's flow")]);
    adaRun = mine.runId;
    bobRun = theirs.runId;
    bobWorkflow = theirs.workflowId;
    await waitFor("both runs to fail", async () => (await statusOf(adaRun, ada.token)) === "failed" && (await statusOf(bobRun, bob.token)) === "failed");
    const answer = await graphql(stack.url, OPERATIONS, { ws: ada.workspaceId }, ada.token);
    expect(answer.errors).toBeUndefined();
    const ops = answer.data.operations;
    expect(ops.queues.map((queue: { name: string }) => queue.name).sort()).toEqual(["connectors", "runs"]);
    expect(ops.queues.find((queue: { name: string }) => queue.name === "runs").workers).toBeGreaterThanOrEqual(1);
    expect(ops.troubledRuns).toEqual([{ trouble: "failed", workflowName: "Ada's flow", run: { id: adaRun, status: "failed" } }]);
    expect(JSON.stringify(ops)).not.toContain(bobRun);
  });

  it("O11: bulk retry re-runs the workspace's failed run from its failed step; another workspace's run is NOT_FOUND and untouched", async () => {
    const answer = await graphql(stack.url, RETRY, { input: { workspaceId: ada.workspaceId, runIds: [adaRun, bobRun, adaRun] } }, ada.token);
    expect(answer.errors).toBeUndefined();
    const { runs, failures } = answer.data.retryRuns;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "queued", retryOfRunId: adaRun, fromStepId: "boom" });
    expect(failures).toEqual([{ runId: bobRun, code: "NOT_FOUND", message: "Run not found" }]);
    expect(await stack.deps.db.run.count({ where: { retryOfRunId: bobRun } })).toBe(0);
    // A run that is not failed or canceled is a CONFLICT, and nothing happens to it.
    const again = await graphql(stack.url, CANCEL, { input: { workspaceId: ada.workspaceId, runIds: [adaRun] } }, ada.token);
    expect(again.data.cancelRuns.failures).toEqual([{ runId: adaRun, code: "CONFLICT", message: "The run is already failed" }]);
  });

  it("O11: bulk cancel from another workspace cannot reach a run", async () => {
    const slow = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: bobWorkflow } }, bob.token);
    const runId = slow.data!.startRun.id as string;
    const answer = await graphql(stack.url, CANCEL, { input: { workspaceId: ada.workspaceId, runIds: [runId] } }, ada.token);
    expect(answer.data.cancelRuns).toEqual({ runs: [], failures: [{ runId, code: "NOT_FOUND", message: "Run not found" }] });
    expect(await stack.deps.db.run.count({ where: { id: runId, status: "canceled" } })).toBe(0);
  });

  it("O12: too many or no run ids is BAD_USER_INPUT", async () => {
    for (const runIds of [[], Array.from({ length: 101 }, (_, index) => `run_${index}`)]) {
      const answer = await graphql(stack.url, RETRY, { input: { workspaceId: ada.workspaceId, runIds } }, ada.token);
      expect(answer.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("O10: collab rooms: the owner sees the workspace's open workflows and their connections, never another workspace's", async () => {
    const client = connectClient(stack.url, bobWorkflow, bob.token);
    const own = await workflowWithRun(ada, "Ada's open flow");
    const mine = connectClient(stack.url, own.workflowId, ada.token);
    try {
      await waitSynced(client, mine);
      const rooms = await waitFor(
        "the heartbeat to report the rooms",
        async () => {
          const answer = await graphql(stack.url, OPERATIONS, { ws: ada.workspaceId }, ada.token);
          const found = answer.data?.operations.collab.rooms as { workflowId: string }[] | undefined;
          return found?.length ? found : null;
        },
        12_000,
      );
      expect(rooms).toEqual([{ workflowId: own.workflowId, workflowName: "Ada's open flow", connections: 1 }]);
      const theirs = await graphql(stack.url, OPERATIONS, { ws: bob.workspaceId }, bob.token);
      expect(theirs.data.operations.collab.rooms).toEqual([{ workflowId: bobWorkflow, workflowName: "Bob's flow", connections: 1 }]);
    } finally {
      client.destroy();
      mine.destroy();
    }
  });
});
