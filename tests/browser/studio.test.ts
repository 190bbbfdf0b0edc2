/**
 * The studio as two people use it, in two browser contexts (two users, two sessions): the owner imports a
 * workflow and invites the second user through the settings page; both co-edit it (live steps, presence,
 * per-user undo); a run started in the editor fills its trace live; a version is saved, changed, compared
 * on the canvas and restored for everyone. Screenshots of the key screens go to tests/artifacts/.
 */
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { signUpInBrowser, startFakeOpenAI, textOf, until, untilCount, valueOf } from "../support/browser.js";
import { startEchoServer } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const artifacts = path.resolve("tests/artifacts");
const PASSWORD = "correct horse battery";
const stamp = Date.now();
const ada = { name: "Ada", email: `ada-${stamp}@example.test`, password: PASSWORD };
const bea = { name: "Bea", email: `bea-${stamp}@example.test`, password: PASSWORD };

let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let llm: Awaited<ReturnType<typeof startFakeOpenAI>>;
let session: StudioSession;
let contextB: BrowserContext;
let pageA: Page;
let pageB: Page;
let workflowId = "";
/** The "Ask the model" workflow (an openai.chat step), co-edited in the prompt test. */
let askWorkflowId = "";
const consoleErrors: string[] = [];

const nodes = (page: Page) => page.locator(".react-flow__node:not(.ghost-node)");
const nodeIds = (page: Page) => nodes(page).evaluateAll((els) => els.map((el) => el.getAttribute("data-id") ?? ""));

beforeAll(async () => {
  // No one signed up yet: the first test signs both people up through the studio's form.
  [session, echo, llm] = await Promise.all([openStudioSession({ viewports: [{ width: 1366, height: 820 }, { width: 1280, height: 800 }], signIn: "none", consoleErrors }), startEchoServer(), startFakeOpenAI()]);
  session.alsoClose(echo, llm);
  ({ stack } = session);
  [pageA, pageB] = session.pages as [Page, Page];
  contextB = session.contexts[1]!;
}, 180_000);

// A failed step leaves what each person saw, for diagnosis.
afterEach((context) => screenshotOnFailure(session, context));
afterAll(() => session?.close());

