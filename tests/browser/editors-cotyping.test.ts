/**
 * Co-typing in the new editors (#17; docs/ydoc-layout.md L2, L5): two real Chromium pages, two people, type at
 * once — with seeded keystroke timings — into (a) an openai.chat prompt message (Tiptap on the message's
 * Y.XmlFragment), (b) a code step's code (CodeMirror on a Y.Text) and (c) a condition's expression (the
 * expression editor on a Y.Text). Ada types at the end while Bea types at the start: every character of both
 * survives, exactly where each typed it, both pages converge, the server stores the merged text, and each page
 * shows the other's caret with the name. Screenshots go to tests/artifacts/.
 */
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, type Account } from "../support/api.js";
import { storedDefinition } from "../support/collab.js";
import { editorText, textOf, typeSlowly, until } from "../support/browser.js";
import { mulberry32 } from "../support/random.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const SEED = 0x5eed17;
const PROMPT = "Summarise the order";
const CODE = "const total = input.items.length;\nreturn total;";
const EXPRESSION = "input.total > 10";

let stack: Stack;
let session: StudioSession;
let ada: Account;
let workflowId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];

/** A Tiptap editor's text without the remote carets drawn inside it. */
const promptText = (editor: Locator) =>
  editor.evaluate((element) => {
    const copy = element.cloneNode(true) as HTMLElement;
    copy.querySelectorAll(".collaboration-carets__caret").forEach((caret) => caret.remove());
    return copy.textContent;
  });

/** Waits until both editors show the same text and returns it. */
async function converged(a: Locator, b: Locator, read: (editor: Locator) => Promise<string | null>): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last: [string | null, string | null] = ["", ""];
  while (Date.now() < deadline) {
    last = [await read(a), await read(b)];
    if (last[0] !== null && last[0] === last[1]) return last[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The two pages never agreed: "${last[0]}" vs "${last[1]}"`);
}

/** Waits until the server's definition (the collab service stores the doc; the API reads it) says `expected`. */
async function storedAs(read: (definition: Awaited<ReturnType<typeof storedDefinition>>) => unknown, expected: string) {
  const deadline = Date.now() + 10_000;
  let stored: unknown = null;
  while (Date.now() < deadline) {
    stored = read(await storedDefinition(stack.url, ada.token, workflowId));
    if (stored === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(stored).toBe(expected);
}

/**
 * Ada's caret at the end, Bea's at the start, both type at once: the result is exactly Bea's text, the
 * original, then Ada's — nothing lost, nothing interleaved, on both pages.
 */
async function typeAtBothEnds(editorA: Locator, editorB: Locator, read: (editor: Locator) => Promise<string | null>, original: string, adaTypes: string, beaTypes: string, seed: number) {
  await until(editorB, read, original);
  await editorA.click();
  await pageA.keyboard.press("ControlOrMeta+End");
  await editorB.click();
  await pageB.keyboard.press("ControlOrMeta+Home");
  await Promise.all([typeSlowly(pageA, adaTypes, mulberry32(seed)), typeSlowly(pageB, beaTypes, mulberry32(seed + 1))]);
  const text = await converged(editorA, editorB, read);
  expect(text).toBe(beaTypes + original + adaTypes);
  return text;
}

const openStep = async (stepId: string) => {
  for (const page of [pageA, pageB]) await page.locator(`.react-flow__node[data-id="${stepId}"]`).click();
};

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea"], viewports: [{ width: 1366, height: 820 }, { width: 1366, height: 820 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order assistant", {
    name: "Order assistant",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "ask", type: "openai.chat", name: "Ask", config: { model: "gpt-4o-mini", messages: [{ role: "user", content: PROMPT }] }, position: { x: 0, y: 160 } },
      { id: "count", type: "code", name: "Count", config: { code: CODE }, position: { x: 300, y: 160 } },
      { id: "check", type: "condition", name: "Check", config: { expression: EXPRESSION }, position: { x: 600, y: 160 } },
    ],
    edges: [
      { id: "start-ask", source: "start", target: "ask" },
      { id: "ask-count", source: "ask", target: "count" },
      { id: "count-check", source: "count", target: "check" },
    ],
  });
  workflowId = created.id;
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-editors-cotyping-"));
afterAll(() => session?.close());

describe("L5 two people typing at once in the new editors keep every character of both", () => {
  it("(a) an openai.chat prompt message (Tiptap): Ada at its end, Bea at its start; each sees the other's caret", async () => {
    await openStep("ask");
    const promptA = pageA.getByRole("textbox", { name: "Message 1 text" });
    const promptB = pageB.getByRole("textbox", { name: "Message 1 text" });
    // Disjoint alphabets: Ada lower case, Bea capitals and digits.
    const text = await typeAtBothEnds(promptA, promptB, promptText, PROMPT, " for ada and the team", "URGENT 42 ", SEED);
    await storedAs((d) => (d.steps.find((s) => s.id === "ask")?.config.messages as { content: string }[] | undefined)?.[0]?.content, text);
    await promptA.locator(".collaboration-carets__label", { hasText: "Bea" }).waitFor({ timeout: 5_000 });
    await promptB.locator(".collaboration-carets__label", { hasText: "Ada" }).waitFor({ timeout: 5_000 });
    await shot(pageA, "editors-cotyping-prompt-A");
    await shot(pageB, "editors-cotyping-prompt-B");
  }, 60_000);

  it("(b) a code step's CodeMirror editor: Ada at its end, Bea at its start; each sees the other's caret", async () => {
    await openStep("count");
    const codeA = pageA.getByRole("textbox", { name: "Code", exact: true });
    const codeB = pageB.getByRole("textbox", { name: "Code", exact: true });
    // No brackets or quotes: the editor closes those by itself.
    const text = await typeAtBothEnds(codeA, codeB, editorText, CODE, " // ada checks the total", "// BEA 2026 OK\n", SEED + 2);
    await storedAs((d) => d.steps.find((s) => s.id === "count")?.config.code, text);
    await pageA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 5_000 });
    await pageB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 5_000 });
    await shot(pageA, "editors-cotyping-code-A");
  }, 60_000);

  it("(c) a condition's expression field: Ada at its end, Bea at its start; each sees the other's caret", async () => {
    await openStep("check");
    const expressionA = pageA.getByRole("textbox", { name: "Expression", exact: true });
    const expressionB = pageB.getByRole("textbox", { name: "Expression", exact: true });
    const text = await typeAtBothEnds(expressionA, expressionB, editorText, EXPRESSION, " and input.paid = true", "INPUT.VIP OR ", SEED + 4);
    await storedAs((d) => d.steps.find((s) => s.id === "check")?.config.expression, text);
    await expressionA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 5_000 });
    await expressionB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 5_000 });
    await shot(pageB, "editors-cotyping-expression-B");
  }, 60_000);
});
