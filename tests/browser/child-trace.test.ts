/**
 * #15 workflow.call, "the trace nests the child run's waterfall", in Chromium: the parent's run page shows the
 * child run's steps as indented bars under the call step, on the parent's time axis, live while the child runs
 * (a child step held by the test's server shows running, then succeeded, with no reload), with the child's
 * status, a fold toggle and a link to the child's page; a chain of calls nests three levels, then a link.
 * Screenshots: tests/artifacts/child-trace.png (and child-trace-running.png, child-trace-depth.png).
 */
import { createServer, type ServerResponse } from "node:http";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, publishWorkflow, type Account } from "../support/api.js";
import { textOf, until, untilCount } from "../support/browser.js";
import { listenOnLoopback } from "../support/http.js";
import { openStudioSession, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
let stack: Stack;
let session: StudioSession;
let page: Page;
let ada: Account;
const consoleErrors: string[] = [];

/** The child's HTTP step calls this server: `/hold` answers only once the test releases it, anything else at once. */
const held: ServerResponse[] = [];
let gate: Awaited<ReturnType<typeof listenOnLoopback>>;
const answer = (response: ServerResponse) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
const release = () => held.splice(0).forEach(answer);

const statusOf = (locator: Locator) => locator.getAttribute("data-status", { timeout: 1_000 });
const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
const http = (id: string, name: string, urlPath: string, x: number) => ({ id, type: "http.request", name, config: { method: "GET", url: `${gate.url}${urlPath}` }, position: { x, y: 0 } });
const start = { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } };
const call = (workflowId: string, name: string) => ({ id: "call", type: "workflow.call", name, config: { workflowId }, position: { x: 260, y: 0 } });
const chain = (ids: string[]) => ids.slice(1).map((target, i) => ({ id: `e${i}`, source: ids[i]!, target }));

async function startRun(workflowId: string, input: unknown = {}): Promise<string> {
  const { startRun } = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input } }, ada.token));
  return startRun.id as string;
}

/** The nested child run under the call step's bar (the call step's own list item). */
const nestedUnder = (stepId: string) => page.getByTestId(`trace-step-${stepId}`).locator("xpath=..").locator(":scope > .child-trace-list > .child-trace");

beforeAll(async () => {
  gate = await listenOnLoopback(createServer((request, response) => (request.url?.startsWith("/hold") ? held.push(response) : answer(response))));
  session = await openStudioSession({ users: ["Ada"], viewports: [{ width: 1280, height: 900 }], consoleErrors });
  session.alsoClose(gate);
  ({ stack } = session);
  [ada] = session.users as [Account];
  [page] = session.pages as [Page];
}, 180_000);

afterAll(async () => {
  release();
  if (session) await session.close();
  else await gate?.close();
});

