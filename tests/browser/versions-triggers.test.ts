/**
 * #17 defects 1 and 2, as two people use the studio in Chromium:
 * - a restore saves the draft first ("Before restoring vN …"), restoring that version brings back what the
 *   restore removed, the person who restored undoes it with Ctrl+Z, and the other person sees it all live;
 * - the webhook trigger shows its full URL (Copy) and sends a test request (409 NOT_PUBLISHED explained, then
 *   202 once published); the cron trigger says its schedule in words with the next 5 runs in its time zone,
 *   and an invalid expression is an inline error as it is typed.
 * Screenshots: tests/artifacts/screenshots/{versions-restore,trigger-webhook,trigger-cron}.png.
 */
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, publishWorkflow, type Account } from "../support/api.js";
import { textOf, until, untilCount } from "../support/browser.js";
import { waitFor } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, screenshotsDir, type StudioSession } from "../support/studio-session.js";

const screenshots = path.resolve("tests/artifacts/screenshots");
let session: StudioSession;
let stack: Stack;
let contextA: BrowserContext;
let pageA: Page; // Ada, the owner: restores, then undoes
let pageB: Page; // Bea, an editor: watches
let ada: Account;
let bea: Account;
let workflowId = "";
const consoleErrors: string[] = [];

const BASE_STEPS = [
  { id: "hook", type: "trigger.webhook", name: "Order webhook", config: {}, position: { x: 0, y: 0 } },
  { id: "tick", type: "trigger.cron", name: "Every five", config: { cron: "*/5 * * * *", timezone: "Europe/Paris" }, position: { x: 0, y: 160 } },
  { id: "shape", type: "transform", name: "Shape order", config: { expression: "{ 'ok': true }" }, position: { x: 300, y: 60 } },
];
const nodes = (page: Page) => page.locator(".react-flow__node:not(.ghost-node)");
const node = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

async function openEditor(page: Page, steps: number) {
  await page.goto(`${stack.url}/workflows/${workflowId}`);
  await until(page.getByTestId("connection-status"), textOf, "connected");
  await untilCount(nodes(page), steps);
}

