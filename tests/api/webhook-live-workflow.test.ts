/**
 * A webhook runs the workflow's published version as it is at the moment of the call (R37): the server caches
 * published definitions by version id (server/services/publish.ts), and publishing points the workflow at a
 * new id, so a publication is seen by the very next call — and a draft edit alone by none.
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
const definition = (expression: string) => ({
  name: "Hook",
  steps: [step("hook", "trigger.webhook", { responseMode: "output" }), step("shape", "transform", { expression })],
  edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
});

it("R37: a webhook call after a publication runs the newly published version (and one after a draft edit alone still the previous one)", async () => {
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
  await publishWorkflow(stack.url, owner.token, id);
  expect(await call()).toEqual({ shape: "first" });
  expect(await call()).toEqual({ shape: "first" });
  let published = "first";
  for (const version of ["second", "third"]) {
    const updated = await graphql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id, definition: definition(`"${version}"`) } }, owner.token);
    expect(updated.errors).toBeUndefined();
    expect(await call()).toEqual({ shape: published }); // the draft changed, the published version did not
    await publishWorkflow(stack.url, owner.token, id);
    published = version;
    expect(await call()).toEqual({ shape: version });
  }
});
