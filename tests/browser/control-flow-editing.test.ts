/**
 * Control flow in the studio (#15), in Chromium with two people on one workflow: a loop's body is grouped on
 * the canvas (a tinted box computed from the graph, following edits), switch branch edges carry their keys
 * and a new connection from a switch takes the branch of the handle it leaves from, error edges are labelled
 * "error" in red, the step panel's onError select and the workflow settings are co-edited (plain values in
 * the Y.Doc); and an approval is approved from the run page's inbox (the workflow page shows it waiting).
 * Screenshots go to tests/artifacts/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, publishWorkflow, type Account } from "../support/api.js";
import { textOf, until, untilCount, valueOf } from "../support/browser.js";
import { startEchoServer, waitFor } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
let session: StudioSession;
let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let pageA: Page;
let pageB: Page;
let ada: Account;
let bea: Account;
let flowId = "";
let approvalFlowId = "";
let alertsId = "";
const consoleErrors: string[] = [];

const node = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const edgeLabels = (page: Page) => page.locator(".react-flow__edge-text").allTextContents();
const http = (id: string, name: string, x: number, y: number, extra: Record<string, unknown> = {}) => ({
  id,
  type: "http.request",
  name,
  config: { method: "GET", url: `${echo.url}/${id}` },
  position: { x, y },
  ...extra,
});

async function openEditor(page: Page, workflowId: string, steps: number) {
  await page.goto(`${stack.url}/workflows/${workflowId}`);
  await until(page.getByTestId("connection-status"), textOf, "connected");
  await untilCount(page.locator(".react-flow__node:not(.ghost-node):not(.loop-group-node)"), steps);
}

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error("not drawn");
  return found;
}
const inside = (inner: { x: number; y: number; width: number; height: number }, outer: { x: number; y: number; width: number; height: number }) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

/** Drags a connection from a step's source handle (by label) to another step's input, as a person does. */
async function connect(page: Page, from: string, handle: string, to: string) {
  // The unlabelled output has no handle id.
  const start = await box(node(page, from).locator(handle ? `.react-flow__handle.source[data-handleid="${handle}"]` : ".react-flow__handle.source:not([data-handleid])"));
  const end = await box(node(page, to).locator(".react-flow__handle.target"));
  await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
  await page.mouse.down();
  await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2, { steps: 5 });
  await page.mouse.move(end.x + end.width / 2, end.y + end.height / 2, { steps: 5 });
  await page.mouse.up();
}

beforeAll(async () => {
  [session, echo] = await Promise.all([openStudioSession({ users: ["Ada", "Bea"], viewports: [{ width: 1440, height: 900 }, { width: 1440, height: 900 }], consoleErrors }), startEchoServer()]);
  session.alsoClose(echo);
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  alertsId = (await createWorkflow(stack.url, ada.token, ada.workspaceId, "Alerts")).id;
  const flow = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order routing", {
    schemaVersion: 1,
    name: "Order routing",
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 150 } },
      { id: "each", type: "loop", name: "Each order", config: { items: "input.orders" }, position: { x: 240, y: 150 } },
      http("check", "Check stock", 480, 300),
      http("reserve", "Reserve", 720, 300),
      { id: "route", type: "switch", name: "Route", config: { cases: [{ key: "big", expression: "$count(input.orders) > 2" }] }, position: { x: 520, y: 40 } },
      http("bulk", "Bulk order", 800, -40, { onError: "branch" }),
      http("single", "Single order", 800, 110),
      http("alert", "Alert ops", 1060, -40),
    ],
    edges: [
      { id: "e-start", source: "start", target: "each" },
      { id: "e-body", source: "each", target: "check", label: "body" },
      { id: "e-check", source: "check", target: "reserve" },
      { id: "e-next", source: "each", target: "route" },
      { id: "e-big", source: "route", target: "bulk", label: "big" },
      { id: "e-default", source: "route", target: "single", label: "default" },
      { id: "e-error", source: "bulk", target: "alert", label: "error" },
    ],
  });
  flowId = flow.id;
  const approval = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Ship with approval", {
    schemaVersion: 1,
    name: "Ship with approval",
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "ok", type: "approval", name: "Ship it?", config: { title: "Ship order 42?", instructions: "Check the address first." }, position: { x: 260, y: 0 } },
      http("ship", "Ship", 520, 0),
    ],
    edges: [
      { id: "e1", source: "start", target: "ok" },
      { id: "e2", source: "ok", target: "ship" },
    ],
  });
  approvalFlowId = approval.id;
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-flow-"));
afterAll(() => session?.close());

