/**
 * #17 UX-6, the runs list and the run trace in Chromium:
 * - defect 7: a canceled step reads "canceled" (grey, striped), not "failed" (red); a re-run's reused steps read
 *   "reused" with a note across the track instead of an empty bar — in the waterfall and the step detail;
 * - defect 8: the runs list names steps (a re-run "from Check stock", errors without ids), cuts a long error at a
 *   word with an ellipsis, and shows the whole error on hover and on keyboard focus;
 * - filters (status, search) kept in the URL: the filtered link opens the same list for a second member; a bad
 *   filter is a 400 page that says what to fix; a run link opens for a member, 404 for an outsider;
 * - the approval inbox checks its JSON as it is typed, and a corrected text drops the error at once;
 * - a nested child run whose trigger and first step started in the same millisecond lists the trigger first.
 * Screenshots: tests/artifacts/screenshots/runs-list.png, runs-list-error-tooltip.png, run-trace-canceled.png,
 * run-trace-reused.png, approval-inbox-json.png.
 */
import { mkdirSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, publishWorkflow, signUp, type Account } from "../support/api.js";
import { launchBrowser, recordConsoleErrors, textOf, until, untilCount } from "../support/browser.js";
import { listenOnLoopback } from "../support/http.js";
import { startTestStack, waitFor } from "../support/stack.js";

const screenshots = path.resolve("tests/artifacts/screenshots");
let stack: Stack;
let browser: Browser;
let page: Page;
let ada: Account;
let bob: Account;
const consoleErrors: string[] = [];

/** The steps' HTTP server: `/hold` answers only once released (or never, for a canceled run), anything else at once. */
const held: ServerResponse[] = [];
let gate: Awaited<ReturnType<typeof listenOnLoopback>>;
const answer = (response: ServerResponse) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));

const LONG_ERROR =
  "The warehouse inventory service rejected the reservation because the requested quantity exceeds the available stock for every configured location";
const start = { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } };
const http = (id: string, name: string, urlPath: string, x: number) => ({ id, type: "http.request", name, config: { method: "GET", url: `${gate.url}${urlPath}` }, position: { x, y: 0 } });
const chain = (ids: string[]) => ids.slice(1).map((target, i) => ({ id: `e${i}`, source: ids[i]!, target }));
const definition = (name: string, steps: object[], ids: string[]) => ({ schemaVersion: 1, name, description: "", steps, edges: chain(ids) });

const RUN_STATUS = `query($id: ID!) { run(id: $id) { status } }`;
async function startRun(workflowId: string, input: unknown = {}): Promise<string> {
  return ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input } }, ada.token)).startRun.id as string;
}
const finished = (runId: string) =>
  waitFor(`run ${runId} to finish`, async () => {
    const status = ok(await gql(stack.url, RUN_STATUS, { id: runId }, ada.token)).run.status as string;
    return ["succeeded", "failed", "canceled"].includes(status) ? status : null;
  }, 30_000);
const shot = (target: Page, name: string) => target.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

async function logIn(context: BrowserContext, account: Account): Promise<Page> {
  const loggedIn = await context.newPage();
  await loggedIn.goto(`${stack.url}/login`);
  await loggedIn.getByLabel("Email").fill(account.email);
  await loggedIn.getByLabel("Password").fill(account.password);
  await loggedIn.getByRole("button", { name: "Log in" }).click();
  await loggedIn.waitForURL(/\/workflows$/);
  return loggedIn;
}