describe("studio: two people, one workflow", () => {
  it("the owner imports a workflow and invites a second user as editor from the settings page", async () => {
    await signUpInBrowser(pageB, stack.url, bea);
    await signUpInBrowser(pageA, stack.url, ada);

    const definition = {
      name: "Order follow-up",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        { id: "wait", type: "delay", name: "Wait a moment", config: { durationMs: 3000 }, position: { x: 260, y: 0 } },
        { id: "notify", type: "http.request", name: "Notify", config: { method: "GET", url: `${echo.url}/follow-up` }, position: { x: 520, y: 0 } },
      ],
      edges: [
        { id: "start-wait", source: "start", target: "wait" },
        { id: "wait-notify", source: "wait", target: "notify" },
      ],
    };
    await pageA.getByLabel("Workflow JSON").fill(JSON.stringify(definition));
    await pageA.getByRole("button", { name: "Import workflow" }).click();
    await pageA.waitForURL(/\/workflows\/[^/]+$/);
    workflowId = decodeURIComponent(new URL(pageA.url()).pathname.split("/").pop()!);
    await until(pageA.getByTestId("connection-status"), textOf, "connected");
    await untilCount(nodes(pageA), 3);

    await pageA.getByRole("link", { name: "← Workflows" }).click();
    await pageA.getByRole("link", { name: "Workspace settings" }).click();
    await pageA.waitForURL(/\/workspaces\/[^/]+\/settings$/);
    await pageA.getByLabel("Email").fill(bea.email);
    await pageA.getByLabel("Role", { exact: true }).selectOption("editor");
    await pageA.getByRole("button", { name: "Invite" }).click();
    const members = pageA.getByRole("table", { name: "Members" });
    await members.getByRole("cell", { name: bea.email }).waitFor({ timeout: 10_000 });
    expect(await members.getByRole("row").filter({ hasText: bea.email }).textContent()).toContain("editor");
    await shot(pageA, "settings-members");
  }, 60_000);

  it("co-edits live: a step added by one appears for the other, presence shows both, undo is per user", async () => {
    // Bea finds the shared workspace through the workspace switcher.
    await pageB.goto(`${stack.url}/workflows`);
    const switcher = pageB.getByLabel("Workspace");
    const option = await switcher.locator("option", { hasText: "editor" }).getAttribute("value");
    await switcher.selectOption(option!);
    await pageB.getByRole("link", { name: "Order follow-up", exact: true }).click();
    await pageB.waitForURL(new RegExp(`/workflows/${workflowId}$`));

    await pageA.goto(`${stack.url}/workflows/${workflowId}`);
    for (const page of [pageA, pageB]) await until(page.getByTestId("connection-status"), textOf, "connected");
    await untilCount(nodes(pageB), 3);

    // Presence: each sees the other.
    await pageA.getByTestId("presence").getByText("Bea").waitFor({ timeout: 5_000 });
    await pageB.getByTestId("presence").getByText("Ada").waitFor({ timeout: 5_000 });

    const before = await nodeIds(pageA);
    await pageA.getByRole("button", { name: "Add Delay" }).click();
    await untilCount(nodes(pageA), 4, 2_000);
    const adaStep = (await nodeIds(pageA)).find((id) => !before.includes(id))!;
    await pageB.locator(`.react-flow__node[data-id="${adaStep}"]`).waitFor({ timeout: 2_000 });

    await pageB.getByRole("button", { name: "Add Transform" }).click();
    await untilCount(nodes(pageB), 5, 2_000);
    const beaStep = (await nodeIds(pageB)).find((id) => !before.includes(id) && id !== adaStep)!;
    await pageA.locator(`.react-flow__node[data-id="${beaStep}"]`).waitFor({ timeout: 2_000 });

    // Bea's new step is selected on her side: Ada sees it outlined with Bea's name; and Bea's pointer.
    await pageA.locator(`.react-flow__node[data-id="${beaStep}"] [data-selected-by="Bea"]`).waitFor({ timeout: 3_000 });
    const canvasB = await pageB.locator(".react-flow__pane").boundingBox();
    await pageB.mouse.move(canvasB!.x + canvasB!.width / 2, canvasB!.y + canvasB!.height - 60);
    await pageB.mouse.move(canvasB!.x + canvasB!.width / 2 + 20, canvasB!.y + canvasB!.height - 50);
    await pageA.getByTestId("remote-cursor").first().waitFor({ timeout: 3_000 });
    await shot(pageA, "editor-coediting-presence");

    // Ada's undo removes only Ada's step, for both of them.
    await pageA.getByRole("button", { name: "Undo" }).click();
    await untilCount(pageA.locator(`.react-flow__node[data-id="${adaStep}"]`), 0, 2_000);
    await untilCount(pageB.locator(`.react-flow__node[data-id="${adaStep}"]`), 0, 2_000);
    expect(await pageA.locator(`.react-flow__node[data-id="${beaStep}"]`).count()).toBe(1);
    expect(await pageB.locator(`.react-flow__node[data-id="${beaStep}"]`).count()).toBe(1);

    // Bea tidies up her own step with her undo, so the workflow runs as imported.
    await pageB.getByRole("button", { name: "Undo" }).click();
    await untilCount(nodes(pageA), 3, 2_000);
    await untilCount(nodes(pageB), 3, 2_000);
  }, 60_000);

  it("keeps edits made offline and merges them with the others' edits on reconnect", async () => {
    await contextB.setOffline(true);
    await until(pageB.getByTestId("connection-status"), textOf, "offline", 5_000);
    const before = await nodeIds(pageA);
    await pageB.getByRole("button", { name: "Add Delay" }).click(); // offline edit
    await pageA.getByRole("button", { name: "Add Transform" }).click(); // concurrent online edit
    await untilCount(nodes(pageA), 4, 2_000);
    await untilCount(nodes(pageB), 4, 2_000);
    const aOnly = await nodeIds(pageA);
    const bOnly = await nodeIds(pageB);
    expect(aOnly.filter((id) => !before.includes(id))).not.toEqual(bOnly.filter((id) => !before.includes(id)));
    await shot(pageB, "editor-offline");

    await contextB.setOffline(false);
    await until(pageB.getByTestId("connection-status"), textOf, "connected", 10_000);
    await untilCount(nodes(pageA), 5, 5_000);
    await untilCount(nodes(pageB), 5, 5_000);

    // Each undoes their own step again: back to the imported graph.
    await pageB.getByRole("button", { name: "Undo" }).click();
    await pageA.getByRole("button", { name: "Undo" }).click();
    await untilCount(nodes(pageA), 3, 3_000);
    await untilCount(nodes(pageB), 3, 3_000);
  }, 60_000);

  it("shows the other person's caret in a step's notes", async () => {
    for (const page of [pageA, pageB]) await page.locator('.react-flow__node[data-id="notify"]').click();
    const notesA = pageA.getByRole("textbox", { name: "Notes" });
    await notesA.click();
    await pageA.keyboard.type("Check the endpoint first");
    const notesB = pageB.getByRole("textbox", { name: "Notes" });
    // The text without the carets drawn inside it.
    const text = (locator: typeof notesB) =>
      locator.evaluate((element) => {
        const copy = element.cloneNode(true) as HTMLElement;
        copy.querySelectorAll(".collaboration-carets__caret").forEach((caret) => caret.remove());
        return copy.textContent;
      });
    await until(notesB, text, "Check the endpoint first", 3_000);
    await notesB.locator(".collaboration-carets__label", { hasText: "Ada" }).waitFor({ timeout: 3_000 });
    await shot(pageB, "editor-notes-caret");
  }, 30_000);

  it("a run started from the editor fills its trace live, and re-runs from a step", async () => {
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    const status = pageA.getByTestId("trace-run-status");
    // The delay keeps the run going for 3 s: the page shows it unfinished, then fills in without a reload.
    const early = await textOf(status);
    expect(["queued", "running"]).toContain(early);
    await pageA.getByTestId("trace-step-start").waitFor({ timeout: 5_000 });
    await until(status, textOf, "succeeded", 20_000);
    for (const stepId of ["start", "wait", "notify"]) {
      await until(pageA.getByTestId(`trace-step-${stepId}`), (l) => l.getAttribute("data-status"), "succeeded", 5_000);
    }
    expect(echo.requests.some((request) => request.url === "/follow-up")).toBe(true);

    await pageA.getByTestId("trace-step-notify").click();
    const detail = pageA.getByTestId("step-detail");
    await detail.getByRole("group", { name: "Output" }).getByText('"/follow-up"').first().waitFor({ timeout: 5_000 });
    await shot(pageA, "run-trace");

    const firstRun = pageA.url();
    await detail.getByRole("button", { name: "Re-run from here" }).click();
    await pageA.waitForURL((url) => url.toString() !== firstRun && /\/runs\/[^/]+$/.test(url.pathname));
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    expect(await pageA.getByText("Re-run of").count()).toBe(1);

    await pageA.getByRole("link", { name: "Runs", exact: true }).click();
    await untilCount(pageA.getByTestId("runs-table").locator("tbody tr"), 2, 5_000);
    await shot(pageA, "runs-list");
  }, 60_000);

  it("saves a version, compares it with a change on the canvas, and restores it for everyone", async () => {
    await pageA.goto(`${stack.url}/workflows/${workflowId}`);
    await until(pageA.getByTestId("connection-status"), textOf, "connected");
    await untilCount(nodes(pageA), 3);
    await pageA.getByRole("button", { name: "History" }).click();
    await pageA.getByLabel("Version label").fill("As imported");
    await pageA.getByRole("button", { name: "Save version" }).click();
    await pageA.getByTestId("version-1").waitFor({ timeout: 5_000 });
    expect(await pageA.getByTestId("version-1").getByTestId("version-meta").textContent()).toContain("by Ada");

    // Bea changes the workflow: a new step.
    await pageB.getByRole("button", { name: "Add Condition" }).click();
    await untilCount(nodes(pageA), 4, 2_000);

    await pageA.getByRole("button", { name: "Compare v1 “As imported” with now" }).click();
    await pageA.locator('.react-flow__node [data-diff="added"]').waitFor({ timeout: 3_000 });
    expect(await pageA.getByTestId("diff-summary").textContent()).toContain("1 step(s) added");
    await shot(pageA, "version-diff");

    await pageA.getByRole("button", { name: "Restore v1 “As imported”" }).click();
    await pageA.getByRole("button", { name: "Confirm restore" }).click();
    // The restore reaches both editors through Yjs.
    await untilCount(nodes(pageB), 3, 5_000);
    await untilCount(nodes(pageA), 3, 5_000);
    await pageA.getByTestId("diff-summary").getByText("No differences.").waitFor({ timeout: 5_000 });
    await shot(pageB, "version-restored-other-user");
  }, 60_000);

  it("lists runs live for another person, re-runs a step with an edited config, and cancels it", async () => {
    await pageB.getByRole("link", { name: "Runs", exact: true }).click();
    await pageB.waitForURL(new RegExp(`/workflows/${workflowId}/runs$`));
    const rowsB = pageB.getByTestId("runs-table").locator("tbody tr");
    await untilCount(rowsB, 2);

    await pageA.getByRole("button", { name: "History" }).click(); // back to the run and step panels
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await untilCount(rowsB, 3, 5_000); // arrives through the workflowRuns subscription, no reload
    await until(rowsB.first().locator(".badge"), textOf, "succeeded", 20_000);

    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    await pageA.getByTestId("trace-step-wait").click();
    const detail = pageA.getByTestId("step-detail");
    await detail.getByLabel("Edit this step's config for the re-run").check();
    await detail.getByLabel("Step config (JSON)").fill(JSON.stringify({ durationMs: 60_000 }));
    const previous = pageA.url();
    await detail.getByRole("button", { name: "Re-run from here" }).click();
    await pageA.waitForURL((url) => url.toString() !== previous && /\/runs\/[^/]+$/.test(url.pathname));
    await untilCount(rowsB, 4, 5_000);

    await pageA.getByRole("button", { name: "Cancel run" }).click();
    await until(pageA.getByTestId("trace-run-status"), textOf, "canceled", 10_000);
    await until(rowsB.first().locator(".badge"), textOf, "canceled", 10_000);
    await shot(pageB, "runs-list-live");
  }, 90_000);

  it("adds a credential and an API token in settings, and an LLM step's trace shows its text and token usage", async () => {
    await pageA.goto(`${stack.url}/workflows`);
    await pageA.getByRole("link", { name: "Workspace settings" }).click();
    await pageA.getByLabel("Credential name").fill("Fake LLM");
    await pageA.getByLabel("Type").selectOption("openai");
    await pageA.getByLabel("API key").fill("sk-test-not-real");
    await pageA.getByLabel(/Base URL/).fill("not a url");
    await pageA.getByRole("button", { name: "Save credential" }).click();
    // Validation from the domain's credential schema, shown on the field.
    await pageA.getByText("baseURL must be a URL").waitFor({ timeout: 5_000 });
    await pageA.getByLabel("API key").fill("sk-test-not-real");
    await pageA.getByLabel(/Base URL/).fill(llm.url);
    await pageA.getByRole("button", { name: "Save credential" }).click();
    const credentials = pageA.getByRole("table", { name: "Credentials" });
    const row = credentials.getByRole("row").filter({ hasText: "Fake LLM" });
    await row.waitFor({ timeout: 5_000 });
    expect(await credentials.textContent()).not.toContain("sk-test-not-real");
    const credentialId = (await row.locator("code").textContent())!.trim();

    await pageA.getByLabel("Token name").fill("CI");
    await pageA.getByRole("button", { name: "Create token" }).click();
    const token = (await pageA.getByTestId("new-token-value").textContent({ timeout: 5_000 }))!.trim();
    expect(token.length).toBeGreaterThan(20);
    const tokens = pageA.getByRole("table", { name: "API tokens" });
    await tokens.getByRole("row").filter({ hasText: "CI" }).waitFor();
    await shot(pageA, "settings-token-once");
    await pageA.reload();
    expect(await pageA.getByTestId("new-token").count()).toBe(0); // shown once only
    await pageA.getByRole("button", { name: "Revoke token CI" }).click();
    await tokens.getByRole("row").filter({ hasText: "CI" }).getByText("revoked").waitFor({ timeout: 5_000 });

    await pageA.goto(`${stack.url}/workflows`);
    const definition = {
      name: "Ask the model",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        // A short wait, so the trace is open before the model starts streaming.
        { id: "pause", type: "delay", name: "Pause", config: { durationMs: 1000 }, position: { x: 260, y: 0 } },
        {
          id: "ask",
          type: "openai.chat",
          name: "Ask",
          config: { credentialId, model: "fake-model", messages: [{ role: "user", content: "Say hello" }] },
          position: { x: 520, y: 0 },
        },
      ],
      edges: [
        { id: "start-pause", source: "start", target: "pause" },
        { id: "pause-ask", source: "pause", target: "ask" },
      ],
    };
    await pageA.getByLabel("Workflow JSON").fill(JSON.stringify(definition));
    await pageA.getByRole("button", { name: "Import workflow" }).click();
    await pageA.waitForURL(/\/workflows\/[^/]+$/);
    askWorkflowId = decodeURIComponent(new URL(pageA.url()).pathname.split("/").pop()!);
    await until(pageA.getByTestId("connection-status"), textOf, "connected");
    // The step panel offers the credential by name and the prompt as a list of messages.
    await pageA.locator('.react-flow__node[data-id="ask"]').click();
    expect(await valueOf(pageA.getByLabel("Credential", { exact: true }))).toBe(credentialId);
    expect(await pageA.getByLabel("Credential", { exact: true }).locator("option:checked").textContent()).toBe("Fake LLM");
    await pageA.getByLabel("Message 1 text").fill("Say hello twice");
    await shot(pageA, "editor-llm-step");
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    // The running step is shown by itself; its text streams in (STEP_CHUNK events) before the step finishes.
    const streamed = pageA.getByTestId("streamed-text");
    await streamed.waitFor({ timeout: 10_000 });
    await until(pageA.getByTestId("trace-step-ask"), (l) => l.getAttribute("data-status"), "running", 5_000);
    expect(await textOf(streamed)).toMatch(/^Hello/);
    await shot(pageA, "run-trace-llm-streaming");
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
    await pageA.getByTestId("trace-step-ask").click();
    expect(await pageA.getByTestId("step-detail").getByRole("group", { name: "Input" }).textContent()).toContain("Say hello twice");
    const usage = pageA.getByTestId("token-usage");
    await usage.waitFor({ timeout: 5_000 });
    expect(await usage.textContent()).toContain("17");
    await pageA.getByTestId("step-detail").getByText('"Hello from the fake model."').first().waitFor({ timeout: 5_000 });
    expect(llm.requests).toBeGreaterThan(0);
    await shot(pageA, "run-trace-llm");
  }, 90_000);

  it("two people co-edit one prompt live, with carets, and the run captures the combined text", async () => {
    for (const page of [pageA, pageB]) {
      await page.goto(`${stack.url}/workflows/${askWorkflowId}`);
      await until(page.getByTestId("connection-status"), textOf, "connected");
      await page.locator('.react-flow__node[data-id="ask"]').click();
    }
    // The prompt's text without the carets drawn inside it.
    const text = (locator: import("playwright-core").Locator) =>
      locator.evaluate((element) => {
        const copy = element.cloneNode(true) as HTMLElement;
        copy.querySelectorAll(".collaboration-carets__caret").forEach((caret) => caret.remove());
        return copy.textContent;
      });
    const promptA = pageA.getByRole("textbox", { name: "Message 1 text" });
    const promptB = pageB.getByRole("textbox", { name: "Message 1 text" });
    await until(promptB, text, "Say hello twice", 5_000);

    await promptA.click();
    await pageA.keyboard.press("Control+End");
    await pageA.keyboard.type(" from Ada");
    await until(promptB, text, "Say hello twice from Ada", 3_000);
    await promptB.locator(".collaboration-carets__label", { hasText: "Ada" }).waitFor({ timeout: 3_000 });

    await promptB.click();
    await pageB.keyboard.press("Control+End");
    await pageB.keyboard.type(" and Bea");
    await until(promptA, text, "Say hello twice from Ada and Bea", 3_000);
    await promptA.locator(".collaboration-carets__label", { hasText: "Bea" }).waitFor({ timeout: 3_000 });
    await shot(pageA, "editor-prompt-coediting");

    // Bea adds a message and writes it; Ada sets its role: both see both.
    await pageB.getByRole("button", { name: "Add message" }).click();
    const secondA = pageA.getByRole("textbox", { name: "Message 2 text" });
    await secondA.waitFor({ timeout: 3_000 });
    await pageB.getByRole("textbox", { name: "Message 2 text" }).click();
    await pageB.keyboard.type("Then say goodbye");
    await until(secondA, text, "Then say goodbye", 3_000);
    await pageA.getByLabel("Message 2 role").selectOption("assistant");
    await until(pageB.getByLabel("Message 2 role"), valueOf, "assistant", 3_000);

    // The run captures the prompt as both wrote it.
    await pageA.getByRole("button", { name: "Run", exact: true }).click();
    await pageA.getByTestId("open-trace").click();
    await pageA.waitForURL(/\/runs\/[^/]+$/);
    const runId = decodeURIComponent(new URL(pageA.url()).pathname.split("/").pop()!);
    const captured = await pageA.evaluate(async (id) => {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-algorythmos-csrf": "1" },
        body: JSON.stringify({ query: "query ($id: ID!) { run(id: $id) { definition } }", variables: { id } }),
      });
      return (await response.json()) as { data?: { run: { definition: { steps: { id: string; config: { messages: unknown } }[] } } } };
    }, runId);
    expect(captured.data?.run.definition.steps.find((step) => step.id === "ask")?.config.messages).toEqual([
      { role: "user", content: "Say hello twice from Ada and Bea" },
      { role: "assistant", content: "Then say goodbye" },
    ]);
    // The trace names its steps from the captured definition.
    await until(pageA.getByTestId("trace-step-ask").locator(".waterfall-name"), textOf, "Ask", 10_000);
    await until(pageA.getByTestId("trace-run-status"), textOf, "succeeded", 20_000);
  }, 60_000);

  it("searches, duplicates, exports and deletes workflows from the list", async () => {
    await pageA.goto(`${stack.url}/workflows`);
    const list = pageA.getByRole("list", { name: "Workflows" });
    await untilCount(list.locator("li"), 2);
    await pageA.getByLabel("Search workflows").fill("follow");
    await untilCount(list.locator("li"), 1);
    await pageA.getByRole("button", { name: "Duplicate Order follow-up" }).click();
    await untilCount(list.locator("li"), 2, 5_000);

    const download = pageA.waitForEvent("download");
    const original = list.locator("li").filter({ has: pageA.getByRole("link", { name: "Order follow-up", exact: true }) });
    await original.getByRole("link", { name: "Export" }).click();
    const file = await download;
    const exported = JSON.parse(await new Response((await file.createReadStream()) as never).text());
    expect(JSON.stringify(exported)).toContain("follow-up");

    await pageA.getByLabel("Search workflows").fill("zzz-nothing");
    await pageA.getByText("No workflow matches").waitFor();
    await pageA.getByLabel("Search workflows").fill("");
    await untilCount(list.locator("li"), 3);
    const copy = list.locator("li").filter({ hasNotText: "Ask the model" }).filter({ has: pageA.getByRole("link", { name: /copy/i }) });
    const copyName = (await copy.getByRole("link").first().textContent())!.trim();
    await pageA.getByRole("button", { name: `Delete ${copyName}` }).click();
    await shot(pageA, "workflows-list-confirm-delete");
    await pageA.getByRole("button", { name: "Confirm delete" }).click();
    await untilCount(list.locator("li"), 2, 5_000);
  }, 60_000);

  it("a viewer sees the editor read-only", async () => {
    await pageA.goto(`${stack.url}/workflows`);
    await pageA.getByRole("link", { name: "Workspace settings" }).click();
    await pageA.getByLabel("Email").fill(bea.email);
    await pageA.getByLabel("Role", { exact: true }).selectOption("viewer");
    await pageA.getByRole("button", { name: "Invite" }).click();
    // The owner sees each member's role as a select (#17 members): Bea's now reads viewer.
    await until(pageA.getByRole("table", { name: "Members" }).getByLabel(`Role of ${bea.name}`), valueOf, "viewer", 5_000);

    await pageB.goto(`${stack.url}/workflows/${workflowId}`);
    await until(pageB.getByTestId("connection-status"), textOf, "connected");
    await pageB.getByTestId("view-only").waitFor();
    expect(await pageB.getByRole("complementary", { name: "Add a step" }).count()).toBe(0);
    expect(await pageB.getByLabel("Workflow name").getAttribute("readonly")).not.toBeNull();
    expect(await pageB.getByRole("button", { name: "Run", exact: true }).isDisabled()).toBe(true);
    await pageB.locator('.react-flow__node[data-id="notify"]').click();
    expect(await pageB.getByLabel("URL").isDisabled()).toBe(true);
    expect(await valueOf(pageB.getByLabel("Workflow name"))).toBe("Order follow-up");
    await shot(pageB, "editor-viewer-read-only");
  }, 60_000);

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
