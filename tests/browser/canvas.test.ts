/**
 * The canvas as a person builds on it (#17, defect 6 and the step library), in Chromium with two people:
 * the step library's search and groups, a click adding a step beside the selection and in view (it used to
 * go 120 px below the lowest step, off-screen), a drag onto an edge inserting the step in between, copy and
 * paste of steps from one workflow into another (seen live by the second person), bad clipboard text refused
 * with a message, duplicate, the shortcuts sheet, and tidy up (auto-layout) undone by one Ctrl+Z.
 * Screenshots of the library, the canvas with its minimap and the shortcuts sheet go to tests/artifacts/.
 */
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, type Account } from "../support/api.js";
import { textOf, until, untilCount } from "../support/browser.js";
import { waitFor } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, screenshotsDir, shot as shotIn, type StudioSession } from "../support/studio-session.js";

let session: StudioSession;
let stack: Stack;
let pageA: Page;
let pageB: Page;
let ada: Account;
let bea: Account;
let sourceId = "";
let targetId = "";
const consoleErrors: string[] = [];

const stepNodes = (page: Page) => page.locator(".react-flow__node-step:not(.ghost-node)");
const node = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const edgeFrom = (page: Page, source: string, target: string) => page.locator(`.react-flow__edge[aria-label="Edge from ${source} to ${target}"]`);
const nodeIds = (page: Page) => stepNodes(page).evaluateAll((els) => els.map((el) => el.getAttribute("data-id") ?? ""));
/** Each step's position in flow coordinates, as React Flow draws it (its transform). */
const positions = (page: Page) =>
  stepNodes(page).evaluateAll((els) => Object.fromEntries(els.map((el) => [el.getAttribute("data-id"), (el as HTMLElement).style.transform])));
const shot = (page: Page, name: string) => shotIn(page, name, screenshotsDir);
const http = (id: string, name: string, x: number, y: number) => ({ id, type: "http.request", name, config: { method: "GET", url: `https://example.com/${id}` }, position: { x, y } });

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error("not drawn");
  return found;
}
const inside = (inner: { x: number; y: number; width: number; height: number }, outer: { x: number; y: number; width: number; height: number }) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