// The runs the tests look at, made once: a canceled run, a failed run and its re-run.
let ordersId = "";
let canceledRun = "";
let failedRun = "";
let rerun = "";

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  gate = await listenOnLoopback(createServer((request, response) => (request.url?.startsWith("/hold") ? held.push(response) : answer(response))));
  [stack, browser] = await Promise.all([startTestStack({ studio: true }), launchBrowser()]);
  [ada, bob] = await Promise.all([signUp(stack.url, "Ada"), signUp(stack.url, "Bob")]);
  await invite(stack.url, ada, ada.workspaceId, bob, "viewer");

  // A run canceled while its second step waits on the held request: that step and the one after it are stopped.
  const heldFlow = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Held order", definition("Held order", [start, http("fetch", "Fetch orders", "/hold", 260), http("notify", "Notify team", "/ok", 520)], ["start", "fetch", "notify"]));
  canceledRun = await startRun(heldFlow.id);
  await waitFor("the held request", async () => held.length > 0, 30_000);
  ok(await gql(stack.url, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: canceledRun }, ada.token));

  // A run that fails at "Check stock" with a long error, then a re-run from that step (its earlier steps reused).
  const orders = await createWorkflow(
    stack.url,
    ada.token,
    ada.workspaceId,
    "Orders",
    definition("Orders", [start, http("fetch", "Fetch orders", "/ok", 260), { id: "check", type: "code", name: "Check stock", config: { code: `throw new Error(${JSON.stringify(LONG_ERROR)});` }, position: { x: 520, y: 0 } }], ["start", "fetch", "check"]),
  );
  ordersId = orders.id;
  failedRun = await startRun(orders.id, { customer: "Ada Lovelace" });
  expect(await finished(failedRun)).toBe("failed");
  rerun = ok(await gql(stack.url, `mutation($input: RetryRunInput!) { retryRun(input: $input) { id } }`, { input: { runId: failedRun, fromStepId: "check", input: { code: "return { ok: true };" } } }, ada.token)).retryRun.id;
  expect(await finished(rerun)).toBe("succeeded");
  expect(await finished(canceledRun)).toBe("canceled");

  page = await logIn(await browser.newContext({ viewport: { width: 1280, height: 900 } }), ada);
  page.setDefaultTimeout(10_000); // a missing element fails its own line, not the test's timeout
  recordConsoleErrors(page, consoleErrors);
}, 180_000);

afterAll(async () => {
  held.splice(0).forEach(answer);
  await browser?.close();
  await stack?.close();
  await gate?.close();
});

describe("the run trace: canceled and reused steps drawn as such (defect 7)", () => {
  it("a canceled run: the stopped step and the one never started read canceled, grey, with what happened", async () => {
    await page.goto(`${stack.url}/runs/${canceledRun}`);
    const fetch = page.getByTestId("trace-step-fetch");
    await until(fetch, (l) => l.getAttribute("data-display", { timeout: 1_000 }), "canceled", 15_000);
    expect(await fetch.locator(".badge").textContent()).toBe("canceled");
    expect(await fetch.locator(".waterfall-bar").getAttribute("class")).toContain("status-canceled");
    const barColour = await fetch.locator(".waterfall-bar").evaluate((bar) => getComputedStyle(bar).backgroundImage);
    expect(barColour).toContain("repeating-linear-gradient"); // striped grey, not the failed red
    expect(await page.getByTestId("trace-step-notify").locator(".badge").textContent()).toBe("canceled");
    // The detail pane opens on the stopped step and says so plainly; the run's reason is no red alert.
    expect(await page.getByTestId("step-detail-status").textContent()).toBe("canceled");
    expect(await textOf(page.getByTestId("step-canceled-note"))).toBe("Stopped when the run was canceled.");
    expect(await page.getByTestId("step-detail").getByRole("alert").count()).toBe(0);
    expect(await page.getByTestId("run-error").getAttribute("class")).toContain("run-note");
    await page.getByTestId("trace-step-notify").click();
    expect(await textOf(page.getByTestId("step-canceled-note"))).toBe("Never started: the run was canceled first.");
    await page.getByTestId("trace-step-fetch").click();
    await shot(page, "run-trace-canceled");
  });

  it("a re-run: the reused steps read reused, with a note instead of an empty bar, and link to the earlier run", async () => {
    await page.goto(`${stack.url}/runs/${rerun}`);
    const fetch = page.getByTestId("trace-step-fetch");
    await until(fetch, (l) => l.getAttribute("data-display", { timeout: 1_000 }), "reused", 15_000);
    expect(await page.getByTestId("trace-step-start").getAttribute("data-display")).toBe("reused");
    expect(await fetch.locator(".badge").textContent()).toBe("reused");
    expect(await fetch.getByTestId("reused-track").textContent()).toBe("output reused from the earlier run");
    expect(await fetch.locator(".waterfall-bar").count()).toBe(0);
    expect(await page.getByTestId("trace-step-check").getAttribute("data-display")).toBe("succeeded");
    // The step that ran spans a real share of the run's axis (the earlier run's times are not on it).
    const track = (await page.getByTestId("trace-step-check").locator(".waterfall-track").boundingBox())!;
    const bar = (await page.getByTestId("trace-step-check").locator(".waterfall-bar").boundingBox())!;
    expect(bar.width).toBeGreaterThan(track.width * 0.2);
    await fetch.click();
    expect(await page.getByTestId("step-detail-status").textContent()).toBe("reused");
    expect(await page.getByTestId("step-reused-note").textContent()).toContain("Not run again: this re-run reused the output of the earlier run");
    expect(await page.getByTestId("step-reused-note").getByRole("link").getAttribute("href")).toBe(`/runs/${failedRun}`);
    await shot(page, "run-trace-reused");
  });
});

