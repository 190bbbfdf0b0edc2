/**
 * R59: webhooks in output mode wait on one shared listener per workflow channel (server/hooks.ts). Concurrent
 * requests to one workflow each get their own run's output (never another's), sequential requests after a
 * quiet moment still get theirs (the lingering subscription), and a run that fails answers 502 with its error.
 * The runs' expressions are inside R57's subset, so they are evaluated in the worker.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { publishWorkflow } from "../support/api.js";
import { graphql, signUpUser, startTestStack } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: true });
});
afterAll(async () => {
  await stack?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });

it("R59: concurrent output-mode webhooks on one workflow each answer with their own run's output; a failed run answers 502", async () => {
  const owner = await signUpUser(stack.url);
  const created = await graphql(
    stack.url,
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`,
    {
      input: {
        workspaceId: owner.workspaceId,
        name: "Echo",
        definition: {
          name: "Echo",
          steps: [
            step("hook", "trigger.webhook", { responseMode: "output" }),
            step("shape", "transform", { expression: `input.body.n < 0 ? $error("negative") : { "n": input.body.n, "double": input.body.n * 2 }` }),
          ],
          edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
        },
      },
    },
    owner.token,
  );
  const { id, webhookPath } = created.data.createWorkflow as { id: string; webhookPath: string };
  await publishWorkflow(stack.url, owner.token, id);
  const call = async (n: number) => {
    const response = await fetch(`${stack.url}${webhookPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n }) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => call(n)));
  expect(answers).toEqual(Array.from({ length: 12 }, (_, n) => ({ status: 200, body: { shape: { n, double: n * 2 } } })));
  // Sequential calls reuse the lingering subscription; each still gets its own answer.
  for (const n of [100, 101]) expect(await call(n)).toEqual({ status: 200, body: { shape: { n, double: n * 2 } } });
  const failed = await call(-1);
  expect(failed.status).toBe(502);
  expect(JSON.stringify(failed.body)).toContain("Expression failed: negative");
});
