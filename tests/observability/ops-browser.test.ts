/**
 * The operations page in Chromium (docs/observability.md O13): an owner sees the queues, the workspace's
 * failed run and its open workflows, and bulk-retries the failed run; an editor and a viewer are refused
 * (403). A screenshot of the owner's page goes to tests/artifacts/ops-page.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { launchBrowser, recordConsoleErrors } from "../support/browser.js";
import { graphql, signUpUser, startTestStack, waitFor } from "../support/stack.js";

const artifacts = path.resolve("tests/artifacts");
const PASSWORD = "correct horse battery";
let stack: Stack;
let browser: Browser;
const consoleErrors: string[] = [];

async function logIn(email: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordConsoleErrors(page, consoleErrors);
  await page.goto(`${stack.url}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/workflows/);
  return page;
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  [stack, browser] = await Promise.all([startTestStack({ studio: true }), launchBrowser()]);
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe("operations page", () => {
  it("O13: an owner bulk-retries a failed run; an editor and a viewer are refused", async () => {
    const [owner, editor, viewer] = await Promise.all(["Olga", "Eddie", "Vera"].map((name) => signUpUser(stack.url, name)));
    for (const [member, role] of [[editor!, "editor"], [viewer!, "viewer"]] as const) {
      const invited = await graphql(stack.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner!.workspaceId, email: member.email, role } }, owner!.token);
      expect(invited.errors).toBeUndefined();
    }
    const created = await graphql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
      input: {
        workspaceId: owner!.workspaceId,
        name: "Nightly import",
        definition: {
          name: "Nightly import",
          steps: [{ id: "start", type: "trigger.manual", config: {} }, { id: "parse", type: "transform", config: { expression: "$error('the feed was empty')" } }],
          edges: [{ id: "e", source: "start", target: "parse" }],
        },
      },
    }, owner!.token);
    const workflowId = created.data!.createWorkflow.id as string;
    const started = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, owner!.token);
    const runId = started.data!.startRun.id as string;
    await waitFor("the run to fail", async () => (await stack.deps.db.run.findUnique({ where: { id: runId }, select: { status: true } }))?.status === "failed");

    const page = await logIn(owner!.email);
    // Owners reach it from the workspace settings.
    await page.goto(`${stack.url}/workspaces/${owner!.workspaceId}/settings`);
    await page.getByRole("link", { name: "Operations" }).click();
    await page.waitForURL(new RegExp(`/workspaces/${owner!.workspaceId}/ops$`));
    await page.getByRole("heading", { name: /operations$/ }).waitFor();
    const runsQueue = page.locator('tr[data-queue="runs"]');
    await runsQueue.waitFor();
    expect(Number(await runsQueue.locator("td").last().textContent())).toBeGreaterThanOrEqual(1); // workers alive
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("the feed was empty");
    await row.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Retry selected (1)" }).click();
    await page.getByRole("status").filter({ hasText: "Retried 1 run" }).waitFor();
    const retry = await waitFor("the retry run", () => stack.deps.db.run.findFirst({ where: { retryOfRunId: runId }, select: { id: true, fromStepId: true } }));
    expect(retry.fromStepId).toBe("parse");
    // The retry fails too (same expression) and joins the list on the next refresh.
    await page.locator(`tr[data-run="${retry.id}"]`).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(artifacts, "ops-page.png"), fullPage: true });

    for (const member of [editor!, viewer!]) {
      const refused = await logIn(member.email);
      await refused.goto(`${stack.url}/workspaces/${owner!.workspaceId}/settings`);
      await refused.getByRole("heading", { level: 1 }).waitFor();
      expect(await refused.getByRole("link", { name: "Operations" }).count()).toBe(0);
      const response = await refused.goto(`${stack.url}/workspaces/${owner!.workspaceId}/ops`);
      expect(response?.status()).toBe(403);
      expect(await refused.getByRole("heading", { level: 1 }).textContent()).toBe("Error 403");
      expect(await refused.getByRole("alert").textContent()).toContain("Only workspace owners");
      expect(await refused.content()).not.toContain(runId);
      await refused.context().close();
    }
    expect(consoleErrors.filter((error) => !error.includes("403"))).toEqual([]);
  }, 90_000);
});