describe("the runs list: step names, whole errors, filters in the URL, shareable links (defect 8)", () => {
  it("names the steps, cuts a long error at a word with an ellipsis, and shows it whole on hover and on focus", async () => {
    await page.goto(`${stack.url}/workflows/${ordersId}/runs`);
    await untilCount(page.getByTestId("runs-table").locator("tbody tr"), 2);
    expect(await textOf(page.getByTestId(`run-row-${rerun}`).getByTestId("run-rerun"))).toBe("re-run from Check stock");
    const error = page.getByTestId(`run-row-${failedRun}`).getByTestId("error-text");
    const tooltip = error.locator("[role=tooltip]"); // hidden until hover or focus: not in the accessibility tree yet
    const fullText = (await tooltip.textContent())!;
    expect(fullText.startsWith('Step "Check stock" failed: ')).toBe(true); // the name, and no "(check)"
    expect(fullText).toContain(LONG_ERROR);
    expect(fullText).not.toContain("(check)");
    // What shows is a prefix of the error ending at a word, then "…".
    const shown = (await error.evaluate((el) => el.firstChild?.textContent ?? ""))!;
    expect(shown.endsWith("…")).toBe(true);
    const cut = shown.slice(0, -1);
    expect(fullText.startsWith(cut)).toBe(true);
    expect(fullText[cut.length]).toMatch(/[\s,.;:]/);
    expect(await tooltip.isVisible()).toBe(false);
    await error.hover();
    await until(tooltip, async (l) => String(await l.isVisible()), "true");
    await page.mouse.move(0, 0);
    await until(tooltip, async (l) => String(await l.isVisible()), "false");
    await error.focus(); // reachable by Tab: it is focusable, and the tooltip is its description
    expect(await error.getAttribute("tabindex")).toBe("0");
    expect(await error.getAttribute("aria-describedby")).toBe(await tooltip.getAttribute("id"));
    await until(tooltip, async (l) => String(await l.isVisible()), "true");
    await shot(page, "runs-list-error-tooltip");
  });

  it("filters by status and search in the URL; a second member opens the same list and run; a bad filter says what to fix", async () => {
    await page.goto(`${stack.url}/workflows/${ordersId}/runs`);
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=failed/);
    await untilCount(page.getByTestId("runs-table").locator("tbody tr"), 1);
    expect(await page.getByTestId(`run-row-${failedRun}`).count()).toBe(1);
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Search").fill("lovelace");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=lovelace/);
    // The failed run's input holds the name; its re-run took the same input.
    await untilCount(page.getByTestId("runs-table").locator("tbody tr"), 2);
    await page.getByLabel("Search").fill(rerun);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(new RegExp(`q=${rerun}`));
    await untilCount(page.getByTestId("runs-table").locator("tbody tr"), 1);
    await shot(page, "runs-list");
    const shared = page.url();

    // Bob, a viewer of the workspace, opens the shared list and the run link: the same view.
    const bobContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const bobPage = await logIn(bobContext, bob);
    await bobPage.goto(shared);
    await untilCount(bobPage.getByTestId("runs-table").locator("tbody tr"), 1);
    expect(await bobPage.getByLabel("Search").inputValue()).toBe(rerun);
    await bobPage.getByTestId(`run-row-${rerun}`).getByRole("link", { name: rerun }).click();
    await bobPage.waitForURL(new RegExp(`/runs/${rerun}$`));
    await until(bobPage.getByTestId("trace-step-fetch"), (l) => l.getAttribute("data-display", { timeout: 1_000 }), "reused");

    // A bad filter in a hand-edited URL: a 400 page with the form and what to fix, no crash.
    const bad = await bobPage.goto(`${stack.url}/workflows/${ordersId}/runs?from=yesterday&status=done`);
    expect(bad?.status()).toBe(400);
    expect(await textOf(bobPage.getByTestId("run-filters-error"))).toBe('Unknown status "done": choose one of queued, running, succeeded, failed, canceled. From must be a date like 2026-12-01, not "yesterday"');
    expect(await bobPage.getByTestId("runs-table").count()).toBe(0);
    await bobContext.close();

    // Eve, no member: the run link is a plain 404 page.
    const eve = await signUp(stack.url, "Eve");
    const eveContext = await browser.newContext();
    const evePage = await logIn(eveContext, eve);
    const denied = await evePage.goto(`${stack.url}/runs/${rerun}`);
    expect(denied?.status()).toBe(404);
    expect(await textOf(evePage.getByRole("heading", { level: 1 }))).toBe("Not found");
    await eveContext.close();
  });
});

