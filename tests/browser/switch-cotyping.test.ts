/**
 * Switch cases co-typed (docs/ydoc-layout.md L11) in two real Chromium pages: Ada and Bea type into one case's
 * expression at once, with seeded keystroke timings, and both end with the same text holding every character
 * of both, in order per author; each sees the other's caret in it. A case one adds appears for the other, the
 * stored definition keeps the engine's shape (`cases: [{ key, expression }]`), and a list an older client
 * wrote as plain JSON converts on focus with nothing lost. Screenshots go to tests/artifacts/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { docMaps } from "@algorythmos/domain";
import type * as Y from "yjs";
import { createWorkflow, type Account } from "../support/api.js";
import { connectClient, storedDefinition, waitFor, waitSynced } from "../support/collab.js";
import { byAuthor, editorText, textOf, typeSlowly, until, valueOf } from "../support/browser.js";
import { mulberry32 } from "../support/random.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
const SEED = 0x5eed5;
const BIG = "$count(input.orders) > 2";
const VIP = "input.vip = true";

let stack: Stack;
let session: StudioSession;
let ada: Account;
let bea: Account;
let workflowId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];

/** A case's expression: the expression editor (CodeMirror), named by its label. */
const expressionEditor = (page: Page, label: string) => page.getByRole("textbox", { name: label, exact: true });

