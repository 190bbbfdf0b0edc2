/**
 * Co-typed text (docs/ydoc-layout.md L1–L8) in two real Chromium pages, two people: both type into the same
 * field at once — a condition's expression and the workflow name — with seeded keystroke timings, and every
 * character of both survives, in order per author; the local caret stays where it was when the other's
 * text lands; each sees the other's caret in the field. Screenshots go to tests/artifacts/.
 */
import jsonata from "jsonata";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { docMaps, readTextField } from "@algorythmos/domain";
import { createWorkflow, type Account } from "../support/api.js";
import { connectClient, waitFor, waitSynced } from "../support/collab.js";
import { byAuthor, editorText, textOf, typeSlowly, until, valueOf } from "../support/browser.js";
import { mulberry32 } from "../support/random.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
const SEED = 0xc0ffee;
const EXPRESSION = "input.go = true";
const NAME = "Order sync";

let stack: Stack;
let session: StudioSession;
let ada: Account;
let bea: Account;
let workflowId = "";
let pageA: Page;
let pageB: Page;
const consoleErrors: string[] = [];

/** Waits until both fields show the same text and returns it. */
async function converged(a: Locator, b: Locator, read: (field: Locator) => Promise<string> = valueOf): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = ["", ""];
  while (Date.now() < deadline) {
    last = [await read(a), await read(b)];
    if (last[0] === last[1]) return last[0]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`The two pages never agreed: "${last[0]}" vs "${last[1]}"`);
}

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Bea"], viewports: [{ width: 1366, height: 820 }, { width: 1366, height: 820 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, bea] = session.users as [Account, Account];
  [pageA, pageB] = session.pages as [Page, Page];
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, NAME, {
    name: NAME,
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "check", type: "condition", name: "Check", config: { expression: EXPRESSION }, position: { x: 0, y: 140 } },
      { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://crm.example/leads", headers: { accept: "application/json" } }, position: { x: 300, y: 140 } },
    ],
    edges: [
      { id: "start-check", source: "start", target: "check" },
      { id: "check-fetch", source: "check", target: "fetch", label: "true" },
    ],
  });
  workflowId = created.id;
  for (const page of [pageA, pageB]) {
    await page.goto(`${stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
  }
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-"));
afterAll(() => session?.close());

describe("L5 two people typing in one field at once keep every character, in order per author", () => {
  it("a condition's expression: both type at its end at the same time", async () => {
    const rng = mulberry32(SEED);
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="check"]').click();
    // The expression is a CodeMirror editor bound to the field's Y.Text (#17 expression editor).
    const fieldA = pageA.getByRole("textbox", { name: "Expression", exact: true });
    const fieldB = pageB.getByRole("textbox", { name: "Expression", exact: true });
    await until(fieldB, editorText, EXPRESSION);
    for (const field of [fieldA, fieldB]) {
      await field.click();
      await field.press("End");
    }
    // Disjoint alphabets: Ada lower case and punctuation, Bea capitals and digits.
    const adaTypes = " and $exists(input.lead)";
    const beaTypes = " OR 42 XYZ";
    await Promise.all([typeSlowly(pageA, adaTypes, rng), typeSlowly(pageB, beaTypes, mulberry32(SEED + 1))]);
    const text = await converged(fieldA, fieldB, editorText);
    expect(text.startsWith(EXPRESSION), text).toBe(true);
    const typed = text.slice(EXPRESSION.length);
    expect(typed.length, text).toBe(adaTypes.length + beaTypes.length);
    expect(byAuthor(typed, /[a-z$().]/), text).toBe(byAuthor(adaTypes, /[a-z$().]/));
    expect(byAuthor(typed, /[A-Z0-9]/), text).toBe(byAuthor(beaTypes, /[A-Z0-9]/));

    // Each sees the other's caret in the field (Bea's stays in it: she has focus there).
    await fieldA.locator(".cm-ySelectionCaret", { hasText: "Bea" }).waitFor({ state: "attached", timeout: 3_000 });
    await fieldB.locator(".cm-ySelectionCaret", { hasText: "Ada" }).waitFor({ state: "attached", timeout: 3_000 });
    await shot(pageA, "cotyping-expression");

    // The Problems panel judges the merged text: Bea's " OR 42 XYZ" does not parse as JSONata.
    const parses = (() => {
      try {
        jsonata(text);
        return true;
      } catch {
        return false;
      }
    })();
    expect(parses, text).toBe(false);
    for (const page of [pageA, pageB]) await page.getByTestId("problems").getByText(/Invalid expression/).waitFor({ timeout: 3_000 });
    // Ada tidies it up; both see no problems.
    await fieldA.press("ControlOrMeta+a");
    await pageA.keyboard.type("input.go = true and $exists(input.lead)");
    for (const page of [pageA, pageB]) await until(page.locator("#problems-heading"), textOf, "Problems (0)");
  }, 60_000);

  it("the workflow name: Ada types in the middle while Bea types at the end; Ada's caret stays in place", async () => {
    const nameA = pageA.getByLabel("Workflow name");
    const nameB = pageB.getByLabel("Workflow name");
    await until(nameB, valueOf, NAME);
    // Ada's caret after "Order", Bea's at the end.
    await nameA.click();
    await nameA.evaluate((input: HTMLInputElement) => input.setSelectionRange(5, 5));
    await nameB.click();
    await nameB.press("End");
    const adaTypes = "-batch";
    const beaTypes = " [B2]";
    await Promise.all([typeSlowly(pageA, adaTypes, mulberry32(SEED + 2)), typeSlowly(pageB, beaTypes, mulberry32(SEED + 3))]);
    const text = await converged(nameA, nameB);
    // Ada's caret never jumped: her characters are together where she put them; Bea's lost nothing.
    expect(text).toBe("Order-batch sync [B2]");
    expect(await nameA.evaluate((input: HTMLInputElement) => input.selectionStart)).toBe(5 + adaTypes.length);
    await pageB.locator(".collab-text", { has: nameB }).getByTestId("remote-caret").filter({ hasText: "Ada" }).waitFor({ timeout: 3_000 });
    await shot(pageB, "cotyping-name");
    await until(pageA.locator("#problems-heading"), textOf, "Problems (0)");
  }, 60_000);

  it("L6 a header value: both type into it at once (Ada at its end, Bea at its start); a header one adds appears for the other", async () => {
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="fetch"]').click();
    const valueA = pageA.getByLabel("accept value");
    const valueB = pageB.getByLabel("accept value");
    await until(valueB, valueOf, "application/json");
    await valueA.click();
    await valueA.press("End");
    await valueB.click();
    await valueB.press("Home");
    await Promise.all([typeSlowly(pageA, "; q=0.9", mulberry32(SEED + 4)), typeSlowly(pageB, "TEXT/PLAIN, ", mulberry32(SEED + 5))]);
    expect(await converged(valueA, valueB)).toBe("TEXT/PLAIN, application/json; q=0.9");
    // Bea's caret is scrolled out of Ada's view (Ada is at the end): the field's ring names her; once Ada
    // scrolls to the start, the caret itself shows.
    await until(valueA, (field) => field.getAttribute("data-remote-typing"), "Bea");
    await valueA.press("Home");
    await pageA.locator(".collab-text", { has: valueA }).getByTestId("remote-caret").filter({ hasText: "Bea" }).waitFor({ timeout: 3_000 });

    await pageB.getByRole("button", { name: "Add header" }).click();
    const nameB = pageB.getByLabel("Headers 2 name");
    await nameB.fill("x-team");
    await nameB.press("Enter");
    await pageA.getByLabel("x-team value").waitFor({ timeout: 3_000 });
    await pageB.getByLabel("x-team value").click();
    await pageB.keyboard.type("sales");
    await until(pageA.getByLabel("x-team value"), valueOf, "sales");
    await shot(pageA, "cotyping-headers");
  }, 60_000);

  it("L2 an HTTP body sent as text: both type into it at once and keep every character; switching it to JSON is an explicit choice both see", async () => {
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="fetch"]').click();
    const bodyA = pageA.getByLabel("Body", { exact: true });
    const bodyB = pageB.getByLabel("Body", { exact: true });
    await bodyA.click();
    await pageA.keyboard.type("hello");
    await until(bodyB, valueOf, "hello");
    await bodyA.press("End");
    await bodyB.click();
    await bodyB.press("Home");
    await Promise.all([typeSlowly(pageA, " world and more", mulberry32(SEED + 8)), typeSlowly(pageB, "DEAR TEAM, ", mulberry32(SEED + 9))]);
    expect(await converged(bodyA, bodyB)).toBe("DEAR TEAM, hello world and more");
    await shot(pageA, "cotyping-body");

    // Text that is not JSON cannot be switched to JSON: the box says why and keeps the text.
    await pageA.getByRole("group", { name: "Send body as" }).getByRole("button", { name: "JSON" }).click();
    await pageA.getByText("This text is not valid JSON").waitFor({ timeout: 3_000 });
    expect(await valueOf(bodyA)).toBe("DEAR TEAM, hello world and more");
    // Valid JSON text becomes a JSON value for both; back to text, it is that JSON, pretty-printed.
    await bodyA.press("ControlOrMeta+a");
    await pageA.keyboard.type('{"team": "sales"}');
    await until(bodyB, valueOf, '{"team": "sales"}');
    await pageA.getByRole("group", { name: "Send body as" }).getByRole("button", { name: "JSON" }).click();
    await until(pageB.getByRole("group", { name: "Send body as" }).getByRole("button", { name: "JSON" }), (button) => button.getAttribute("aria-pressed"), "true");
    await pageB.getByRole("group", { name: "Send body as" }).getByRole("button", { name: "Text" }).click();
    await until(bodyA, valueOf, JSON.stringify({ team: "sales" }, null, 2));
  }, 60_000);

  it("L4 a field an older client wrote as a plain string: both convert it on focus and type at once, nothing lost", async () => {
    // A client of the layout before Y.Text sets the step name as a plain string.
    const legacy = connectClient(stack.url, workflowId, ada.token);
    try {
      await waitSynced(legacy);
      docMaps(legacy.doc).steps.get("check")!.set("name", "Legacy check");
      for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="check"]').click();
      const nameA = pageA.getByLabel("Step name");
      const nameB = pageB.getByLabel("Step name");
      await until(nameA, valueOf, "Legacy check");
      await until(nameB, valueOf, "Legacy check");
      expect(readTextField(legacy.doc, { kind: "step", stepId: "check", key: "name" }).text).toBeNull();
      // Both focus it at the same moment (each converts it: the same text, whichever wins), then type.
      await Promise.all([nameA.click(), nameB.click()]);
      await nameA.evaluate((input: HTMLInputElement) => input.setSelectionRange(0, 0));
      await nameB.press("End");
      await Promise.all([typeSlowly(pageA, "new-", mulberry32(SEED + 6)), typeSlowly(pageB, " 2X", mulberry32(SEED + 7))]);
      expect(await converged(nameA, nameB)).toBe("new-Legacy check 2X");
      await waitFor("the old client to see the typed name", async () => readTextField(legacy.doc, { kind: "step", stepId: "check", key: "name" }).value === "new-Legacy check 2X");
      expect(readTextField(legacy.doc, { kind: "step", stepId: "check", key: "name" }).text).not.toBeNull();
    } finally {
      legacy.destroy();
    }
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