describe("approval inbox and nested child traces", () => {
  it("checks the approval's JSON as it is typed; a corrected text drops the error at once, then the decision goes through", async () => {
    const flow = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Ship", definition("Ship", [start, { id: "ok", type: "approval", name: "Ship it?", config: { title: "Ship order 42?" }, position: { x: 260, y: 0 } }], ["start", "ok"]));
    const runId = await startRun(flow.id);
    await page.goto(`${stack.url}/runs/${runId}`);
    const item = page.getByTestId("approval-ok");
    const data = item.getByLabel("Data for the next steps (optional JSON)");
    await data.waitFor({ timeout: 20_000 });
    await data.fill('{ "limit": ');
    await item.getByRole("button", { name: "Approve" }).click();
    await untilCount(item.locator(".field-error"), 1, 5_000);
    expect(await textOf(item.locator(".field-error"))).toMatch(/^Enter valid JSON, or leave it empty/);
    expect(await data.getAttribute("aria-invalid")).toBe("true");
    await shot(page, "approval-inbox-json");
    await data.fill('{ "limit": 500 }');
    await untilCount(item.locator(".field-error"), 0, 2_000); // at once, without sending anything
    expect(await data.getAttribute("aria-invalid")).toBeNull();
    await item.getByRole("button", { name: "Approve" }).click();
    await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
  });

  it("a nested child run's trigger comes before its first step when both started in the same millisecond", async () => {
    // "a_fetch" sorts before "start": the ledger's order (start time, then id) put it first.
    const child = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Lookup", definition("Lookup", [start, http("a_fetch", "Fetch order", "/ok", 260)], ["start", "a_fetch"]));
    await publishWorkflow(stack.url, ada.token, child.id);
    const parent = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Caller", definition("Caller", [start, { id: "call", type: "workflow.call", name: "Call lookup", config: { workflowId: child.id }, position: { x: 260, y: 0 } }], ["start", "call"]));
    const parentRun = await startRun(parent.id);
    expect(await finished(parentRun)).toBe("succeeded");
    const childRun = await stack.deps.db.run.findFirstOrThrow({ where: { parentRunId: parentRun }, select: { id: true } });
    // The tie, made certain: the first step's recorded start is the trigger's (they are milliseconds apart anyway).
    const trigger = await stack.deps.db.runStep.findFirstOrThrow({ where: { runId: childRun.id, stepId: "start" }, select: { startedAt: true } });
    await stack.deps.db.runStep.updateMany({ where: { runId: childRun.id, stepId: "a_fetch" }, data: { startedAt: trigger.startedAt } });
    await page.goto(`${stack.url}/runs/${parentRun}`);
    const nested = page.getByTestId(`child-trace-${childRun.id}`);
    await nested.getByRole("button", { name: /Child run/ }).click();
    const order = await nested.locator("[data-testid^=child-step-]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-testid")));
    expect(order).toEqual(["child-step-start", "child-step-a_fetch"]);
    expect(consoleErrors.filter((e) => !/status of 40[04]/.test(e))).toEqual([]);
  });
});
