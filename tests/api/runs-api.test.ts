/** Runs through the API: webhooks, cancel, re-run from a step (the engine's own rules are in tests/worker). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { runEventChannel } from "@algorythmos/platform";
import { publishWorkflow } from "../support/api.js";
import { graphql, graphqlWsClient, signUpUser, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
let idle: Stack; // no worker: runs stay queued
beforeAll(async () => {
  [stack, idle] = await Promise.all([startTestStack({ collab: false, worker: true }), startTestStack({ collab: false, worker: false })]);
});
afterAll(async () => {
  await stack?.close();
  await idle?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

async function createWorkflow(url: string, token: string, workspaceId: string, definition: object) {
  const created = await graphql(
    url,
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`,
    { input: { workspaceId, name: "Runs", definition } },
    token,
  );
  if (!created.data) throw new Error(JSON.stringify(created.errors));
  const workflow = created.data.createWorkflow as { id: string; webhookPath: string };
  // Webhooks run the published version (R37).
  if (JSON.stringify(definition).includes('"trigger.webhook"')) await publishWorkflow(url, token, workflow.id);
  return workflow;
}

const RUN = `query($id: ID!) { run(id: $id) { id status output error trigger retryOfRunId fromStepId steps { stepId status attempt output } } }`;
const finalRun = (url: string, token: string, id: string) =>
  waitFor(`run ${id} to finish`, async () => {
    const run = (await graphql(url, RUN, { id }, token)).data?.run;
    return run && ["succeeded", "failed", "canceled"].includes(run.status) ? run : null;
  });

describe("webhook trigger", () => {
  const definition = {
    name: "Hook",
    steps: [step("hook", "trigger.webhook", { responseMode: "output" }), step("shape", "transform", { expression: `{ "hello": input.body.name, "q": input.query.x }` })],
    edges: [edge("hook", "shape")],
  };

  it("starts a run with the request as input and answers with the run's output", async () => {
    const user = await signUpUser(stack.url);
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, definition);
    expect(workflow.webhookPath).toMatch(new RegExp(`^/hooks/${workflow.id}/[0-9a-f]{64}$`));
    const response = await fetch(`${stack.url}${workflow.webhookPath}?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer secret-of-the-caller" },
      body: JSON.stringify({ name: "Ada" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ shape: { hello: "Ada", q: "1" } });
    const runs = await graphql(stack.url, `query($id: ID!) { runs(workflowId: $id) { edges { node { trigger input } } } }`, { id: workflow.id }, user.token);
    const run = runs.data.runs.edges[0].node;
    expect(run.trigger).toBe("webhook");
    expect(run.input.headers.authorization).toBeUndefined(); // credentials of the caller never reach the run
  });

  it("answers 202 with the run id in immediate mode, and 404 for a wrong secret", async () => {
    const user = await signUpUser(stack.url);
    const immediate = { ...definition, steps: [step("hook", "trigger.webhook"), definition.steps[1]!] };
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, immediate);
    const accepted = await fetch(`${stack.url}${workflow.webhookPath}`, { method: "POST", body: "plain text" });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    expect((await finalRun(stack.url, user.token, runId)).status).toBe("succeeded");
    const wrong = await fetch(`${stack.url}/hooks/${workflow.id}/${"0".repeat(64)}`, { method: "POST" });
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("viewers do not see the webhook secret", async () => {
    const owner = await signUpUser(idle.url, "Owner");
    const viewer = await signUpUser(idle.url, "Viewer");
    const workflow = await createWorkflow(idle.url, owner.token, owner.workspaceId, definition);
    await graphql(idle.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, email: viewer.email, role: "viewer" } }, owner.token);
    const seen = await graphql(idle.url, `query($id: ID!) { workflow(id: $id) { webhookPath } }`, { id: workflow.id }, viewer.token);
    expect(seen.data.workflow.webhookPath).toBeNull();
  });
});

describe("cancel", () => {
  it("cancels a queued run once; a second cancel is a conflict", async () => {
    const user = await signUpUser(idle.url);
    const workflow = await createWorkflow(idle.url, user.token, user.workspaceId, { name: "Idle", steps: [step("start", "trigger.manual")], edges: [] });
    const started = await graphql(idle.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`, { input: { workflowId: workflow.id } }, user.token);
    expect(started.data.startRun.status).toBe("queued");
    const runId = started.data.startRun.id;
    const canceled = await graphql(idle.url, `mutation($id: ID!) { cancelRun(id: $id) { status error finishedAt } }`, { id: runId }, user.token);
    expect(canceled.data.cancelRun).toMatchObject({ status: "canceled", error: expect.stringContaining("Canceled by") });
    const again = await fetch(`${idle.url}/api/runs/${runId}/cancel`, { method: "POST", headers: { authorization: `Bearer ${user.token}` } });
    expect(again.status).toBe(409);
  });
});

describe("re-run from a step", () => {
  it("reuses the outputs before the step and runs it and everything after it again", async () => {
    const user = await signUpUser(stack.url);
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, {
      name: "Chain",
      steps: [step("start", "trigger.manual"), step("a", "transform", { expression: "input.n + 1" }), step("b", "transform", { expression: "steps.a.output * 10" })],
      edges: [edge("start", "a"), edge("a", "b")],
    });
    const started = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id, input: { n: 1 } } }, user.token);
    const first = await finalRun(stack.url, user.token, started.data.startRun.id);
    expect(first.output).toEqual({ b: 20 });

    const retried = await graphql(stack.url, `mutation($input: RetryRunInput!) { retryRun(input: $input) { id trigger retryOfRunId fromStepId } }`, { input: { runId: first.id, fromStepId: "b" } }, user.token);
    expect(retried.data.retryRun).toMatchObject({ trigger: "retry", retryOfRunId: first.id, fromStepId: "b" });
    const second = await finalRun(stack.url, user.token, retried.data.retryRun.id);
    expect(second.status).toBe("succeeded");
    expect(second.output).toEqual({ b: 20 });
    const stepA = second.steps.filter((row: { stepId: string }) => row.stepId === "a");
    expect(stepA).toHaveLength(1); // copied from the first run, not executed again
    expect(stepA[0].output).toBe(2);

    const unknown = await graphql(stack.url, `mutation($input: RetryRunInput!) { retryRun(input: $input) { id } }`, { input: { runId: first.id, fromStepId: "nope" } }, user.token);
    expect(unknown.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("run event subscriptions", () => {
  it("deliver events published out of their seq order (two publishers), and end at run.finished", async () => {
    const user = await signUpUser(idle.url);
    const workflow = await createWorkflow(idle.url, user.token, user.workspaceId, { name: "Order", steps: [step("start", "trigger.manual")], edges: [] });
    const started = await graphql(idle.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, user.token);
    const runId = started.data.startRun.id;
    const client = graphqlWsClient(idle.url, user.token);
    const received: { type: string; seq: number }[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: `subscription($runId: ID!) { runEvents(runId: $runId) { type seq } }`, variables: { runId } },
        { next: (message) => received.push((message.data as any).runEvents), error: reject, complete: resolve },
      ),
    );
    await waitFor("the replayed run.queued event", async () => received.length === 1);
    // A worker's event numbered after the server's run.finished, but published before it.
    const channel = runEventChannel(idle.deps.env.REDIS_PREFIX, runId);
    const event = (type: string, seq: number) => JSON.stringify({ type, seq, runId, workflowId: workflow.id, stepId: null, status: "canceled", at: new Date().toISOString() });
    await idle.deps.redis.publish(channel, event("step.skipped", 2_000_000_002));
    await idle.deps.redis.publish(channel, event("run.finished", 2_000_000_001));
    await done;
    await client.dispose();
    expect(received.map((item) => item.type)).toEqual(["RUN_QUEUED", "STEP_SKIPPED", "RUN_FINISHED"]);
  });
});
