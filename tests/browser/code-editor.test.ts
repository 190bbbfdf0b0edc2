/**
 * The code step's editor (issue #16, docs/ydoc-layout.md L2 and L5 "code fields"): CodeMirror 6 bound to the
 * field's Y.Text in two real Chromium pages, two people. Both type into the same code at once with seeded
 * keystroke timings: both pages end with the same text holding every character of both, in order per author,
 * the server stores it, and each page shows the other's caret with their name. CodeMirror is loaded only
 * when a code field is shown. Screenshots go to tests/artifacts/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, type Account } from "../support/api.js";
import { storedDefinition } from "../support/collab.js";
import { byAuthor, editorText, textOf, typeSlowly, until } from "../support/browser.js";
import { mulberry32 } from "../support/random.js";
import { openStudioSession, screenshotOnFailure, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
const SEED = 0xc0de;
const CODE = "const total = input.items.length;\nreturn total;";

let stack: Stack;
let session: StudioSession;
let ada: Account;
let bea: Account;
let workflowId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];
/** Script URLs each page requested. */
const scripts = new Map<Page, string[]>();

async function converged(a: Locator, b: Locator): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = ["", ""];
  while (Date.now() < deadline) {
    last = [await editorText(a), await editorText(b)];
    if (last[0] === last[1]) return last[0]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The two editors never agreed: "${last[0]}" vs "${last[1]}"`);
}

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea"], viewports: [{ width: 1366, height: 820 }, { width: 1366, height: 820 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  for (const page of [pageA, pageB]) {
    scripts.set(page, []);
    page.on("request", (request) => {
      if (request.resourceType() === "script") scripts.get(page)!.push(request.url());
    });
  }
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Code together", {
    name: "Code together",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "count", type: "code", name: "Count", config: { code: CODE }, position: { x: 0, y: 160 } },
    ],
    edges: [{ id: "start-count", source: "start", target: "count" }],
  });
  workflowId = created.id;
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-"));
afterAll(() => session?.close());

describe("L5 code fields: two people typing in one code step's code at once", () => {
  it("CodeMirror is loaded only when a code field is shown (it is not in the page's first scripts)", async () => {
    const isEditorChunk = (url: string) => /\/code-editor\.client-[A-Z0-9]{8}\.js$/.test(url);
    expect(scripts.get(pageA)!.filter(isEditorChunk)).toEqual([]);
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="count"]').click();
    for (const page of [pageA, pageB]) await page.getByTestId("code-field").and(page.locator("[data-loaded]")).waitFor({ timeout: 10_000 });
    expect(scripts.get(pageA)!.filter(isEditorChunk)).toHaveLength(1);
  });

  it("both type at the end at the same time: the same text on both pages and on the server, every character kept; each sees the other's caret", async () => {
    const editorA = pageA.getByRole("textbox", { name: "Code", exact: true });
    const editorB = pageB.getByRole("textbox", { name: "Code", exact: true });
    expect(await editorA.getAttribute("contenteditable")).toBe("true");
    expect(await editorText(editorB)).toBe(CODE);
    for (const [page, editor] of [[pageA, editorA], [pageB, editorB]] as const) {
      await editor.click();
      await page.keyboard.press("ControlOrMeta+End");
    }
    // Disjoint alphabets (and no brackets or quotes, which the editor closes by itself): Ada lower case, Bea
    // capitals and digits.
    const adaTypes = " // ada checks the total";
    const beaTypes = " // BEA 2026 OK";
    await Promise.all([typeSlowly(pageA, adaTypes, mulberry32(SEED)), typeSlowly(pageB, beaTypes, mulberry32(SEED + 1))]);
    const text = await converged(editorA, editorB);
    expect(text.startsWith(CODE), text).toBe(true);
    const typed = text.slice(CODE.length);
    expect(typed.length, text).toBe(adaTypes.length + beaTypes.length);
    expect(byAuthor(typed, /[a-z]/), text).toBe(byAuthor(adaTypes, /[a-z]/));
    expect(byAuthor(typed, /[A-Z0-9]/), text).toBe(byAuthor(beaTypes, /[A-Z0-9]/));

    // The server holds the merged text (the collab service stores the doc; the API reads it back).
    const deadline = Date.now() + 10_000;
    let stored = "";
    while (Date.now() < deadline) {
      const definition = await storedDefinition(stack.url, ada.token, workflowId);
      stored = String(definition.steps.find((step) => step.id === "count")?.config.code ?? "");
      if (stored === text) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stored).toBe(text);

    // Each sees the other's caret, with the name (both still have focus in the editor).
    await pageA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 5_000 });
    await pageB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 5_000 });
    await expect(pageA.locator(".cm-ySelectionCaret").count()).resolves.toBe(1);
    // The caret is drawn where Bea is (at the end of the last line, next to her last characters).
    const caretBox = await pageA.locator(".cm-ySelectionCaret").boundingBox();
    const lineBox = await pageA.locator(".cm-line").last().boundingBox();
    expect(caretBox && lineBox && caretBox.y >= lineBox.y - 2 && caretBox.y <= lineBox.y + lineBox.height).toBe(true);
    await pageA.getByTestId("code-field").screenshot({ path: path.join(artifacts, "code-editor-A.png") });
    await pageB.screenshot({ path: path.join(artifacts, "code-editor-B.png") });
  }, 60_000);

  it("a syntax error shows as a problem with line:column for both; fixing it clears it", async () => {
    const editorA = pageA.getByRole("textbox", { name: "Code", exact: true });
    await editorA.click();
    await pageA.keyboard.press("ControlOrMeta+Home");
    await pageA.keyboard.type("= ");
    for (const page of [pageA, pageB]) await page.getByTestId("problems").getByText(/Syntax error at 1:1: Unexpected token/).waitFor({ timeout: 5_000 });
    await pageA.keyboard.press("Backspace");
    await pageA.keyboard.press("Backspace");
    for (const page of [pageA, pageB]) await until(page.locator("#problems-heading"), textOf, "Problems (0)");
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
