/**
 * Draft and publish in the studio (#15), as two people use it in Chromium: one edits the draft, the other
 * reviews the publish dialog (the visual diff with field-level changes, who changed what since the published
 * version, the problems that block publishing) and publishes; versions show which are publications and any
 * of them is published again (rollback); the active toggle turns the triggers off (the webhook answers 409
 * INACTIVE); the Run button runs the draft or the published version and the trace says which.
 * Screenshots go to tests/artifacts/.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, signUp, type Account } from "../support/api.js";
import { recordConsoleErrors, textOf, until, untilCount } from "../support/browser.js";
import { startEchoServer } from "../support/stack.js";
import { logIn, openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
let session: StudioSession;
let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let pageA: Page; // Ada, the owner: reviews and publishes
let pageB: Page; // Bea, an editor: edits the draft
let ada: Account;
let bea: Account;
let workflowId = "";
const consoleErrors: string[] = [];

const publishState = (page: Page) => page.getByTestId("publish-state");

async function openEditor(page: Page) {
  await page.goto(`${stack.url}/workflows/${workflowId}`);
  await until(page.getByTestId("connection-status"), textOf, "connected");
  await untilCount(page.locator(".react-flow__node:not(.ghost-node)"), 3);
}

const workflowState = async () =>
  ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { active published { version message definition } } }`, { id: workflowId }, ada.token)).workflow as {
    active: boolean;
    published: { version: number; message: string; definition: { steps: { id: string; name: string; config: Record<string, unknown> }[] } } | null;
  };

beforeAll(async () => {
  [session, echo] = await Promise.all([openStudioSession({ users: ["Ada", "Bea"], viewports: [{ width: 1440, height: 860 }, { width: 1366, height: 820 }], consoleErrors }), startEchoServer()]);
  session.alsoClose(echo);
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order sync", {
    schemaVersion: 1,
    name: "Order sync",
    description: "",
    steps: [
      { id: "hook", type: "trigger.webhook", name: "Order webhook", config: {}, position: { x: 0, y: 0 } },
      { id: "fetch", type: "http.request", name: "Fetch order", config: { method: "GET", url: `${echo.url}/order` }, position: { x: 280, y: 0 } },
      { id: "notify", type: "http.request", name: "Notify", config: { method: "POST", url: `${echo.url}/notify` }, position: { x: 560, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "hook", target: "fetch" },
      { id: "e2", source: "fetch", target: "notify" },
    ],
  });
  workflowId = created.id;
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-publish-"));
afterAll(() => session?.close());

describe("studio: draft and publish (#15)", () => {
  it("publishes the first version from the publish dialog; the toolbar says so", async () => {
    await openEditor(pageA);
    await until(publishState(pageA), textOf, "Not published");
    await pageA.getByRole("button", { name: "Publish…" }).click();
    const dialog = pageA.getByTestId("publish-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Not published yet: this will be the first published version");
    // No message, no publication.
    expect(await dialog.getByRole("button", { name: "Publish", exact: true }).isDisabled()).toBe(true);
    await dialog.getByLabel("Message").fill("First release");
    await shot(pageA, "publish-dialog-first");
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await untilCount(pageA.getByTestId("publish-dialog"), 0);
    await until(publishState(pageA), textOf, "Published v1 · just now");
    const state = await workflowState();
    expect(state.published).toMatchObject({ version: 1, message: "First release" });
  }, 60_000);

  it("one person edits, the other reviews the field-level diff and the attribution, then publishes", async () => {
    await openEditor(pageB);
    // Bea renames "Notify" and changes the URL of "Fetch order": typed into the co-edited fields.
    await pageB.locator('.react-flow__node[data-id="notify"]').click();
    const name = pageB.getByLabel("Step name");
    await name.fill("Notify the shop");
    await pageB.locator('.react-flow__node[data-id="fetch"]').click();
    const url = pageB.getByLabel("URL");
    await url.fill(`${echo.url}/order/v2`);
    // Ada sees the draft move away from the published version, live.
    await until(publishState(pageA), textOf, "Published v1 · just now · Draft has unpublished changes");

    await pageA.getByRole("button", { name: "Publish…" }).click();
    const dialog = pageA.getByTestId("publish-dialog");
    const diff = dialog.getByTestId("publish-diff");
    await diff.getByTestId("change-changed").filter({ hasText: "Notify the shop" }).waitFor();
    const changes = await diff.getByTestId("change-changed").allTextContents();
    expect(changes.join("\n")).toContain("name: Notify → Notify the shop");
    expect(changes.join("\n")).toContain(`config.url: ${echo.url}/order → ${echo.url}/order/v2`);
    // Who changed what: Bea, with the steps she touched (from the attributed Yjs update log).
    const attribution = dialog.getByTestId("publish-attribution");
    await attribution.getByText("Bea").waitFor({ timeout: 10_000 });
    const who = (await attribution.textContent()) ?? "";
    expect(who).toContain("Fetch order");
    expect(who).toContain("Notify the shop");
    expect(who).not.toContain("Ada");
    await dialog.getByLabel("Message").fill("New order endpoint");
    await shot(pageA, "publish-dialog-review");
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await untilCount(pageA.getByTestId("publish-dialog"), 0);
    await until(publishState(pageA), textOf, "Published v2 · just now");
    const published = (await workflowState()).published!;
    expect(published.version).toBe(2);
    expect(published.definition.steps.find((s) => s.id === "fetch")!.config.url).toBe(`${echo.url}/order/v2`);
    expect(published.definition.steps.find((s) => s.id === "notify")!.name).toBe("Notify the shop");
  }, 60_000);

  it("blocks publishing while the draft has problems, and says which", async () => {
    await pageB.locator('.react-flow__node[data-id="fetch"]').click();
    await pageB.getByLabel("URL").fill("");
    await pageA.getByRole("button", { name: "Publish…" }).click();
    const dialog = pageA.getByTestId("publish-dialog");
    const blocked = dialog.getByTestId("publish-blocked");
    await blocked.waitFor({ timeout: 5_000 });
    expect(await blocked.textContent()).toContain("Fetch order");
    await dialog.getByLabel("Message").fill("Should not go out");
    expect(await dialog.getByRole("button", { name: "Publish", exact: true }).isDisabled()).toBe(true);
    await shot(pageA, "publish-dialog-blocked");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    // Bea puts the URL back; the published version never saw the gap.
    await pageB.getByLabel("URL").fill(`${echo.url}/order/v2`);
    expect((await workflowState()).published!.version).toBe(2);
  }, 30_000);

  it("versions mark publications and publish any earlier one again (rollback)", async () => {
    await pageA.getByRole("button", { name: "History" }).click();
    const panel = pageA.getByTestId("versions-panel");
    await panel.waitFor();
    const v1 = panel.locator('li[data-kind="published"]').filter({ hasText: "First release" });
    await v1.waitFor();
    expect(await panel.getByTestId("published-badge").allTextContents()).toContain("Published · live");
    await v1.getByRole("button", { name: /^Publish .* again$/ }).click();
    await until(publishState(pageA), (l) => textOf(l).then((t) => t?.replace(/ · Draft has unpublished changes$/, "") ?? null), "Published v3 · just now");
    const published = (await workflowState()).published!;
    expect(published.version).toBe(3);
    // v1's definition, published again: the old URL and name.
    expect(published.definition.steps.find((s) => s.id === "fetch")!.config.url).toBe(`${echo.url}/order`);
    expect(published.definition.steps.find((s) => s.id === "notify")!.name).toBe("Notify");
    const live = panel.locator("li").filter({ has: pageA.getByText("Published · live") });
    await live.first().waitFor();
    expect(await live.first().getByTestId("version-meta").count()).toBe(1);
    expect(await live.first().textContent()).toContain("Rollback to v1");
    await shot(pageA, "versions-published-rollback");
    await pageA.getByRole("button", { name: "History" }).click();
  }, 30_000);

  it("runs the draft by default or the published version, and the trace says which", async () => {
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    await until(pageA.getByTestId("run-version"), textOf, "Draft run");
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    const draftRequests = echo.requests.map((r) => r.url);
    expect(draftRequests).toContain("/order/v2");

    await openEditor(pageA);
    await pageA.getByLabel("Run version").selectOption("PUBLISHED");
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    await until(pageA.getByTestId("run-version"), textOf, "Published v3");
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    // The published v3 is v1's definition: the old endpoint, although the draft says /order/v2.
    expect(echo.requests.slice(draftRequests.length).map((r) => r.url)).toContain("/order");
    await shot(pageA, "run-published-version");
  }, 60_000);

  it("the active toggle turns the triggers off and on (the webhook answers 409 INACTIVE)", async () => {
    await openEditor(pageA);
    const toggle = pageA.getByRole("switch");
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await until(pageA.getByTestId("active-state"), textOf, "Inactive");
    expect((await workflowState()).active).toBe(false);
    const webhook = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { webhookPath } }`, { id: workflowId }, ada.token)).workflow.webhookPath as string;
    const refused = await fetch(`${stack.url}${webhook}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("INACTIVE");
    await shot(pageA, "editor-inactive");
    // Reloaded, the page still says inactive (the server's state, not the checkbox's).
    await openEditor(pageA);
    await until(pageA.getByTestId("active-state"), textOf, "Inactive");
    await pageA.getByRole("switch").check();
    await until(pageA.getByTestId("active-state"), textOf, "Active");
    expect((await workflowState()).active).toBe(true);
    const accepted = await fetch(`${stack.url}${webhook}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(accepted.status).toBeLessThan(300);
  }, 60_000);

  it("a viewer sees the publication state but cannot publish or toggle", async () => {
    const viewer = await signUp(stack.url, "Vic");
    await invite(stack.url, ada, ada.workspaceId, viewer, "viewer");
    const context = await session.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    recordConsoleErrors(page, consoleErrors);
    try {
      await logIn(page, stack.url, viewer);
      await openEditor(page);
      await until(publishState(page), (l) => textOf(l).then((t) => t?.split(" · ")[0] ?? null), "Published v3");
      expect(await page.getByRole("button", { name: "Publish…" }).count()).toBe(0);
      expect(await page.getByRole("switch").isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("failing test cases refuse the publication until the publisher overrides them (recorded on the version)", async () => {
    const gated = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Gated", {
      schemaVersion: 1,
      name: "Gated",
      description: "",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        { id: "ping", type: "http.request", name: "Ping", config: { method: "GET", url: `${echo.url}/ping` }, position: { x: 280, y: 0 } },
      ],
      edges: [{ id: "e1", source: "start", target: "ping" }],
      testCases: [{ id: "never", name: "Never passes", input: {}, assertions: [{ kind: "jsonata", expression: "false" }] }],
    });
    await pageA.goto(`${stack.url}/workflows/${gated.id}`);
    await until(pageA.getByTestId("connection-status"), textOf, "connected");
    await pageA.getByRole("button", { name: "Publish…" }).click();
    const dialog = pageA.getByTestId("publish-dialog");
    await dialog.getByLabel("Message").fill("Gate me");
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await dialog.getByTestId("publish-error").waitFor({ timeout: 30_000 });
    expect(await dialog.getByTestId("publish-error").textContent()).toContain("Never passes");
    await shot(pageA, "publish-dialog-tests-failed");
    await dialog.getByLabel(/Publish anyway/).check();
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await untilCount(pageA.getByTestId("publish-dialog"), 0, 30_000);
    await until(publishState(pageA), textOf, "Published v1 · just now");
    const published = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { published { version overrideFailingTests } } }`, { id: gated.id }, ada.token)).workflow.published;
    expect(published).toEqual({ version: 1, overrideFailingTests: true });
  }, 90_000);

  it("left no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
