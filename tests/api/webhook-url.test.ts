/**
 * Workflow.webhookUrl (#17, the webhook trigger panel): the full URL is the deployment's PUBLIC_URL with the
 * webhook path; editors and owners only (it holds the secret), null for viewers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, signUp } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false }, { PUBLIC_URL: "https://studio.example.com" });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe("Workflow.webhookUrl", () => {
  it("is PUBLIC_URL + webhookPath for an editor, null for a viewer", async () => {
    const [owner, viewer] = await Promise.all([signUp(stack.url, "Owner"), signUp(stack.url, "Viewer")]);
    await invite(stack.url, owner, owner.workspaceId, viewer, "viewer");
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Hooked");
    const query = `query($id: ID!) { workflow(id: $id) { webhookPath webhookUrl } }`;
    const seen = ok(await gql(stack.url, query, { id: workflow.id }, owner.token)).workflow;
    expect(seen.webhookPath).toMatch(new RegExp(`^/hooks/${workflow.id}/\\w{32,}$`));
    expect(seen.webhookUrl).toBe(`https://studio.example.com${seen.webhookPath}`);
    expect(ok(await gql(stack.url, query, { id: workflow.id }, viewer.token)).workflow).toEqual({ webhookPath: null, webhookUrl: null });
  });
});
