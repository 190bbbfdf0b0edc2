/**
 * #17 defect 5, "a manual run fires every trigger", in Chromium: a workflow with a manual trigger, a webhook
 * trigger, a cron trigger and a second, unconnected manual trigger. Run from the studio executes the manual
 * trigger's branch only (R4: a run starts at the trigger that started it); choosing the other manual trigger in
 * "Start at" runs from that one. The trace shows which steps ran and nothing of the other triggers' branches.
 * Screenshot: tests/artifacts/run-start-manual.png.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkflow, type Account } from "../support/api.js";
import { textOf, until } from "../support/browser.js";
import { startEchoServer } from "../support/stack.js";
import { artifactsDir, openStudioSession, type StudioSession } from "../support/studio-session.js";

let session: StudioSession;
let page: Page;
let ada: Account;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let workflowId: string;
const consoleErrors: string[] = [];

const at = (x: number, y: number) => ({ x, y });
const post = (id: string, name: string, urlPath: string, position: { x: number; y: number }) => ({ id, type: "http.request", name, config: { method: "POST", url: `${echo.url}${urlPath}` }, position });

beforeAll(async () => {
  echo = await startEchoServer();
  session = await openStudioSession({ users: ["Ada"], viewports: [{ width: 1280, height: 800 }], consoleErrors });
  session.alsoClose(echo);
  [page] = session.pages as [Page];
  [ada] = session.users as [Account];
  workflowId = (
    await createWorkflow(session.stack.url, ada.token, ada.workspaceId, "Four triggers", {
      schemaVersion: 1,
      name: "Four triggers",
      description: "",
      steps: [
        { id: "manual", type: "trigger.manual", name: "Start", config: {}, position: at(0, 0) },
        { id: "hook", type: "trigger.webhook", name: "Order webhook", config: {}, position: at(0, 160) },
        { id: "nightly", type: "trigger.cron", name: "Nightly", config: { cron: "0 3 * * *" }, position: at(0, 320) },
        { id: "other", type: "trigger.manual", name: "Backfill", config: {}, position: at(0, 480) },
        post("fromManual", "Manual branch", "/manual", at(300, 0)),
        post("fromHook", "Webhook branch", "/hook", at(300, 160)),
        post("fromCron", "Cron branch", "/cron", at(300, 320)),
      ],
      edges: [
        { id: "e1", source: "manual", target: "fromManual" },
        { id: "e2", source: "hook", target: "fromHook" },
        { id: "e3", source: "nightly", target: "fromCron" },
      ],
    })
  ).id;
}, 180_000);
afterAll(async () => {
  await session?.close();
});

/** Runs from the editor and waits on the trace page until the run has finished; returns each shown step's display state. */
async function runFromEditor(): Promise<Record<string, string>> {
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByTestId("open-trace").click();
  await page.waitForURL(/\/runs\/[^/]+$/);
  await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
  const rows = await page.locator("[data-testid^='trace-step-']").evaluateAll((rows) => rows.map((row) => [row.getAttribute("data-testid")!.replace("trace-step-", ""), row.getAttribute("data-display")!] as const));
  return Object.fromEntries(rows);
}

describe("a run from the studio starts at the trigger that started it (#17 defect 5, R4)", () => {
  it("Run executes the manual trigger's branch only: no webhook, cron or second manual trigger, no request of their branches", async () => {
    await page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected", 15_000);
    expect(await page.getByLabel("Start at", { exact: true }).inputValue()).toBe("manual");
    const shown = await runFromEditor();
    expect(shown).toEqual({ manual: "succeeded", fromManual: "succeeded", hook: "skipped", nightly: "skipped", other: "skipped", fromHook: "skipped", fromCron: "skipped" });
    expect(echo.requests.map((request) => request.url)).toEqual(["/manual"]);
    await page.screenshot({ path: path.join(artifactsDir, "run-start-manual.png") });
  });

  it("choosing the other manual trigger in Start at runs from that one alone", async () => {
    await page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected", 15_000);
    await page.getByLabel("Start at", { exact: true }).selectOption("other");
    const before = echo.requests.length;
    const shown = await runFromEditor();
    expect(shown).toEqual({ other: "succeeded", manual: "skipped", hook: "skipped", nightly: "skipped", fromManual: "skipped", fromHook: "skipped", fromCron: "skipped" });
    expect(echo.requests.length).toBe(before);
  });

  it("left no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