describe("the child run's waterfall nested in the parent's trace (#15 workflow.call)", () => {
  it("shows the child's two steps under the call step, live, with the child's status, a fold toggle and a link", async () => {
    const child = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Lookup", {
      schemaVersion: 1,
      name: "Lookup",
      description: "",
      steps: [start, http("fetch", "Fetch order", "/hold", 260), http("tag", "Tag order", "/tag", 520)],
      edges: chain(["start", "fetch", "tag"]),
    });
    await publishWorkflow(stack.url, ada.token, child.id);
    const parent = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Caller", {
      schemaVersion: 1,
      name: "Caller",
      description: "",
      steps: [start, call(child.id, "Call lookup"), http("done", "Notify", "/done", 520)],
      edges: chain(["start", "call", "done"]),
    });
    const runId = await startRun(parent.id);
    await page.goto(`${stack.url}/runs/${runId}`);

    // While the child's first step is held, the page shows it running under the call step (expanded while running).
    const nested = nestedUnder("call");
    await until(nested.getByTestId("child-step-fetch"), statusOf, "running", 30_000);
    expect(await nested.getByTestId("child-trace-status").textContent()).toBe("running");
    expect(await page.getByTestId("trace-step-call").getAttribute("data-status")).toBe("waiting");
    expect(await nested.getByTestId("child-step-fetch").textContent()).toContain("Fetch order");
    expect(await nested.getByTestId("child-step-tag").count()).toBe(0);
    await shot("child-trace-running");

    // Released: the child's steps go on and finish on the open page, then the parent.
    release();
    await until(nested.getByTestId("child-step-fetch"), statusOf, "succeeded", 30_000);
    await until(nested.getByTestId("child-step-tag"), statusOf, "succeeded", 30_000);
    await until(nested.getByTestId("child-trace-status"), textOf, "succeeded", 30_000);
    await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 30_000);
    expect(await nested.getByTestId("child-step-tag").textContent()).toContain("Tag order");

    // Same time axis: the nested tracks are the parent's tracks, and the child's bars lie within the call step's bar.
    const box = async (locator: Locator) => (await locator.boundingBox())!;
    const parentTrack = await box(page.getByTestId("trace-step-call").locator(".waterfall-track"));
    const childTrack = await box(nested.getByTestId("child-step-fetch").locator(".waterfall-track"));
    expect(Math.abs(childTrack.x - parentTrack.x)).toBeLessThan(1);
    expect(Math.abs(childTrack.width - parentTrack.width)).toBeLessThan(1);
    const callBar = await box(page.getByTestId("trace-step-call").locator(".waterfall-bar"));
    const fetchBar = await box(nested.getByTestId("child-step-fetch").locator(".waterfall-bar"));
    const tagBar = await box(nested.getByTestId("child-step-tag").locator(".waterfall-bar"));
    expect(fetchBar.x).toBeGreaterThanOrEqual(callBar.x - 2);
    // An instant step keeps a minimum bar width (0.6% of the track, TraceBars.tsx), so the child's last bar may
    // reach that far past the call's end; a few pixels more allow for sub-pixel layout.
    const track = await box(page.getByTestId("trace-step-call").locator(".waterfall-track"));
    expect(tagBar.x + tagBar.width).toBeLessThanOrEqual(callBar.x + callBar.width + track.width * 0.006 + 4);
    // Indented: the nested label starts right of the parent's.
    const parentLabel = await box(page.getByTestId("trace-step-call").locator(".waterfall-name"));
    const childLabel = await box(nested.getByTestId("child-step-fetch").locator(".waterfall-name"));
    expect(childLabel.x).toBeGreaterThan(parentLabel.x + 10);
    await shot("child-trace");

    // Fold and unfold.
    const toggle = nested.getByRole("button", { name: /Child run/ });
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    await toggle.click();
    await untilCount(nested.locator("[data-testid^='child-step-']"), 0);
    await toggle.click();
    await untilCount(nested.locator("[data-testid^='child-step-']"), 3);

    // A finished child starts folded on a fresh page; unfolding shows its final steps.
    await page.reload();
    const reloaded = nestedUnder("call");
    await reloaded.getByTestId("child-trace-status").waitFor();
    expect(await reloaded.getByTestId("child-trace-status").textContent()).toBe("succeeded");
    expect(await reloaded.locator("[data-testid^='child-step-']").count()).toBe(0);
    await reloaded.getByRole("button", { name: /Child run/ }).click();
    await until(reloaded.getByTestId("child-step-tag"), statusOf, "succeeded");

    // The link opens the child's own page, which points back to the parent.
    await reloaded.getByRole("link", { name: "Open child run" }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(runId));
    await until(page.getByTestId("parent-run"), textOf, `${runId} (step call)`);
  }, 120_000);

  it("a grandchild nests one level further, three levels in all, then a link", async () => {
    // leaf ← level3 ← level2 ← level1 ← top: the top run's page nests level1..level3 and links the leaf.
    const leaf = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Leaf", {
      schemaVersion: 1,
      name: "Leaf",
      description: "",
      steps: [start, http("leafstep", "Leaf step", "/leaf", 260)],
      edges: chain(["start", "leafstep"]),
    });
    await publishWorkflow(stack.url, ada.token, leaf.id);
    let callee = leaf.id;
    for (const level of [3, 2, 1]) {
      const wf = await createWorkflow(stack.url, ada.token, ada.workspaceId, `Level ${level}`, {
        schemaVersion: 1,
        name: `Level ${level}`,
        description: "",
        steps: [start, call(callee, `Call below ${level}`)],
        edges: chain(["start", "call"]),
      });
      await publishWorkflow(stack.url, ada.token, wf.id);
      callee = wf.id;
    }
    const top = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Top", {
      schemaVersion: 1,
      name: "Top",
      description: "",
      steps: [start, call(callee, "Call level 1")],
      edges: chain(["start", "call"]),
    });
    const runId = await startRun(top.id);
    await page.goto(`${stack.url}/runs/${runId}`);
    await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 60_000);
    await page.reload();

    // Each level is folded (finished): unfold level by level.
    let level = nestedUnder("call");
    for (let depth = 1; depth <= 3; depth++) {
      await level.getByTestId("child-trace-status").waitFor();
      expect(await level.getByTestId("child-trace-status").textContent()).toBe("succeeded");
      await level.getByRole("button", { name: /Child run/ }).first().click();
      await until(level.getByTestId("child-step-call").first(), statusOf, "succeeded");
      level = level.getByTestId("child-step-call").first().locator("xpath=..").locator(":scope > .child-trace-list > .child-trace");
    }
    // The fourth level (the leaf run) is a link only, to its own page.
    await level.waitFor();
    expect(await level.getAttribute("data-status")).toBe("succeeded");
    expect(await level.locator("[data-testid^='child-step-']").count()).toBe(0);
    expect(await level.getByRole("button").count()).toBe(0);
    const leafLink = level.getByRole("link");
    expect((await leafLink.textContent())?.startsWith("run_")).toBe(true);
    await shot("child-trace-depth");
    await leafLink.click();
    await page.waitForURL((url) => !url.pathname.endsWith(runId));
    await until(page.getByTestId("trace-step-leafstep"), statusOf, "succeeded");
  }, 120_000);

  it("a call inside a loop nests each iteration's child run under that iteration's bar, named after the step", async () => {
    const child = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Price", {
      schemaVersion: 1,
      name: "Price",
      description: "",
      steps: [start, http("price", "Price item", "/price", 260)],
      edges: chain(["start", "price"]),
    });
    await publishWorkflow(stack.url, ada.token, child.id);
    const parent = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Price all", {
      schemaVersion: 1,
      name: "Price all",
      description: "",
      steps: [start, { id: "each", type: "loop", name: "Each item", config: { items: "input.items" }, position: { x: 260, y: 0 } }, { ...call(child.id, "Price one"), position: { x: 520, y: 0 } }],
      edges: [
        { id: "e1", source: "start", target: "each" },
        { id: "e2", source: "each", target: "call", label: "body" },
      ],
    });
    const runId = await startRun(parent.id, { items: ["a", "b", "c"] });
    await page.goto(`${stack.url}/runs/${runId}`);
    await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 60_000);
    await page.reload();
    for (const i of [0, 1, 2]) {
      const row = page.getByTestId(`trace-step-call@${i}`);
      expect(await row.locator(".waterfall-name").textContent()).toBe(`Price one [${i}]`);
      const nested = nestedUnder(`call@${i}`);
      await until(nested.getByTestId("child-trace-status"), textOf, "succeeded");
      await nested.getByRole("button", { name: /Child run/ }).click();
      await until(nested.getByTestId("child-step-price"), statusOf, "succeeded");
    }
    // One child run under each iteration, three in all.
    await untilCount(page.locator(".child-trace"), 3);
  }, 120_000);

  it("left no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