async function converged(a: Locator, b: Locator): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = ["", ""];
  while (Date.now() < deadline) {
    last = [await editorText(a), await editorText(b)];
    if (last[0] === last[1]) return last[0]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The two pages never agreed: "${last[0]}" vs "${last[1]}"`);
}

const switchCases = async () => (await storedDefinition(stack.url, ada.token, workflowId)).steps.find((s) => s.id === "route")?.config.cases as unknown[] | undefined;

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea"], viewports: [{ width: 1366, height: 820 }, { width: 1366, height: 820 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Routing", {
    name: "Routing",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "route", type: "switch", name: "Route", config: { cases: [{ key: "big", expression: BIG }, { key: "vip", expression: VIP }] }, position: { x: 0, y: 140 } },
    ],
    edges: [{ id: "start-route", source: "start", target: "route" }],
  });
  workflowId = created.id;
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-"));
afterAll(() => session?.close());

describe("L11 two people typing in one switch case's expression keep every character", () => {
  it("L11: Ada at the end and Bea at the start of case 2's expression, at once; both see the same text and each other's caret", async () => {
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="route"]').click();
    const fieldA = expressionEditor(pageA, "Case 2 expression");
    const fieldB = expressionEditor(pageB, "Case 2 expression");
    await until(fieldB, editorText, VIP);
    await fieldA.click();
    await fieldA.press("ControlOrMeta+End");
    await fieldB.click();
    await fieldB.press("ControlOrMeta+Home");
    // Disjoint alphabets: Ada lower case and punctuation, Bea capitals and digits (and no character of VIP).
    const adaTypes = " and $exists(input.id)";
    const beaTypes = "XYZ 42 ";
    await Promise.all([typeSlowly(pageA, adaTypes, mulberry32(SEED)), typeSlowly(pageB, beaTypes, mulberry32(SEED + 1))]);
    const text = await converged(fieldA, fieldB);
    expect(text).toBe(`${beaTypes}${VIP}${adaTypes}`);
    expect(byAuthor(text, /[A-Z0-9]/)).toBe("XYZ42");

    // Each sees the other's caret, with their name, in this very field (the expression editor draws it).
    await fieldA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 5_000 });
    await fieldB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 5_000 });
    await fieldA.press("ControlOrMeta+Home");
    await fieldA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "visible", timeout: 3_000 });
    await shot(pageA, "switch-cotyping-expression");
    // Case 1 untouched; the stored definition is the engine's shape, with the merged text.
    expect(await editorText(expressionEditor(pageB, "Case 1 expression"))).toBe(BIG);
    await waitFor("the stored cases to hold the merged text", async () => JSON.stringify(await switchCases()) === JSON.stringify([{ key: "big", expression: BIG }, { key: "vip", expression: text }]), 10_000);
    // Bea tidies it up again.
    await fieldB.press("ControlOrMeta+a");
    await pageB.keyboard.type(VIP);
    await until(fieldA, editorText, VIP);
  }, 60_000);

  it("L11: a case Bea adds appears for Ada; Ada types its key while Bea types its expression; removing it removes it for both", async () => {
    await pageB.getByRole("button", { name: "Add case" }).click();
    const keyA = pageA.getByLabel("Case 3 key");
    await keyA.waitFor({ timeout: 5_000 });
    await Promise.all([
      (async () => {
        await keyA.click();
        await typeSlowly(pageA, "gold", mulberry32(SEED + 2));
      })(),
      (async () => {
        await expressionEditor(pageB, "Case 3 expression").click();
        await typeSlowly(pageB, "input.tier = 'gold'", mulberry32(SEED + 3));
      })(),
    ]);
    await until(pageB.getByLabel("Case 3 key"), valueOf, "gold");
    await until(expressionEditor(pageA, "Case 3 expression"), editorText, "input.tier = 'gold'");
    // The new case is a branch of the switch on both canvases.
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="route"] .react-flow__handle.source[data-handleid="gold"]').waitFor({ timeout: 5_000 });
    await waitFor("the stored cases to hold the new case", async () => JSON.stringify((await switchCases())?.[2]) === JSON.stringify({ key: "gold", expression: "input.tier = 'gold'" }), 10_000);
    await shot(pageB, "switch-cotyping-add-case");

    // Bea moves it to the top; Ada sees it there, with its text.
    await pageB.getByRole("button", { name: "Move case 3 up" }).click();
    await until(pageA.getByLabel("Case 2 key"), valueOf, "gold");
    await until(pageA.getByLabel("Case 3 key"), valueOf, "vip");
    await pageA.getByRole("button", { name: "Remove case 2" }).click();
    await pageB.getByLabel("Case 3 key").waitFor({ state: "detached", timeout: 5_000 });
    await waitFor("the stored cases without it", async () => JSON.stringify(await switchCases()) === JSON.stringify([{ key: "big", expression: BIG }, { key: "vip", expression: VIP }]), 10_000);
  }, 60_000);

  it("L11 + L1: cases an older client wrote as a plain JSON array: both focus case 1's expression (converting it) and type at once, nothing lost", async () => {
    const legacy = connectClient(stack.url, workflowId, ada.token);
    try {
      await waitSynced(legacy);
      const config = docMaps(legacy.doc).steps.get("route")!.get("config") as Y.Map<unknown>;
      config.set("cases", [{ key: "big", expression: "input.n > 9" }, { key: "vip", expression: VIP }]);
      const fieldA = expressionEditor(pageA, "Case 1 expression");
      const fieldB = expressionEditor(pageB, "Case 1 expression");
      await until(fieldA, editorText, "input.n > 9");
      await until(fieldB, editorText, "input.n > 9");
      await Promise.all([fieldA.click(), fieldB.click()]);
      await fieldA.press("ControlOrMeta+End");
      await fieldB.press("ControlOrMeta+Home");
      await Promise.all([typeSlowly(pageA, " and input.ok", mulberry32(SEED + 4)), typeSlowly(pageB, "XY ", mulberry32(SEED + 5))]);
      expect(await converged(fieldA, fieldB)).toBe("XY input.n > 9 and input.ok");
      await waitFor("the old client to see the Y.Array form with the typed text", async () => {
        const cases = (docMaps(legacy.doc).steps.get("route")!.get("config") as Y.Map<unknown>).get("cases");
        return !Array.isArray(cases) && JSON.stringify(await switchCases()) === JSON.stringify([{ key: "big", expression: "XY input.n > 9 and input.ok" }, { key: "vip", expression: VIP }]);
      }, 10_000);
    } finally {
      legacy.destroy();
    }
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("L11: a case's expression is the expression editor, like a condition's: JSONata colours, suggestions of input and earlier steps, an inline error, a preview", async () => {
    const field = expressionEditor(pageA, "Case 1 expression");
    const row = pageA.locator(".text-list-row", { has: field });
    await field.click();
    await field.press("ControlOrMeta+a");
    await pageA.keyboard.type("input.n > 9 and ", { delay: 15 });
    // Colours: the editor tokenises JSONata (the keyword and the number are coloured spans).
    await row.locator(".cm-content span", { hasText: "and" }).first().waitFor({ timeout: 5_000 });
    await pageA.keyboard.press("ControlOrMeta+Space");
    const suggestions = pageA.locator(".cm-tooltip-autocomplete");
    await suggestions.getByText("steps", { exact: true }).waitFor({ timeout: 5_000 });
    await suggestions.getByText("input", { exact: true }).waitFor({ timeout: 5_000 });
    await pageA.keyboard.press("Escape");
    await pageA.keyboard.type("]");
    await row.getByTestId("expression-error").filter({ hasText: "Invalid expression" }).waitFor({ timeout: 5_000 });
    await row.locator(".cm-lintRange-error").first().waitFor({ timeout: 5_000 });
    await expect(row.getByTestId("expression-preview").textContent()).resolves.toMatch(/Preview/);
    await shot(pageA, "switch-case-expression-editor");
    await pageA.keyboard.press("Backspace");
    await pageA.keyboard.type("input.ok", { delay: 15 });
    await pageA.keyboard.press("Escape");
    await until(expressionEditor(pageB, "Case 1 expression"), editorText, "input.n > 9 and input.ok");
    await row.getByTestId("expression-error").waitFor({ state: "detached", timeout: 5_000 });
    await waitFor("the stored case to hold it", async () => (await switchCases())?.[0] !== undefined && JSON.stringify((await switchCases())![0]) === JSON.stringify({ key: "big", expression: "input.n > 9 and input.ok" }), 10_000);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
