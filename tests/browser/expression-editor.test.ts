/**
 * The expression editor (issue #17 UX-3, defect 4; docs/ydoc-layout.md L12, docs/run-engine.md R55): CodeMirror on
 * an expression field's Y.Text in two real Chromium pages, two people. An invalid expression shows an inline error
 * within a second; autocomplete offers `steps.<key>` of an earlier step and its output fields (from the last run);
 * the preview shows the value from the last run; two people type in one expression and see each other's carets
 * and the same text; renaming a step's key rewrites the expression for both. Screenshots go to tests/artifacts/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, type Account } from "../support/api.js";
import { storedDefinition } from "../support/collab.js";
import { editorText, textOf, until, valueOf } from "../support/browser.js";
import { waitFor } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, screenshotsDir, type StudioSession } from "../support/studio-session.js";

const screenshots = path.resolve("tests/artifacts/screenshots");
let stack: Stack;
let session: StudioSession;
let ada: Account;
let bea: Account;
let workflowId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];

async function untilText(editor: Locator, check: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = "";
  while (Date.now() < deadline) {
    last = await editorText(editor);
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: the editor shows "${last}"`);
}

const expressionOf = (page: Page) => page.getByRole("textbox", { name: "Expression", exact: true });

/**
 * Accepts the selected completion. CodeMirror ignores Enter for 75 ms after the list (re)opens (its
 * interactionDelay, against accidental picks), so the key is pressed once the list has been steady that long.
 */
async function acceptCompletion(page: Page) {
  await page.locator(".cm-tooltip-autocomplete li[aria-selected=true]").waitFor({ timeout: 5_000 });
  await page.waitForTimeout(150);
  await page.keyboard.press("Enter");
}

