/**
 * Collaboration polish (issue #17 UX-7) in two real Chromium pages (Ada and Bea), one stack: six people get
 * perceptually distinct colours; a pointer's label never covers a step's name; following a collaborator's
 * view moves ours until we pan; comments (L13) appear live for the other person, with an @mention picked
 * from the autocomplete, replies, co-typed text and resolve; an emptied step name shows "Untitled <type>";
 * a 456 KB paste into notes keeps the Run button on screen; restoring a version keeps the comments.
 * Screenshots go to tests/artifacts/screenshots/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { docMaps, fragmentText } from "@algorythmos/domain";
import * as Y from "yjs";
import { colorDistance } from "../../app/lib/user-colors.js";
import { createWorkflow, gql, ok, type Account } from "../support/api.js";
import { connectClient, type CollabClient } from "../support/collab.js";
import { textOf, until, valueOf } from "../support/browser.js";
import { openStudioSession, screenshotOnFailure, screenshotsDir, shot as shotIn, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
const screenshots = path.join(artifacts, "screenshots");

let stack: Stack;
let session: StudioSession;
let ada: Account;
let bea: Account;
let others: Account[] = [];
let workflowId = "";
let firstVersionId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];

const shot = (page: Page, name: string) => shotIn(page, name, screenshotsDir);

/** Polls `read` until `check` holds (condition-based, never a fixed sleep as the assertion). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: last seen ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 60));
    last = await read();
  }
  return last;
}

const rgbToHex = (rgb: string) =>
  "#" +
  (rgb.match(/\d+/g) ?? [])
    .slice(0, 3)
    .map((n) => Number(n).toString(16).padStart(2, "0"))
    .join("");

/** The canvas viewport's transform: translate x, y and the zoom. */
const viewportOf = (page: Page) =>
  page.locator(".react-flow__viewport").evaluate((el) => {
    const m = new DOMMatrixReadOnly(getComputedStyle(el).transform);
    return { x: Math.round(m.e), y: Math.round(m.f), zoom: Math.round(m.a * 1000) / 1000 };
  });

async function panCanvas(page: Page, dx: number, dy: number) {
  const box = (await page.locator(".react-flow__pane").boundingBox())!;
  // An empty spot of the pane, low on the canvas (the steps are near the top).
  const x = box.x + box.width * 0.5;
  const y = box.y + box.height * 0.8;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx / 2, y + dy / 2, { steps: 4 });
  await page.mouse.move(x + dx, y + dy, { steps: 4 });
  await page.mouse.up();
}