const liveStepIds = async () => {
  const data = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflowId }, ada.token));
  return (data.workflow.export.definition.steps as { id: string }[]).map((s) => s.id).sort();
};

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea"], viewports: [{ width: 1440, height: 900 }, { width: 1280, height: 820 }], consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  contextA = session.contexts[0]!;
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Orders", {
    schemaVersion: 1,
    name: "Orders",
    description: "",
    steps: BASE_STEPS,
    edges: [{ id: "e1", source: "hook", target: "shape" }, { id: "e2", source: "tick", target: "shape" }],
  });
  workflowId = created.id;
  ok(await gql(stack.url, `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, { input: { workflowId, label: "Baseline" } }, ada.token));
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-versions-triggers-", screenshotsDir));
afterAll(() => session?.close());

describe("#17 version restore that can be undone, and usable triggers", () => {
  it("defect 1: a restore saves 'Before restoring …' first, Ctrl+Z undoes it for the one who restored, restoring back brings the step back; the other sees it live", async () => {
    await Promise.all([openEditor(pageA, 3), openEditor(pageB, 3)]);
    // A step added after the Baseline version (by Bea, through the API: the same Yjs change the canvas makes).
    const withExtra = { schemaVersion: 1, name: "Orders", description: "", steps: [...BASE_STEPS, { id: "later", type: "transform", name: "Added later", config: { expression: "1" }, position: { x: 600, y: 60 } }], edges: [{ id: "e1", source: "hook", target: "shape" }, { id: "e2", source: "tick", target: "shape" }] };
    ok(await gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id: workflowId, definition: withExtra } }, bea.token));
    await Promise.all([untilCount(nodes(pageA), 4), untilCount(nodes(pageB), 4)]);

    await pageA.getByRole("button", { name: "History" }).click();
    const panel = pageA.getByTestId("versions-panel");
    await panel.getByRole("button", { name: "Restore v1 “Baseline”" }).click();
    const confirm = panel.getByRole("group", { name: "Confirm restoring v1 “Baseline”" });
    expect(await confirm.textContent()).toContain("saved first as a version (“Before restoring v1 “Baseline””)");
    await confirm.getByRole("button", { name: "Confirm restore" }).click();

    // Restored for both, live; the draft from before it is v2.
    await Promise.all([untilCount(nodes(pageA), 3), untilCount(nodes(pageB), 3)]);
    const saved = panel.getByTestId("version-2");
    await saved.waitFor({ timeout: 10_000 });
    expect(await saved.locator(".version-label").textContent()).toBe("Before restoring v1 “Baseline”");
    await panel.getByTestId("restored-note").waitFor();
    expect(await panel.getByTestId("restored-note").textContent()).toContain("Ctrl+Z undoes the restore");
    const versions = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { versions { version label definition } } }`, { id: workflowId }, ada.token)).workflow.versions;
    const before = versions.find((v: { version: number }) => v.version === 2);
    expect(before.definition.steps.map((s: { id: string }) => s.id).sort()).toEqual(["hook", "later", "shape", "tick"]);
    await waitFor("the restore stored", async () => (await liveStepIds()).join() === "hook,shape,tick");
    await pageA.screenshot({ path: path.join(screenshots, "versions-restore.png") });

    // Ctrl+Z by Ada undoes her restore: the step is back, for Bea too, and stored.
    await pageA.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
    await pageA.keyboard.press("Control+z");
    await Promise.all([untilCount(nodes(pageA), 4), untilCount(nodes(pageB), 4)]);
    await node(pageB, "later").getByText("Added later").waitFor();
    await waitFor("the undo stored", async () => (await liveStepIds()).join() === "hook,later,shape,tick");
    // Bea's Ctrl+Z does not touch Ada's restore (per-user undo): she made no edit in the studio.
    await pageB.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
    await pageB.keyboard.press("Control+z");

    // Redo the restore, then restore "Before restoring v1": the step comes back that way too.
    await pageA.keyboard.press("Control+Shift+z");
    await Promise.all([untilCount(nodes(pageA), 3), untilCount(nodes(pageB), 3)]);
    await panel.getByRole("button", { name: "Restore v2 “Before restoring v1 “Baseline””" }).click();
    await panel.getByRole("button", { name: "Confirm restore" }).click();
    await Promise.all([untilCount(nodes(pageA), 4), untilCount(nodes(pageB), 4)]);
    await node(pageA, "later").waitFor();
    await panel.getByTestId("version-3").waitFor({ timeout: 10_000 });
    await waitFor("the second restore stored", async () => (await liveStepIds()).join() === "hook,later,shape,tick");
  }, 90_000);

  it("defect 2: the webhook trigger shows its full URL with Copy and sends a test request (409 NOT_PUBLISHED explained, then 202)", async () => {
    await pageA.getByRole("button", { name: "History" }).click(); // back to the step panel
    await node(pageA, "hook").click();
    const info = pageA.getByTestId("webhook-info");
    const path_ = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { webhookPath } }`, { id: workflowId }, ada.token)).workflow.webhookPath as string;
    expect(path_).toMatch(new RegExp(`^/hooks/${workflowId}/[0-9a-f]{32,}$`));
    await until(info.getByTestId("webhook-url"), textOf, `POST ${stack.url}${path_}`);

    await contextA.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
    await info.getByRole("button", { name: "Copy" }).click();
    await info.getByRole("button", { name: "Copied" }).waitFor();
    expect(await pageA.evaluate(() => navigator.clipboard.readText())).toBe(`${stack.url}${path_}`);

    // Bad JSON: said as it is typed, and nothing is sent.
    const body = info.getByTestId("webhook-test-body");
    await body.fill('{ "order": ');
    await info.getByRole("alert").filter({ hasText: "Not valid JSON" }).waitFor();
    expect(await info.getByRole("button", { name: "Send test request" }).isDisabled()).toBe(true);
    await body.fill('{ "order": 42 }');

    // Never published: the webhook refuses, and the panel says what to do.
    await info.getByRole("button", { name: "Send test request" }).click();
    await until(info.getByTestId("webhook-test-status"), textOf, "HTTP 409");
    expect(await info.getByTestId("webhook-test-hint").textContent()).toContain("Publish it");
    expect(await info.getByTestId("webhook-test-answer").textContent()).toContain("NOT_PUBLISHED");
    await info.scrollIntoViewIfNeeded();
    await pageA.screenshot({ path: path.join(screenshots, "trigger-webhook-not-published.png") });

    await publishWorkflow(stack.url, ada.token, workflowId, "First release");
    await info.getByRole("button", { name: "Send test request" }).click();
    await until(info.getByTestId("webhook-test-status"), textOf, "HTTP 202");
    const answer = JSON.parse((await info.getByTestId("webhook-test-answer").locator("pre").textContent()) ?? "{}");
    expect(answer.runId).toMatch(/^run_/);
    const run = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { trigger input } }`, { id: answer.runId }, ada.token)).run;
    expect(run).toMatchObject({ trigger: "webhook", input: { body: { order: 42 } } });
    await info.getByTestId("webhook-test-answer").scrollIntoViewIfNeeded();
    await pageA.screenshot({ path: path.join(screenshots, "trigger-webhook.png") });
  }, 60_000);

  it("defect 2: the cron trigger says its schedule in words with the next 5 runs in its time zone; an invalid expression is an inline error as it is typed", async () => {
    await node(pageA, "tick").click();
    const info = pageA.getByTestId("cron-info");
    await until(info.getByTestId("cron-summary"), textOf, "Every 5 minutes");
    expect(await info.textContent()).toContain("Next runs, in Europe/Paris");
    const times = await info.getByTestId("cron-next").locator("li").evaluateAll((items) => items.map((item) => ({ at: item.getAttribute("data-at")!, text: item.textContent ?? "" })));
    expect(times).toHaveLength(5);
    const at = times.map((t) => new Date(t.at).getTime());
    expect(at[0]! - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    expect(at[0]!).toBeGreaterThan(Date.now() - 60_000);
    for (const [i, time] of at.entries()) {
      expect(new Date(time).getUTCMinutes() % 5).toBe(0);
      expect(new Date(time).getUTCSeconds()).toBe(0);
      if (i > 0) expect(time - at[i - 1]!).toBe(5 * 60_000);
    }
    // Shown in the trigger's zone: Paris is UTC+1 in winter, UTC+2 in summer.
    const paris = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(at[0]!));
    expect(times[0]!.text).toContain(paris);
    expect(times[0]!.text).toMatch(/CET|CEST|GMT\+[12]/);

    // "At 09:00 on Monday", typed into the co-edited field; then a value out of range, reported at once.
    const cron = pageA.getByLabel("Cron expression", { exact: true });
    await cron.fill("0 9 * * 1");
    await until(info.getByTestId("cron-summary"), textOf, "At 09:00 on Monday");
    const mondays = await info.getByTestId("cron-next").locator("li").evaluateAll((items) => items.map((item) => item.textContent ?? ""));
    expect(mondays).toHaveLength(5);
    for (const text of mondays) expect(text).toMatch(/^Mon, .* 09:00 CES?T$/);
    await info.scrollIntoViewIfNeeded();
    await pageA.screenshot({ path: path.join(screenshots, "trigger-cron.png") });
    await cron.fill("61 * * * *");
    await info.getByTestId("cron-error").waitFor();
    expect(await info.getByTestId("cron-error").textContent()).toContain("Not a valid cron expression");
    await cron.fill("*/15 * * * *");
    await until(info.getByTestId("cron-summary"), textOf, "Every 15 minutes");
  }, 60_000);

  it("restoreVersion through the API saves the before-restore version too", async () => {
    const list = async () => ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { versions { id version label definition } } }`, { id: workflowId }, ada.token)).workflow.versions as { id: string; version: number; label: string; definition: { steps: { id: string }[] } }[];
    const baseline = (await list()).find((v) => v.label === "Baseline")!;
    ok(await gql(stack.url, `mutation($id: ID!) { restoreVersion(versionId: $id) { id } }`, { id: baseline.id }, ada.token));
    const [newest] = await list();
    expect(newest!.label).toBe("Before restoring v1 “Baseline”");
    expect(newest!.definition.steps.map((step) => step.id).sort()).toEqual(["hook", "later", "shape", "tick"]);
    expect(await liveStepIds()).toEqual(["hook", "shape", "tick"]);
    await untilCount(nodes(pageB), 3);
  }, 30_000);

  it("left no console errors", () => {
    // The 409 the test request provoked on purpose is logged by Chromium as a failed resource load.
    expect(consoleErrors.filter((error) => !error.includes("status of 409 (Conflict)"))).toEqual([]);
  });
});
