/**
 * Static checks in the editor (issue #17, defects 4, 5 and 8; docs/run-engine.md R52–R54), in Chromium: what the
 * worker would refuse shows in Problems and on the node while editing (a missing credential, a malformed URL, an
 * invalid JSONata expression), steps no run reaches and triggers that start nothing are warned about, every
 * problem goes as soon as it is fixed (an undone cycle too, and the refused run's message with it), and a viewer
 * is never told the workflow "can run". Screenshots go to tests/artifacts/screenshots/.
 */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, type Account } from "../support/api.js";
import { recordConsoleErrors, textOf, until, untilCount } from "../support/browser.js";
import { logIn, openStudioSession, type StudioSession } from "../support/studio-session.js";

const screenshots = path.resolve("tests/artifacts/screenshots");
let stack: Stack;
let session: StudioSession;
let page: Page;
let ada: Account;
let vic: Account;
let workflowId = "";
const consoleErrors: string[] = [];
/** "Within a second" on an idle laptop; CI's two shared cores get a little slack. */
const PROMPTLY = 2_500;

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
/** Whether the step's node is drawn as having problems (StepNode's has-problems). */
const flagged = async (id: string) => ((await node(id).locator(".step-node").getAttribute("class", { timeout: 1_000 }))?.includes("has-problems") ? "flagged" : "clean");
const problems = () => page.getByTestId("problems");
const warnings = () => page.getByTestId("warnings");
const panelShot = (name: string) => page.getByTestId("problems-panel").screenshot({ path: path.join(screenshots, `${name}.png`) });

async function openEditor(target: Page) {
  await target.goto(`${stack.url}/workflows/${workflowId}`);
  await until(target.getByTestId("connection-status"), textOf, "connected");
  await untilCount(target.locator(".react-flow__node:not(.ghost-node):not(.loop-group-node)"), 6);
}

/** Replaces a field's whole text by typing, as a person does (an input, or the expression editor). */
async function retype(field: Locator, text: string) {
  await field.click();
  await field.press("ControlOrMeta+a");
  await page.keyboard.type(text);
}

/** The selected transform's expression: the CodeMirror expression editor once loaded, else its text box. */
async function expressionField(): Promise<Locator> {
  const field = page.getByTestId("expression-field");
  const box = page.getByRole("textbox", { name: "Expression", exact: true });
  await field.or(box).first().waitFor({ timeout: 10_000 });
  if (!(await field.count())) return box;
  // Its placeholder shows the text until CodeMirror is loaded; type only into the editor itself.
  const editor = page.locator('[data-testid="expression-field"][data-loaded] .cm-content');
  await editor.waitFor({ timeout: 10_000 });
  return editor;
}

beforeAll(async () => {
  // Ada edits in the one page; Vic, a viewer, opens his own page in the viewer test.
  session = await openStudioSession({ users: ["Ada", "Vic"], role: "viewer", viewports: [{ width: 1440, height: 900 }], consoleErrors });
  ({ stack } = session);
  [ada, vic] = session.users as [Account, Account];
  [page] = session.pages as [Page];
  await gql(
    stack.url,
    `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`,
    { input: { workspaceId: ada.workspaceId, name: "Team key", type: "openai", secret: { apiKey: "sk-test" } } },
    ada.token,
  ).then(ok);
  const created = await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order digest", {
    schemaVersion: 1,
    name: "Order digest",
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "fetch", type: "http.request", name: "Fetch order", config: { method: "GET", url: "https://api.example.com/orders/{{ input.id }}" }, position: { x: 260, y: 0 } },
      { id: "shape", type: "transform", name: "Shape", config: { expression: "steps.fetch.output.body" }, position: { x: 520, y: 0 } },
      // A credential that was deleted: the run would fail at this step; the editor says so now.
      { id: "summarise", type: "openai.chat", name: "Summarise", config: { credentialId: "cred_gone", model: "gpt-4o-mini", messages: [{ role: "user", content: "Summarise it" }] }, position: { x: 780, y: 0 } },
      { id: "loose", type: "transform", name: "Loose end", config: { expression: `"never"` }, position: { x: 260, y: 200 } },
      { id: "hook", type: "trigger.webhook", name: "Order webhook", config: {}, position: { x: 0, y: 200 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "fetch" },
      { id: "e2", source: "fetch", target: "shape" },
      { id: "e3", source: "shape", target: "summarise" },
    ],
  });
  workflowId = created.id;
  await openEditor(page);
}, 240_000);

afterAll(() => session?.close());