const overlaps = (a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function openEditor(page: Page, workflowId: string, steps: number) {
  await page.goto(`${stack.url}/workflows/${workflowId}`);
  await until(page.getByTestId("connection-status"), textOf, "connected");
  await untilCount(stepNodes(page), steps);
}

/** Waits until the new step (the one not in `before`) is on the page, and returns its id. */
async function newStepId(page: Page, before: string[]): Promise<string> {
  return waitFor("a new step on the canvas", async () => (await nodeIds(page)).find((id) => !before.includes(id)));
}

/** Waits until a step is drawn entirely inside the canvas (a pan that follows it may still be animating). */
async function untilInView(page: Page, id: string) {
  await waitFor(`step ${id} inside the visible canvas`, async () => inside(await box(node(page, id)), await box(page.locator(".react-flow"))));
}

beforeAll(async () => {
  session = await openStudioSession({ users: ["Ada", "Bea"], viewports: [{ width: 1440, height: 900 }, { width: 1280, height: 800 }], consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const source = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order intake", {
    schemaVersion: 1,
    name: "Order intake",
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      http("fetch", "Fetch order", 260, 0),
      { id: "check", type: "condition", name: "Big order?", config: { expression: `steps.fetch.output.body.total > 100` }, position: { x: 520, y: 0 } },
      http("notify", "Notify sales", 780, -90),
      // Far below the others: the old placement (120 px under the lowest step) went off-screen from here.
      http("archive", "Archive", 260, 900),
    ],
    edges: [
      { id: "e-start", source: "start", target: "fetch" },
      { id: "e-fetch", source: "fetch", target: "check" },
      { id: "e-big", source: "check", target: "notify", label: "true" },
    ],
  });
  sourceId = source.id;
  targetId = (await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order follow-up")).id;
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-canvas-"));
afterAll(() => session?.close());

describe("canvas: step library, placement, clipboard and layout (#17)", () => {
  it("the library's search filters by name, description and keywords; a click adds the step beside the selection, in view", async () => {
    await openEditor(pageA, sourceId, 5);
    const library = pageA.getByRole("complementary", { name: "Add a step" });
    const items = library.locator("button.step-library-item");
    const all = await items.count();
    expect(all).toBeGreaterThanOrEqual(15);
    expect(await library.getByRole("region", { name: "Flow control" }).getByRole("button", { name: "Add Condition" }).count()).toBe(1);
    await shot(pageA, "canvas-step-library");

    const search = pageA.getByRole("searchbox", { name: "Search steps" });
    await pageA.keyboard.press("/"); // jumps to the search
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(true);
    await search.fill("mail");
    await untilCount(items, 1);
    expect(await items.first().getAttribute("aria-label")).toBe("Add Postmark email");
    await search.fill("if"); // a keyword: Condition has no "if" in its label
    expect(await library.getByRole("button", { name: "Add Condition" }).count()).toBe(1);
    await search.fill("llm");
    expect((await items.evaluateAll((els) => els.map((el) => el.getAttribute("aria-label")))).sort()).toEqual(["Add AI agent", "Add OpenAI chat completion"]);
    await shot(pageA, "canvas-step-library-search");
    await search.fill("no such step");
    await untilCount(items, 0);
    expect(await library.getByRole("status").textContent()).toContain("No step matches “no such step”");
    await search.fill("");
    await untilCount(items, all);

    // With "Fetch order" selected, a new Delay goes beside it (to its right, level or just below) and on screen.
    await node(pageA, "fetch").click();
    const fetchBox = await box(node(pageA, "fetch"));
    let before = await nodeIds(pageA);
    await library.getByRole("button", { name: "Add Delay" }).click();
    const delay = await newStepId(pageA, before);
    await untilInView(pageA, delay);
    const delayBox = await box(node(pageA, delay));
    expect(delayBox.x).toBeGreaterThan(fetchBox.x + fetchBox.width);
    expect(delayBox.x - (fetchBox.x + fetchBox.width)).toBeLessThan(200);
    expect(Math.abs(delayBox.y - fetchBox.y)).toBeLessThan(200);
    // The new step is selected, so the next one goes beside it, and the view follows it off the right edge.
    expect(await node(pageA, delay).getAttribute("class")).toContain("selected");
    before = await nodeIds(pageA);
    await library.getByRole("button", { name: "Add HTTP request" }).click();
    const http2 = await newStepId(pageA, before);
    await untilInView(pageA, http2);
    expect((await box(node(pageA, http2))).x).toBeGreaterThan((await box(node(pageA, delay))).x);
    await shot(pageA, "canvas-added-beside-selection");
    // Both were one undo step each: Ctrl+Z twice takes them away again.
    await pageA.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
    await pageA.keyboard.press("Control+z");
    await pageA.keyboard.press("Control+z");
    await untilCount(stepNodes(pageA), 5);
  }, 60_000);

  it("a step dragged from the library onto an edge goes in between, the edge rewired through it", async () => {
    const edge = edgeFrom(pageA, "start", "fetch");
    await edge.waitFor({ state: "attached" }); // a level edge has no height, so Playwright calls it hidden
    // Arrowheads and a readable label on the condition's branch.
    expect(await edge.locator(".react-flow__edge-path").getAttribute("marker-end")).toMatch(/^url\(/);
    expect(await edgeFrom(pageA, "check", "notify").locator(".react-flow__edge-text").textContent()).toBe("true");
    await pageA.getByRole("button", { name: "Fit View", exact: true }).click();
    await waitFor("the view to settle", async () => {
      const first = JSON.stringify(await box(node(pageA, "start")));
      await new Promise((resolve) => setTimeout(resolve, 100));
      return first === JSON.stringify(await box(node(pageA, "start")));
    });
    const start = await box(node(pageA, "start"));
    const fetch = await box(node(pageA, "fetch"));
    const frame = await box(pageA.locator(".canvas-frame"));
    const drop = { x: (start.x + start.width + fetch.x) / 2 - frame.x, y: start.y + start.height / 2 - frame.y };
    const before = await nodeIds(pageA);
    await pageA.getByRole("button", { name: "Add Transform" }).dragTo(pageA.locator(".canvas-frame"), { targetPosition: drop });
    const transform = await newStepId(pageA, before);
    await edgeFrom(pageA, "start", transform).waitFor({ state: "attached" });
    await edgeFrom(pageA, transform, "fetch").waitFor({ state: "attached" });
    expect(await edgeFrom(pageA, "start", "fetch").count()).toBe(0);
    // The steps after it made room: the new step covers none of them.
    const placed = await box(node(pageA, transform));
    for (const id of before) expect(overlaps(placed, await box(node(pageA, id))), `the new step covers ${id}`).toBe(false);
    expect((await box(node(pageA, "fetch"))).x).toBeGreaterThan(placed.x + placed.width);
    await shot(pageA, "canvas-minimap");
    // One undo step: the step and the rewiring go back together.
    await pageA.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
    await pageA.keyboard.press("Control+z");
    await untilCount(stepNodes(pageA), 5);
    await edgeFrom(pageA, "start", "fetch").waitFor({ state: "attached" });
  }, 60_000);

  it("copies steps (shift-click) into another workflow, ids new and their edge kept, seen live by a second person; bad JSON is refused", async () => {
    await openEditor(pageB, targetId, 1);
    await node(pageA, "check").click();
    await node(pageA, "notify").click({ modifiers: ["Shift"] });
    await untilCount(pageA.locator(".react-flow__node-step.selected"), 2);
    await pageA.keyboard.press("Control+c");
    await pageA.getByTestId("canvas-notice").filter({ hasText: "Copied 2 steps" }).waitFor();

    await openEditor(pageA, targetId, 1);
    const before = await nodeIds(pageA);
    await pageA.locator(".react-flow__pane").click({ position: { x: 300, y: 300 } });
    await pageA.keyboard.press("Control+v");
    await untilCount(stepNodes(pageA), 3);
    const pasted = (await nodeIds(pageA)).filter((id) => !before.includes(id));
    expect(pasted).toHaveLength(2);
    expect(pasted).not.toContain("check");
    expect(pasted).not.toContain("notify");
    const names = await Promise.all(pasted.map((id) => node(pageA, id).textContent()));
    const check = pasted[names.findIndex((name) => name?.includes("Big order?"))]!;
    const notify = pasted[names.findIndex((name) => name?.includes("Notify sales"))]!;
    await edgeFrom(pageA, check, notify).waitFor({ state: "attached" });
    expect(await edgeFrom(pageA, check, notify).locator(".react-flow__edge-text").textContent()).toBe("true");
    for (const id of pasted) await untilInView(pageA, id);
    // Bea, on the same workflow, sees the pasted steps and their edge arrive.
    await node(pageB, check).waitFor({ timeout: 5_000 });
    await node(pageB, notify).waitFor({ timeout: 5_000 });
    await edgeFrom(pageB, check, notify).waitFor({ state: "attached", timeout: 5_000 });
    expect(await node(pageB, check).textContent()).toContain("Big order?");

    // Text that is not copied steps: a message says what was expected, and nothing is added.
    for (const [text, says] of [
      ['{"steps": [', "not JSON"],
      ['{"name": "not steps"}', 'this JSON has no "steps" list'],
    ] as const) {
      await pageA.evaluate((clip) => {
        const data = new DataTransfer();
        data.setData("text/plain", clip);
        document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      }, text);
      const notice = pageA.getByRole("alert").filter({ hasText: says });
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/^Cannot paste/);
    }
    expect(await stepNodes(pageA).count()).toBe(3);

    // Ctrl+D duplicates the selection (the pasted pair is still selected) beside it; Delete removes the copies.
    const beforeDuplicate = await nodeIds(pageA);
    await pageA.keyboard.press("Control+d");
    await untilCount(stepNodes(pageA), 5);
    const copies = (await nodeIds(pageA)).filter((id) => !beforeDuplicate.includes(id));
    expect(await node(pageA, copies[0]!).textContent()).toMatch(/Big order\? 2|Notify sales 2/);
    await untilCount(pageA.locator(".react-flow__node-step.selected"), 2);
    await pageA.keyboard.press("Delete");
    await untilCount(stepNodes(pageA), 3);
    await untilCount(stepNodes(pageB), 3);
  }, 60_000);

  it("tidy up lays the workflow out in one transaction, and one Ctrl+Z puts every step back; ? shows the shortcuts", async () => {
    // The pasted workflow: Start on its own at the origin, the pasted pair wherever the paste put them.
    const idOf = async (name: string) => (await stepNodes(pageA).filter({ hasText: name }).getAttribute("data-id")) ?? "";
    const [check, notify] = [await idOf("Big order?"), await idOf("Notify sales")];
    const original = await positions(pageA);
    await pageA.getByRole("button", { name: "Tidy up" }).click();
    await waitFor("the steps to move", async () => JSON.stringify(await positions(pageA)) !== JSON.stringify(original));
    const laidOut = await positions(pageA);
    expect(Object.keys(laidOut).filter((id) => laidOut[id] !== original[id]).length).toBeGreaterThanOrEqual(2);
    // Laid out left to right: the branch's target after the condition; Start, unconnected, in the first column.
    const at = async (id: string) => box(node(pageA, id));
    expect((await at(notify)).x).toBeGreaterThan((await at(check)).x + (await at(check)).width);
    expect((await at("start")).x).toBeLessThan((await at(notify)).x);
    await shot(pageA, "canvas-tidied-up");

    await pageA.locator(".react-flow__pane").click({ position: { x: 20, y: 20 } });
    await pageA.keyboard.press("Control+z");
    await waitFor("every step back where it was", async () => JSON.stringify(await positions(pageA)) === JSON.stringify(original));

    // Shift-drag on the background draws a selection box: every step it touches is selected.
    await pageA.keyboard.press("Shift+1"); // fit the view
    await untilCount(pageA.locator(".react-flow__node-step.selected"), 0);
    const pane = await box(pageA.locator(".react-flow__pane"));
    await pageA.keyboard.down("Shift");
    await pageA.mouse.move(pane.x + 8, pane.y + 8);
    await pageA.mouse.down();
    await pageA.mouse.move(pane.x + pane.width * 0.75, pane.y + pane.height - 8, { steps: 8 });
    await pageA.mouse.up();
    await pageA.keyboard.up("Shift");
    await untilCount(pageA.locator(".react-flow__node-step.selected"), 3);

    await pageA.keyboard.press("?");
    const help = pageA.getByRole("dialog", { name: "Keyboard shortcuts" });
    await help.waitFor();
    expect(await help.textContent()).toContain("Duplicate the selected steps");
    await shot(pageA, "canvas-shortcuts-help");
    await pageA.keyboard.press("Escape");
    await untilCount(help, 0);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