describe("studio: control flow editing (#15)", () => {
  it("groups a loop's body behind its steps, and the group follows the graph", async () => {
    await Promise.all([openEditor(pageA, flowId, 8), openEditor(pageB, flowId, 8)]);
    const group = pageA.getByTestId("loop-body-each");
    await group.waitFor();
    expect((await group.getAttribute("data-steps"))?.split(",").sort()).toEqual(["check", "reserve"]);
    expect(await group.textContent()).toContain("Each order: body");
    const area = await box(group);
    for (const id of ["check", "reserve"]) expect(inside(await box(node(pageA, id)), area)).toBe(true);
    for (const id of ["each", "route", "bulk", "single"]) expect(inside(await box(node(pageA, id)), area)).toBe(false);
    await shot(pageA, "canvas-loop-switch-error");

    // Bea connects "Single order" after "Reserve": reachable from the body, so it joins the body for Ada too.
    await connect(pageB, "reserve", "", "single");
    await until(pageA.getByTestId("loop-body-each"), async (l) => ((await l.getAttribute("data-steps")) ?? "").split(",").sort().join(","), "check,reserve,single");
    // Bea undoes it: the body shrinks back.
    await pageB.getByRole("button", { name: "Undo" }).click();
    await until(pageA.getByTestId("loop-body-each"), async (l) => ((await l.getAttribute("data-steps")) ?? "").split(",").sort().join(","), "check,reserve");
  }, 60_000);

  it("labels body, switch branch and error edges; error edges are red", async () => {
    const labels = await edgeLabels(pageA);
    for (const label of ["body", "big", "default", "error"]) expect(labels).toContain(label);
    const errorEdge = pageA.locator('.react-flow__edge[data-id="e-error"]');
    expect(await errorEdge.getAttribute("class")).toContain("error-edge");
    const stroke = await errorEdge.locator(".react-flow__edge-path").evaluate((path) => getComputedStyle(path).stroke);
    expect(stroke).toBe("rgb(180, 35, 24)");
    // The switch offers one output per case plus default; the loop its body and next; the erroring step an error output.
    const handles = (id: string) => node(pageA, id).locator(".react-flow__handle.source").evaluateAll((els) => els.map((el) => el.getAttribute("data-handleid") ?? ""));
    expect(await handles("route")).toEqual(["big", "default"]);
    expect(await handles("each")).toEqual(["body", ""]);
    expect(await handles("bulk")).toEqual(["", "error"]);
  }, 30_000);

  it("a new switch case appears as a branch for everyone; connecting from it labels the edge with its key", async () => {
    await node(pageB, "route").click();
    // Each case is a row of co-typed fields (L11): add one, then type its key and expression.
    await pageB.getByRole("button", { name: "Add case" }).click();
    await pageB.getByLabel("Case 2 key", { exact: true }).fill("vip");
    await pageB.getByLabel("Case 2 expression", { exact: true }).fill("input.vip = true");
    await pageB.getByLabel("Case 2 expression", { exact: true }).blur();
    await node(pageA, "route").locator('.react-flow__handle.source[data-handleid="vip"]').waitFor({ timeout: 5_000 });
    expect(await node(pageA, "route").locator(".branch-handles").textContent()).toContain("vip");

    await connect(pageA, "route", "vip", "alert");
    for (const page of [pageA, pageB]) await waitFor("the vip edge", async () => (await edgeLabels(page)).includes("vip"), 5_000);
    await shot(pageB, "canvas-switch-branch-connected");
  }, 30_000);

  it("onError is chosen in the step panel and everyone sees the step's error output", async () => {
    await node(pageA, "check").click();
    const select = pageA.getByLabel("On error");
    expect(await valueOf(select)).toBe("fail");
    await select.selectOption({ label: "Follow error edge" });
    await node(pageA, "check").locator('.react-flow__handle.source[data-handleid="error"]').waitFor({ timeout: 3_000 });
    await node(pageB, "check").locator('.react-flow__handle.source[data-handleid="error"]').waitFor({ timeout: 5_000 });
    await node(pageB, "check").click();
    await until(pageB.getByLabel("On error"), valueOf, "branch");
    await pageB.getByLabel("On error").selectOption({ label: "Continue" });
    await untilCount(node(pageA, "check").locator('.react-flow__handle.source[data-handleid="error"]'), 0, 5_000);
    await until(pageA.getByLabel("On error"), valueOf, "continue");
    await shot(pageA, "step-panel-on-error");
  }, 30_000);

  it("workflow settings (max concurrent runs, error workflow) are shared live", async () => {
    await pageA.getByRole("button", { name: "Settings" }).click();
    await pageB.getByRole("button", { name: "Settings" }).click();
    const settingsA = pageA.getByTestId("workflow-settings");
    const settingsB = pageB.getByTestId("workflow-settings");
    await settingsA.getByLabel("Max concurrent runs").fill("3");
    await settingsA.getByLabel("Error workflow").selectOption({ label: "Alerts" });
    await until(settingsB.getByLabel("Max concurrent runs"), valueOf, "3", 5_000);
    await until(settingsB.getByLabel("Error workflow"), valueOf, alertsId, 5_000);
    // Out of range: said, not stored.
    await settingsB.getByLabel("Max concurrent runs").fill("5000");
    await settingsB.getByText("A whole number from 1 to 1000").waitFor();
    await shot(pageB, "workflow-settings");
    await settingsB.getByLabel("Max concurrent runs").fill("");
    await until(settingsA.getByLabel("Max concurrent runs"), valueOf, "", 5_000);
    await pageA.getByRole("button", { name: "Settings" }).click();
    await pageB.getByRole("button", { name: "Settings" }).click();
  }, 30_000);

  it("a run of the loop shows each iteration in the trace, named after its step", async () => {
    await openEditor(pageA, flowId, 8);
    await pageA.getByLabel("Run input").fill(JSON.stringify({ orders: [{ id: 1 }, { id: 2 }] }));
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 30_000);
    const trace = (await pageA.locator(".trace").textContent()) ?? "";
    for (const name of ["Check stock [0]", "Check stock [1]", "Reserve [0]", "Reserve [1]", "Single order"]) expect(trace).toContain(name);
    await shot(pageA, "trace-loop-iterations");
  }, 60_000);

  it("an approval waits on the run page, shows on the workflow page, and is approved with a comment", async () => {
    await openEditor(pageA, approvalFlowId, 3);
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").waitFor();
    const runUrl = await pageA.getByTestId("open-trace").getAttribute("href");

    // Bea, on the workflow page, sees the approval waiting (live) and follows it to the run.
    await openEditor(pageB, approvalFlowId, 3);
    const badge = pageB.getByTestId("approvals-badge");
    await until(badge, textOf, "1 approval waiting", 15_000);
    await shot(pageB, "editor-approval-badge");

    await pageA.goto(`${stack.url}${runUrl}`);
    const inbox = pageA.getByTestId("approval-inbox");
    const item = inbox.getByTestId("approval-ok");
    await item.waitFor({ timeout: 15_000 });
    expect(await item.textContent()).toContain("Ship order 42?");
    expect(await item.textContent()).toContain("Check the address first.");
    expect(echo.requests.some((r) => r.url === "/ship")).toBe(false);
    await item.getByLabel("Comment (optional)").fill("Address checked");
    // Data that is not JSON is refused with a message; nothing is decided.
    const data = item.getByLabel("Data for the next steps (optional JSON)");
    await data.fill("{ not json");
    await item.getByRole("button", { name: "Approve" }).click();
    await item.getByText("Enter valid JSON, or leave it empty").waitFor({ timeout: 5_000 });
    expect(await textOf(pageA.getByTestId("trace-run-status"))).toBe("running");
    await data.fill('{ "carrier": "post" }');
    await shot(pageA, "run-approval-inbox");
    await item.getByRole("button", { name: "Approve" }).click();

    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    const decided = inbox.getByTestId("approval-decided-ok");
    await decided.waitFor({ timeout: 5_000 });
    expect(await decided.textContent()).toContain("approved");
    expect(await decided.textContent()).toContain("Address checked");
    expect(echo.requests.filter((r) => r.url === "/ship")).toHaveLength(1);
    const { run } = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { approvals { decision comment data decidedBy { name } } } }`, { id: runUrl!.split("/").pop() }, ada.token));
    expect(run.approvals).toEqual([{ decision: "approved", comment: "Address checked", data: { carrier: "post" }, decidedBy: { name: "Ada" } }]);
    await untilCount(pageA.getByTestId("approval-ok"), 0);
    await shot(pageA, "run-approval-decided");
    // The badge goes away for Bea without a reload.
    await untilCount(pageB.getByTestId("approvals-badge"), 0, 10_000);
  }, 90_000);

  it("a workflow.call run links to its child run, and the child back to its parent", async () => {
    const child = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Lookup", {
      schemaVersion: 1,
      name: "Lookup",
      description: "",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        http("lookup", "Look up", 260, 0),
      ],
      edges: [{ id: "e1", source: "start", target: "lookup" }],
    });
    await publishWorkflow(stack.url, ada.token, child.id);
    const parent = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Caller", {
      schemaVersion: 1,
      name: "Caller",
      description: "",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        { id: "call", type: "workflow.call", name: "Call lookup", config: { workflowId: child.id }, position: { x: 260, y: 0 } },
      ],
      edges: [{ id: "e1", source: "start", target: "call" }],
    });
    const { startRun } = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: parent.id, input: {} } }, ada.token));
    await pageA.goto(`${stack.url}/runs/${startRun.id}`);
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 30_000);
    await pageA.reload();
    const children = pageA.getByTestId("child-runs");
    await children.waitFor();
    expect(await children.textContent()).toContain("from Call lookup");
    await children.getByRole("link").first().click();
    await pageA.waitForURL((url) => !url.pathname.endsWith(startRun.id));
    await until(pageA.getByTestId("parent-run"), textOf, `${startRun.id} (step call)`);
    await shot(pageA, "run-child-of-call");
  }, 60_000);

  it("left no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