/** Replaces the whole expression by typing (select all, then type). */
async function retype(page: Page, text: string) {
  await expressionOf(page).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text, { delay: 15 });
}

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: true }, users: ["Ada", "Bea"], viewports: [{ width: 1440, height: 900 }, { width: 1440, height: 900 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Expressions", {
    name: "Expressions",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      // An id as the studio makes them, and the readable key expressions use (L12).
      { id: "step_0insp4brb9up", key: "fetch_user", type: "transform", name: "Fetch user", config: { expression: "{ 'name': input.name, 'plan': 'pro' }" }, position: { x: 0, y: 160 } },
      { id: "shape", key: "shape", type: "transform", name: "Shape", config: { expression: "steps.fetch_user.output.plan" }, position: { x: 0, y: 320 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "step_0insp4brb9up" },
      { id: "e2", source: "step_0insp4brb9up", target: "shape" },
    ],
  });
  workflowId = created.id;
  // A last run whose real values the editor offers and previews.
  const started = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { name: "Ada Lovelace" } } }, ada.token));
  await waitFor("the first run succeeds", async () => {
    const run = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { status } }`, { id: started.startRun.id }, ada.token));
    return run.run.status === "succeeded";
  }, 30_000);
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
    await page.locator('.react-flow__node[data-id="shape"]').click();
    await page.getByTestId("expression-field").and(page.locator("[data-loaded]")).waitFor({ timeout: 15_000 });
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-expression-", screenshotsDir));
afterAll(() => session?.close());

describe("expression editor", () => {
  it("shows the readable key in the step panel; the preview shows the value from the last run", async () => {
    await expect(pageA.getByLabel("Key", { exact: true }).inputValue()).resolves.toBe("shape");
    const preview = pageA.getByTestId("expression-preview");
    await until(preview.locator("pre"), textOf, '"pro"');
    expect(await preview.getAttribute("data-state")).toBe("value");
    expect(await preview.locator("[title^=run_]").textContent()).toBe("Preview against the last run");
  });

  it("autocomplete offers steps.<key> of an earlier step and its output fields from the last run; the preview follows", async () => {
    await retype(pageA, "steps.");
    const options = pageA.locator(".cm-tooltip-autocomplete li");
    await options.filter({ hasText: "fetch_user" }).first().waitFor({ timeout: 5_000 });
    // Only earlier steps: not the step itself, by key or by id.
    expect(await options.allTextContents()).not.toContainEqual(expect.stringContaining("shape"));
    await pageA.keyboard.type("fetch");
    await acceptCompletion(pageA);
    await pageA.keyboard.type(".");
    await options.filter({ hasText: "output" }).first().waitFor({ timeout: 5_000 });
    await acceptCompletion(pageA);
    await pageA.keyboard.type(".");
    await options.filter({ hasText: "name" }).first().waitFor({ timeout: 5_000 });
    // The fields the last run's output really had, with their values beside them.
    const labels = await options.allTextContents();
    expect(labels.some((label) => label.startsWith("name") && label.includes("Ada Lovelace"))).toBe(true);
    expect(labels.some((label) => label.startsWith("plan"))).toBe(true);
    await pageA.locator(".side").screenshot({ path: path.join(screenshots, "expression-editor-autocomplete.png") });
    await pageA.keyboard.type("name");
    await pageA.keyboard.press("Escape");
    expect(await editorText(expressionOf(pageA))).toBe("steps.fetch_user.output.name");
    await until(pageA.getByTestId("expression-preview").locator("pre"), textOf, '"Ada Lovelace"');
  }, 60_000);

  it("an invalid expression shows an inline error within a second (the worker's parser); fixing it clears it", async () => {
    const editor = expressionOf(pageA);
    await editor.click();
    await pageA.keyboard.press("ControlOrMeta+End");
    await pageA.keyboard.type(" +");
    const typedAt = Date.now();
    const error = pageA.getByTestId("expression-error");
    await error.waitFor({ timeout: 1_000 });
    expect(Date.now() - typedAt).toBeLessThan(1_000);
    expect(await error.textContent()).toBe("Invalid expression: Unexpected end of expression (at 30)");
    expect(await editor.getAttribute("aria-invalid")).toBe("true");
    // CodeMirror underlines where the parser stopped.
    await pageA.locator(".cm-lintRange-error").first().waitFor({ timeout: 2_000 });
    await pageA.locator(".side").screenshot({ path: path.join(screenshots, "expression-editor-error.png") });
    await pageA.keyboard.press("Backspace");
    await pageA.keyboard.press("Backspace");
    await error.waitFor({ state: "detached", timeout: 2_000 });
  }, 30_000);

  it("two people type in one expression at once: both see the other's caret and the same text, and the server stores it", async () => {
    const editorA = expressionOf(pageA);
    const editorB = expressionOf(pageB);
    await untilText(editorB, (text) => text === "steps.fetch_user.output.name", "Bea sees Ada's expression");
    for (const [page, editor] of [[pageA, editorA], [pageB, editorB]] as const) {
      await editor.click();
      await page.keyboard.press("ControlOrMeta+End");
    }
    await Promise.all([pageA.keyboard.type(" & input.name", { delay: 30 }), pageB.keyboard.type(" & steps.shape", { delay: 30 })]);
    const text = await untilText(editorA, (a) => a.length === "steps.fetch_user.output.name".length + 13 + 14, "both edits arrive");
    await untilText(editorB, (b) => b === text, "both pages agree");
    expect(text.startsWith("steps.fetch_user.output.name")).toBe(true);
    await pageA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 5_000 });
    await pageB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 5_000 });
    await waitFor("the server stores the merged expression", async () => {
      const definition = await storedDefinition(stack.url, ada.token, workflowId);
      return definition.steps.find((step: { id: string }) => step.id === "shape")?.config.expression === text;
    }, 10_000);
    await pageB.locator(".side").screenshot({ path: path.join(screenshots, "expression-editor-two-carets.png") });
  }, 60_000);

  it("renaming a step's key rewrites the expressions that use it, for both people", async () => {
    await retype(pageA, "steps.fetch_user.output.name");
    await untilText(expressionOf(pageB), (text) => text === "steps.fetch_user.output.name", "Bea sees the retyped expression");
    await pageA.locator('.react-flow__node[data-id="step_0insp4brb9up"]').click();
    const key = pageA.getByLabel("Key", { exact: true });
    // The panel switches to the clicked step on the next render: wait for it rather than read the old one.
    await until(key, valueOf, "fetch_user");
    await key.fill("Bad key");
    await pageA.getByText(/A step key starts with a lower-case letter/).waitFor({ timeout: 2_000 });
    await key.fill("start");
    await pageA.getByText(/already called start/).waitFor({ timeout: 2_000 });
    await key.fill("user");
    await key.press("Enter");
    await untilText(expressionOf(pageB), (text) => text === "steps.user.output.name", "Bea's editor shows the renamed reference");
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