describe("R52–R54: static checks while editing", () => {
  it("R52 R53: a missing credential is a problem on its step; a step no trigger reaches and an unconnected trigger are warnings", async () => {
    await problems().getByText(`Step "Summarise": credentialId: Credential "cred_gone" does not exist in this workspace`).waitFor({ timeout: 10_000 });
    await until(page.locator("#problems-heading"), textOf, "Problems (1)");
    await warnings().getByText(`Step "Loose end" never runs: no trigger leads to it`, { exact: false }).waitFor();
    await warnings().getByText(`Trigger "Order webhook" is not connected`, { exact: false }).waitFor();
    expect(await flagged("summarise")).toBe("flagged");
    expect(await flagged("loose")).toBe("flagged");
    await panelShot("problems-credential-and-warnings");

    // Choosing a credential the workspace has clears it at once; the warnings stay (they do not block).
    await node("summarise").click();
    await page.getByLabel("Credential", { exact: true }).selectOption({ label: "Team key" });
    await until(page.locator("#problems-heading"), textOf, "Problems (0)", PROMPTLY);
    await page.getByTestId("problems-status").getByText("No problems: this workflow can run.").waitFor({ timeout: PROMPTLY });
    await untilCount(warnings().locator("li"), 2);
  }, 60_000);

  it("R52: a malformed URL and an invalid JSONata expression show in Problems and on the node within a second; fixing them clears both", async () => {
    await node("fetch").click();
    const url = page.getByLabel("URL", { exact: true });
    await retype(url, "htp//api.example.com/orders/{{ input.id }}");
    await problems().getByText(`Step "Fetch order": url: Invalid URL "htp//api.example.com/orders/{{ input.id }}": start it with https:// or http://`).waitFor({ timeout: PROMPTLY });
    await until(node("fetch"), () => flagged("fetch"), "flagged", PROMPTLY);
    await retype(url, "https://api.example.com/orders/{{ input.id }} {{ input.x + 1 }}");
    await problems().getByText(/"\{\{ input\.x \+ 1 \}\}" is not a template/).waitFor({ timeout: PROMPTLY });
    await panelShot("problems-invalid-url");
    await retype(url, "https://api.example.com/orders/{{ input.id }}");
    await until(page.locator("#problems-heading"), textOf, "Problems (0)", PROMPTLY);
    await until(node("fetch"), () => flagged("fetch"), "clean", PROMPTLY);

    await node("shape").click();
    await retype(await expressionField(), "steps.fetch.output.body +");
    await problems().getByText(/Step "Shape": expression: Invalid expression: Unexpected end of expression/).waitFor({ timeout: PROMPTLY });
    await until(node("shape"), () => flagged("shape"), "flagged", PROMPTLY);
    await retype(await expressionField(), "steps.fetch.output.body");
    await until(page.locator("#problems-heading"), textOf, "Problems (0)", PROMPTLY);
    await until(node("shape"), () => flagged("shape"), "clean", PROMPTLY);
  }, 60_000);

  it("R54: a cycle is a problem, the run it refuses says so, and undoing the cycle clears both", async () => {
    // Summarise → Fetch order closes fetch → shape → summarise → fetch.
    await page.getByRole("button", { name: "Run", exact: true }).scrollIntoViewIfNeeded();
    const start = await node("summarise").locator(".react-flow__handle.source:not([data-handleid])").boundingBox();
    const end = await node("fetch").locator(".react-flow__handle.target").boundingBox();
    if (!start || !end) throw new Error("handles not drawn");
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
    await page.mouse.down();
    await page.mouse.move((start.x + end.x) / 2, end.y + 120, { steps: 6 });
    await page.mouse.move(end.x + end.width / 2, end.y + end.height / 2, { steps: 6 });
    await page.mouse.up();
    await problems().getByText("Steps form a cycle", { exact: false }).waitFor({ timeout: PROMPTLY });

    await page.getByRole("button", { name: "Run", exact: true }).click();
    const refused = page.locator(".form-error[role=alert]");
    await refused.getByText("Steps form a cycle", { exact: false }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(screenshots, "problems-cycle-refused.png") });

    await page.getByRole("button", { name: "Undo", exact: true }).click();
    await until(page.locator("#problems-heading"), textOf, "Problems (0)", PROMPTLY);
    await untilCount(refused, 0, PROMPTLY);
    await page.getByTestId("problems-status").getByText("No problems: this workflow can run.").waitFor({ timeout: PROMPTLY });
    await page.screenshot({ path: path.join(screenshots, "problems-editor.png") });

    // R4: two triggers, so the Run panel asks where the run starts — the manual trigger by default.
    const startAt = page.getByLabel("Start at", { exact: true });
    expect(await startAt.locator("option").allTextContents()).toEqual(["Start", "Order webhook"]);
    expect(await startAt.inputValue()).toBe("start");
  }, 60_000);

  it("a viewer sees a read-only notice instead of \"this workflow can run\"", async () => {
    const context = await session.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    recordConsoleErrors(viewer, consoleErrors);
    try {
      await logIn(viewer, stack.url, vic);
      await openEditor(viewer);
      await viewer.getByTestId("problems-status").getByText("View only", { exact: false }).waitFor({ timeout: 10_000 });
      expect(await viewer.getByText("this workflow can run", { exact: false }).count()).toBe(0);
      await viewer.getByTestId("problems-panel").screenshot({ path: path.join(screenshots, "problems-viewer.png") });
    } finally {
      await context.close();
    }
  }, 60_000);

  it("left no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
