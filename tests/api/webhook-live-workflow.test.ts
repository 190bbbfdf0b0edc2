/**
 * A webhook runs the workflow as it is at the moment of the call: the server keeps a decoded document per log
 * head (server/services/runs.ts liveWorkflowAt), so an edit — which takes the next seq of the log — is seen
 * by the very next call.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { graphql, signUpUser, startTestStack } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: true });
});
afterAll(async () => {
  await stack?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const definition = (expression: string) => ({
  name: "Hook",
  steps: [step("hook", "trigger.webhook", { responseMode: "output" }), step("shape", "transform", { expression })],
  edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
});

it("a webhook call after an edit runs the edited workflow (and the one before it the previous version)", async () => {
  const owner = await signUpUser(stack.url);
  const created = await graphql(
    stack.url,
    `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`,
    { input: { workspaceId: owner.workspaceId, name: "Hook", definition: definition(`"first"`) } },
    owner.token,
  );
  const { id, webhookPath } = created.data.createWorkflow as { id: string; webhookPath: string };
  const call = async () => {
    const response = await fetch(`${stack.url}${webhookPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(response.status).toBe(200);
    return response.json();
  };
  expect(await call()).toEqual({ shape: "first" });
  expect(await call()).toEqual({ shape: "first" });
  for (const version of ["second", "third"]) {
    const updated = await graphql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id, definition: definition(`"${version}"`) } }, owner.token);
    expect(updated.errors).toBeUndefined();
    expect(await call()).toEqual({ shape: version });
  }
});
