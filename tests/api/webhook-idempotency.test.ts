/**
 * R39 (docs/run-engine.md): a webhook request with an `Idempotency-Key` returns the run the first request with
 * that key started, for 24 h, per workflow; concurrent duplicates get the same run. Real HTTP requests from a
 * real client (node's http module, separate connections), real PostgreSQL and worker.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { gql, ok, publishWorkflow, signUp, type Account } from "../support/api.js";
import { startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: true });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });

async function publishedHook(owner: Account, responseMode: "immediate" | "output") {
  const definition = {
    name: "Idempotent",
    steps: [step("hook", "trigger.webhook", responseMode === "output" ? { responseMode } : {}), step("shape", "transform", { expression: `{ "got": input.body.n }` })],
    edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
  };
  const created = ok(
    await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`, { input: { workspaceId: owner.workspaceId, name: "Idempotent", definition } }, owner.token),
  ).createWorkflow as { id: string; webhookPath: string };
  await publishWorkflow(stack.url, owner.token, created.id);
  return created;
}

/** One POST on its own connection (agent: false), as separate clients retrying would send it. */
function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  const url = new URL(path, stack.url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    request.on("error", reject);
    request.end(text);
  });
}

const runIds = async (owner: Account, workflowId: string) =>
  (ok(await gql(stack.url, `query($id: ID!) { runs(workflowId: $id, first: 100) { edges { node { id } } } }`, { id: workflowId }, owner.token)).runs.edges as { node: { id: string } }[]).map(
    (edge) => edge.node.id,
  );

describe("R39: webhook Idempotency-Key", () => {
  it("R39: 20 concurrent requests with one key start one run and all answer it; another key starts another run", { timeout: 60_000 }, async () => {
    const owner = await signUp(stack.url, "Idem");
    const hook = await publishedHook(owner, "immediate");
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(hook.webhookPath, { n: i }, { "idempotency-key": "order-42" })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    const ids = new Set(answers.map((answer) => answer.body.runId));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.headers["idempotent-replayed"] === "true")).toHaveLength(19);
    const [runId] = [...ids];
    expect(await runIds(owner, hook.id)).toEqual([runId]);

    // A later retry with the same key gets the same run (its status as it is now), and starts nothing.
    await waitFor("the run to finish", async () => (await post(hook.webhookPath, { n: 99 }, { "idempotency-key": "order-42" })).body.status === "succeeded");
    expect(await runIds(owner, hook.id)).toEqual([runId]);
    const other = await post(hook.webhookPath, { n: 1 }, { "idempotency-key": "order-43" });
    expect(other.status).toBe(202);
    expect(other.body.runId).not.toBe(runId);
    const unkeyed = await Promise.all([post(hook.webhookPath, { n: 2 }), post(hook.webhookPath, { n: 3 })]);
    expect(new Set(unkeyed.map((answer) => answer.body.runId)).size).toBe(2);
    expect((await runIds(owner, hook.id)).length).toBe(4);
  });

  it("R39: keys are per workflow, expire after 24 h, and a key that is too long or empty is refused with 400", async () => {
    const owner = await signUp(stack.url, "Keys");
    const [first, second] = [await publishedHook(owner, "immediate"), await publishedHook(owner, "immediate")];
    const a = await post(first.webhookPath, {}, { "idempotency-key": "shared" });
    const b = await post(second.webhookPath, {}, { "idempotency-key": "shared" });
    expect(a.body.runId).not.toBe(b.body.runId);

    // 24 h later (the stored request is aged in the database): the key starts a new run.
    await stack.deps.db.$executeRaw`UPDATE "WebhookRequest" SET "createdAt" = "createdAt" - interval '24 hours 1 second' WHERE "workflowId" = ${first.id}`;
    const later = await post(first.webhookPath, {}, { "idempotency-key": "shared" });
    expect(later.status).toBe(202);
    expect(later.body.runId).not.toBe(a.body.runId);
    expect(later.headers["idempotent-replayed"]).toBeUndefined();
    expect((await post(first.webhookPath, {}, { "idempotency-key": "shared" })).body.runId).toBe(later.body.runId);

    for (const key of ["x".repeat(256), " ", "with space"]) {
      const refused = await post(first.webhookPath, {}, { "idempotency-key": key });
      expect(refused.status, key).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: "BAD_USER_INPUT", message: expect.stringContaining("Idempotency-Key must be 1 to 255") } });
    }
    expect((await post(first.webhookPath, {}, { "idempotency-key": "k".repeat(255) })).status).toBe(202);
  });

  it("R39: in output mode a repeated key answers with the first run's output", { timeout: 60_000 }, async () => {
    const owner = await signUp(stack.url, "Output");
    const hook = await publishedHook(owner, "output");
    const [one, two] = await Promise.all([post(hook.webhookPath, { n: 1 }, { "idempotency-key": "pay-1" }), post(hook.webhookPath, { n: 2 }, { "idempotency-key": "pay-1" })]);
    expect(one.status).toBe(200);
    expect(two.status).toBe(200);
    expect(one.body).toEqual(two.body); // the same run: one input won
    const later = await post(hook.webhookPath, { n: 3 }, { "idempotency-key": "pay-1" });
    expect(later).toMatchObject({ status: 200, body: one.body });
    expect(later.headers["idempotent-replayed"]).toBe("true");
    expect(await runIds(owner, hook.id)).toHaveLength(1);
  });
});