const node = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea", "Cy", "Dee", "Eve", "Fay"], viewports: [{ width: 1440, height: 900 }, { width: 1440, height: 900 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, bea, ...others] = session.users as [Account, Account, ...Account[]];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Lead sync", {
    name: "Lead sync",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "fetch", type: "http.request", name: "Fetch leads", config: { method: "GET", url: "https://crm.example/leads" }, position: { x: 280, y: 0 } },
    ],
    edges: [{ id: "start-fetch", source: "start", target: "fetch" }],
  });
  workflowId = created.id;
  firstVersionId = ok(await gql(stack.url, `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, { input: { workflowId, label: "v1" } }, ada.token)).createVersion.id;
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected", 30_000).catch(async (error: Error) => {
      await page.screenshot({ path: path.join(artifacts, "failed-collab-polish-connect.png") }).catch(() => {});
      throw new Error(`${error.message} (console: ${consoleErrors.join(" | ").slice(0, 500)})`);
    });
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-"));
afterAll(() => session?.close());

describe("collaboration polish", () => {
  it("six people in the room get pairwise distinct colours (OKLab ≥ 0.1), the same on every page", async () => {
    const clients: CollabClient[] = others.map((account) => connectClient(stack.url, workflowId, account.token));
    try {
      for (const client of clients) client.provider.awareness.setLocalStateField("user", { id: "", name: "", color: "#000000" });
      const avatars = (page: Page) =>
        page
          .getByTestId("presence")
          .locator("li")
          .evaluateAll((items) => items.map((li) => [li.textContent?.replace("(you)", "").trim() ?? "", getComputedStyle(li.querySelector(".avatar")!).backgroundColor]));
      const seenByA = await eventually(() => avatars(pageA), (list) => list.length === 6, "six people in Ada's presence");
      const seenByB = await eventually(() => avatars(pageB), (list) => list.length === 6, "six people in Bea's presence");
      const colors = seenByA.map(([, color]) => rgbToHex(color!));
      for (let i = 0; i < colors.length; i++) for (let j = i + 1; j < colors.length; j++) expect(colorDistance(colors[i]!, colors[j]!), `${seenByA[i]![0]} vs ${seenByA[j]![0]}`).toBeGreaterThanOrEqual(0.1);
      expect(new Map(seenByB.map(([name, color]) => [name!.slice(1), color]))).toEqual(new Map(seenByA.map(([name, color]) => [name!.slice(1), color])));
      await pageA.locator(".editor-bar").screenshot({ path: path.join(screenshots, "collab-presence-six.png") });
    } finally {
      for (const client of clients) client.destroy();
    }
    await eventually(() => pageA.getByTestId("presence").locator("li").count(), (n) => n === 2, "the four others gone");
  });

  it("a pointer's label never covers a step's name (flipped, or a dot)", async () => {
    const name = node(pageB, "fetch").locator(".step-node-name");
    const box = (await name.boundingBox())!;
    // Just above and left of the name: the usual place of the label (below right of the tip) is on the name.
    for (const [x, y] of [
      [box.x - 4, box.y - 8],
      [box.x + box.width / 2, box.y + box.height / 2],
    ] as const) {
      await pageB.mouse.move(x, y, { steps: 3 });
      await pageA.getByTestId("remote-cursor").waitFor();
      // Where Bea's pointer is in flow coordinates (her view's transform), which Ada's page draws it at.
      const flow = await pageB.evaluate(([sx, sy]) => {
        const pane = document.querySelector(".react-flow")!.getBoundingClientRect();
        const m = new DOMMatrixReadOnly(getComputedStyle(document.querySelector(".react-flow__viewport")!).transform);
        return [Math.round((sx! - pane.left - m.e) / m.a), Math.round((sy! - pane.top - m.f) / m.a)];
      }, [x, y]);
      let nudge = 0;
      const overlap = await eventually(
        async () => {
          // The studio publishes a pointer at most every 40 ms (a move within that is skipped): move again each poll.
          await pageB.mouse.move(x + (nudge++ % 2), y);
          return pageA.evaluate(() => {
            const label = document.querySelector('[data-testid="remote-cursor"] .remote-cursor-label, [data-testid="remote-cursor"] .remote-cursor-dot')!;
            const l = label.getBoundingClientRect();
            const names = [...document.querySelectorAll(".step-node-name")].map((n) => n.getBoundingClientRect());
            const at = new DOMMatrixReadOnly(getComputedStyle(document.querySelector('[data-testid="remote-cursor"]')!).transform);
            return { pointer: [Math.round(at.e), Math.round(at.f)], dot: label.classList.contains("remote-cursor-dot"), covers: !label.classList.contains("remote-cursor-dot") && names.some((n) => l.left < n.right && n.left < l.right && l.top < n.bottom && n.top < l.bottom) };
          });
        },
        (seen) => Math.abs(seen.pointer[0]! - flow[0]!) <= 2 && Math.abs(seen.pointer[1]! - flow[1]!) <= 2,
        `Bea's pointer at ${flow.join(",")} (flow) on Ada's page`,
      );
      expect(overlap.covers).toBe(false);
    }
    await shot(pageA, "collab-pointer-label");
  });

  it("following a collaborator's view moves ours with theirs, until we pan", async () => {
    await panCanvas(pageB, 180, 110);
    const follow = pageA.getByTestId("follow-user");
    await follow.click();
    expect(await follow.getAttribute("aria-pressed")).toBe("true");
    const close = (a: { x: number; y: number; zoom: number }, b: { x: number; y: number; zoom: number }) => Math.abs(a.x - b.x) <= 2 && Math.abs(a.y - b.y) <= 2 && a.zoom === b.zoom;
    let target = await viewportOf(pageB);
    await eventually(() => viewportOf(pageA), (v) => close(v, target), "Ada's view on Bea's");
    await panCanvas(pageB, -260, 40);
    target = await viewportOf(pageB);
    await eventually(() => viewportOf(pageA), (v) => close(v, target), "Ada's view following Bea's pan");
    expect(await textOf(pageA.getByTestId("follow-banner"))).toContain("Following Bea");
    await shot(pageA, "collab-follow");
    // Ada pans herself: following stops, and Bea's next pan leaves Ada's view alone.
    await panCanvas(pageA, 60, -50);
    await until(follow, (l) => l.getAttribute("aria-pressed"), "false");
    const mine = await viewportOf(pageA);
    await panCanvas(pageB, 200, 0);
    const moved = await viewportOf(pageB);
    // Bea's pointer moves after her pan: once Ada sees it, she has had Bea's new view too (awareness is in order).
    const pointer = pageA.getByTestId("remote-cursor");
    const before = await pointer.getAttribute("style");
    const pane = (await pageB.locator(".react-flow__pane").boundingBox())!;
    await pageB.mouse.move(pane.x + 40, pane.y + 40, { steps: 2 });
    await eventually(() => pointer.getAttribute("style"), (style) => style !== before, "Bea's pointer moving on Ada's page");
    expect(close(await viewportOf(pageA), mine)).toBe(true);
    expect(close(mine, moved)).toBe(false);
    for (const page of [pageA, pageB]) await page.locator(".react-flow__controls-fitview").click();
  });

  it("a comment on a step appears live for the other person; mention, reply, co-typed text and resolve sync", async () => {
    await node(pageA, "fetch").click();
    await pageA.getByTestId("comments-toggle").click();
    const composer = pageA.getByTestId("new-comment");
    await composer.click();
    await composer.pressSequentially("Is this the sandbox URL, @Be");
    const option = pageA.getByRole("option", { name: /Bea/ });
    await option.waitFor();
    await composer.press("Enter");
    await composer.pressSequentially("?");
    expect(await valueOf(composer)).toBe("Is this the sandbox URL, @Bea ?");
    await pageA.getByTestId("post-comment").click();
    await until(pageA.getByTestId("comment-thread").locator("textarea").first(), valueOf, "Is this the sandbox URL, @Bea ?");

    // Bea: the count in the toolbar and a pin on the step, live.
    await until(pageB.getByTestId("comments-toggle"), textOf, "Comments (1)");
    const pin = pageB.getByTestId("comment-pin");
    await pin.waitFor();
    await shot(pageB, "collab-comment-pin");
    await pin.click();
    const thread = pageB.getByTestId("comment-thread");
    await until(thread.locator("textarea").first(), valueOf, "Is this the sandbox URL, @Bea ?");
    expect(await textOf(thread.getByTestId("comment-mentions"))).toBe("@Bea");
    expect(await textOf(thread.locator(".comment-head .link"))).toContain("on “Fetch leads”");

    // Bea replies; Ada sees it.
    await pageB.getByTestId("reply-input").fill("Yes — the production one is in the credential.");
    await pageB.getByRole("button", { name: "Reply", exact: true }).click();
    await eventually(() => pageA.getByTestId("comment-reply").count(), (n) => n === 1, "Bea's reply on Ada's page");

    // Co-typed: Ada adds to her comment's text, Bea's field follows.
    const textA = pageA.getByTestId("comment-thread").locator("textarea").first();
    await textA.click();
    await textA.press("End");
    await textA.pressSequentially(" Thanks!");
    await until(thread.locator("textarea").first(), valueOf, "Is this the sandbox URL, @Bea ? Thanks!");

    // Bea resolves; Ada sees who did, the count drops, and Reopen brings it back for both.
    await thread.getByTestId("resolve").click();
    await until(pageA.getByTestId("resolved-by"), textOf, "Resolved by Bea");
    await until(pageA.getByTestId("comments-toggle"), textOf, "Comments");
    await shot(pageA, "collab-comment-resolved");
    await pageA.getByTestId("comment-thread").getByTestId("resolve").click();
    await until(pageB.getByTestId("comments-toggle"), textOf, "Comments (1)");
    await shot(pageB, "collab-comment-thread");
  });

  it("an emptied step name shows 'Untitled HTTP request' with a hint, never the id", async () => {
    await pageA.getByTestId("comments-toggle").click(); // back to the step panel
    await node(pageA, "fetch").click();
    const name = pageA.getByLabel("Step name");
    await name.fill("");
    await until(node(pageA, "fetch").locator(".step-node-name"), textOf, "Untitled HTTP request");
    await until(node(pageB, "fetch").locator(".step-node-name"), textOf, "Untitled HTTP request");
    expect(await name.getAttribute("placeholder")).toBe("Untitled HTTP request");
    expect(await textOf(pageA.getByTestId("step-name-hint"))).toContain("Give this step a name");
    await shot(pageA, "collab-untitled-step");
  });

  it("restoring an earlier version keeps the comments", async () => {
    ok(await gql(stack.url, `mutation($id: ID!) { restoreVersion(versionId: $id) { id } }`, { id: firstVersionId }, ada.token));
    await until(node(pageB, "fetch").locator(".step-node-name"), textOf, "Fetch leads", 20_000);
    await until(pageB.getByTestId("comments-toggle"), textOf, "Comments (1)");
    await pageB.getByTestId("comment-pin").waitFor();
  });

  it("a 456 KB paste into notes keeps the Run button on screen (the notes scroll on their own) and syncs whole", async () => {
    await node(pageA, "start").click();
    const notes = pageA.locator(".notes-editor");
    await notes.click();
    const runVisible = () =>
      pageA.evaluate(() => {
        const run = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Run")!;
        const r = run.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return r.top >= 0 && r.bottom <= window.innerHeight && (hit === run || run.contains(hit));
      });
    expect(await runVisible()).toBe(true);
    const pasted = await notes.evaluate((el) => {
      const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.\n";
      const text = line.repeat(Math.ceil(456_000 / line.length));
      const data = new DataTransfer();
      data.setData("text/plain", text);
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      return { size: text.length, letters: text.replace(/\n/g, "").length };
    });
    expect(pasted.size).toBeGreaterThanOrEqual(456_000);
    await eventually(() => notes.evaluate((el) => el.textContent?.length ?? 0), (n) => n > 440_000, "the pasted notes", 30_000);
    // Sent in parts under the collab message limit: still connected, and Bea's copy has all of it.
    expect(await textOf(pageA.getByTestId("connection-status"))).toBe("connected");
    const reader = connectClient(stack.url, workflowId, bea.token);
    try {
      const notesLength = () => {
        const notesFragment = docMaps(reader.doc).steps.get("start")?.get("notes");
        return Promise.resolve(notesFragment instanceof Y.XmlFragment ? fragmentText(notesFragment).replace(/\n/g, "").length : 0);
      };
      // Every character arrives (the line breaks become paragraphs).
      await eventually(notesLength, (n) => n === pasted.letters, "the whole paste in another client's copy", 30_000);
    } finally {
      reader.destroy();
    }
    const layout = await pageA.evaluate(() => {
      const run = [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Run")!;
      const r = run.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const notesBox = document.querySelector(".notes-editor")!.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, inner: window.innerHeight, pageHeight: document.documentElement.scrollHeight, runHit: hit === run || run.contains(hit), notesHeight: notesBox.height };
    });
    expect(layout.top).toBeGreaterThanOrEqual(0);
    expect(layout.bottom).toBeLessThanOrEqual(layout.inner);
    expect(layout.runHit).toBe(true);
    expect(layout.pageHeight).toBeLessThanOrEqual(layout.inner);
    expect(layout.notesHeight).toBeLessThan(layout.inner / 2);
    await shot(pageA, "collab-huge-notes");
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
