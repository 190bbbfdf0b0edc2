/**
 * Testing workflows in the studio (#16; docs/run-engine.md R47–R50), in Chromium on a real stack: test a
 * transform step on typed JSON (with a JSON error as you type), test a side-effecting step after confirming,
 * pin its output (the node shows the pin, in a second editor window too, live; a draft run's trace marks the
 * step pinned and the request is not sent again), run test cases, and see a failing case block publishing.
 */
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, type Account } from "../support/api.js";
import { textOf, until, untilCount } from "../support/browser.js";
import { startEchoServer } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let session: StudioSession;
let context: BrowserContext;
let page: Page;
let ada: Account;
let workflowId = "";
const consoleErrors: string[] = [];
const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });
const whoRequests = () => echo.requests.filter((request) => request.url === "/who").length;

beforeAll(async () => {
  [session, echo] = await Promise.all([openStudioSession({ users: ["Ada"], viewports: [{ width: 1440, height: 900 }], consoleErrors }), startEchoServer()]);
  session.alsoClose(echo);
  ({ stack } = session);
  [ada] = session.users as [Account];
  [page] = session.pages as [Page];
  context = session.contexts[0]!;
  const flow = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Greeter", {
    schemaVersion: 1,
    name: "Greeter",
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: `${echo.url}/who` }, position: { x: 260, y: 0 } },
      { id: "shape", type: "transform", name: "Shape", config: { expression: "'Hi ' & input.name" }, position: { x: 520, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "fetch" },
      { id: "e2", source: "fetch", target: "shape" },
    ],
    testCases: [{ id: "tc_formal", name: "greets formally", input: { name: "Ada" }, assertions: [{ kind: "equals", expected: { shape: "Good day Ada" } }] }],
  });
  workflowId = flow.id;
  await page.goto(`${stack.url}/workflows/${workflowId}`);
  await until(page.getByTestId("connection-status"), textOf, "connected");
  await untilCount(page.locator(".react-flow__node:not(.ghost-node)"), 3);
}, 240_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-testing-"));
afterAll(() => session?.close());

describe("testing workflows in the studio", () => {
  it("R49: tests a transform step on typed JSON and shows its output; a JSON error shows as you type", async () => {
    await node("shape").click();
    const panel = page.getByTestId("step-test");
    await panel.getByLabel("Sample input").selectOption("typed");
    const input = panel.getByTestId("step-test-input");
    await input.fill('{ "input": { "name": ');
    await until(panel.getByTestId("step-test-json-error"), async (l) => ((await textOf(l))?.startsWith("Not JSON") ? "shown" : null), "shown");
    expect(await panel.getByTestId("step-test-run").isDisabled()).toBe(true);
    await input.fill('{ "input": { "name": "Ada" }, "steps": {} }');
    await untilCount(panel.getByTestId("step-test-json-error"), 0);
    await panel.getByTestId("step-test-run").click();
    await until(panel.getByTestId("step-test-output"), textOf, '"Hi Ada"', 30_000);
    expect(await textOf(panel.getByTestId("step-test-duration"))).toMatch(/^\d+ ms$/);
    await shot("step-test-transform");
  }, 60_000);

  it("R49 R47: a side-effecting step asks first; its output is pinned; a draft run uses the pin and the trace says pinned", async () => {
    await node("fetch").click();
    const panel = page.getByTestId("step-test");
    await panel.getByTestId("step-test-run").click();
    const confirm = panel.getByTestId("step-test-confirm");
    await confirm.waitFor({ timeout: 30_000 });
    expect(await confirm.textContent()).toMatch(/side effects/);
    expect(whoRequests()).toBe(0);
    await confirm.getByRole("button", { name: "Run it anyway" }).click();
    await until(panel.getByTestId("step-test-output"), async (l) => ((await textOf(l))?.includes('"status": 200') ? "ok" : null), "ok", 30_000);
    expect(whoRequests()).toBe(1);

    // A second editor window (its own collab connection) sees the pin arrive live.
    const other = await context.newPage();
    await other.goto(`${stack.url}/workflows/${workflowId}`);
    await until(other.getByTestId("connection-status"), textOf, "connected");
    await untilCount(other.locator('.react-flow__node[data-id="fetch"]'), 1);
    expect(await other.locator('.react-flow__node[data-id="fetch"]').getByTestId("pin-badge").count()).toBe(0);

    await panel.getByTestId("step-test-pin").click();
    await node("fetch").getByTestId("pin-badge").waitFor();
    await other.locator('.react-flow__node[data-id="fetch"]').getByTestId("pin-badge").waitFor({ timeout: 10_000 });
    await other.close();
    await panel.getByTestId("pinned-output").waitFor();
    await shot("step-test-pinned");

    await page.getByRole("button", { name: "Run", exact: true }).click();
    await until(page.getByTestId("run-status"), textOf, "succeeded", 30_000);
    expect(whoRequests()).toBe(1); // the pinned step was not executed
    const href = await page.getByTestId("open-trace").getAttribute("href");
    await page.goto(`${stack.url}${href}`);
    await page.getByTestId("trace-step-fetch").click();
    await page.getByTestId("step-pinned").waitFor();
    await shot("trace-pinned-step");
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
  }, 90_000);

  it("R50: runs the test cases (the failing one links to its run), and a failing case blocks publishing", async () => {
    const cases = page.getByTestId("test-cases");
    await cases.getByTestId("test-case-tc_formal").waitFor();
    await cases.getByRole("button", { name: "Run test cases" }).click();
    await until(cases.getByTestId("test-case-result-tc_formal"), textOf, "failed", 60_000);
    expect(await cases.getByTestId("test-case-tc_formal").textContent()).toContain('expected the run\'s output to equal {"shape":"Good day Ada"}');
    expect(await cases.getByTestId("test-case-tc_formal").getByRole("link", { name: "run" }).getAttribute("href")).toMatch(/^\/runs\/run_/);
    await shot("test-cases-failed");

    await page.getByRole("button", { name: "Publish…" }).click();
    const dialog = page.getByTestId("publish-dialog");
    await dialog.getByLabel("Message").fill("First release");
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await until(dialog.getByTestId("publish-error"), async (l) => ((await textOf(l))?.includes("test case failed") ? "blocked" : null), "blocked", 60_000);
    await shot("publish-blocked-by-test-cases");
    expect(await textOf(page.getByTestId("publish-state"))).toContain("Not published");
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
