/**
 * #17 accessibility and the page tour: every page of the studio, as a signed-in owner with real data (a
 * workflow of several steps with a failed and a succeeded run and a comment, a second member, a credential,
 * an open invite) and as a signed-out visitor, in light and dark, at 1440×900 and 1280×800. Each visit:
 * - a screenshot, tests/artifacts/pages/<page>-<theme>-<width>.png (looked at by a person);
 * - no page-level horizontal scroll (document.scrollingElement.scrollWidth <= innerWidth);
 * - no tooltip showing before anyone hovers or focuses its owner;
 * - no console errors;
 * - axe-core finds no serious or critical violation, in light and in dark alike.
 * Empty states are visited too: a workflow with no runs, a workspace with no credentials and nothing to operate.
 * GET /workflows/:id/export is a file download, not a page (checked as such); /workflows/:id/testing is the
 * editor's test actions (POST only), so the editor is visited with its Tests panel's page instead.
 */
import { addComment as addCommentToDoc } from "@algorythmos/domain";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkflow, gql, ok, signUp, type Account } from "../support/api.js";
import { checkAccessibility } from "../support/axe.js";
import { recordConsoleErrors, textOf, until } from "../support/browser.js";
import { connectClient, waitSynced } from "../support/collab.js";
import { startEchoServer, waitFor } from "../support/stack.js";
import { openStudioSession, type StudioSession } from "../support/studio-session.js";

const pagesDir = path.resolve("tests/artifacts/pages");
const widths = [
  { width: 1440, height: 900 },
  { width: 1280, height: 800 },
] as const;
const themes = ["light", "dark"] as const;

let session: StudioSession;
let owner: Account;
let member: Account;
let ownerPage: Page;
let visitorPage: Page;
const consoleErrors: string[] = [];
/** Requests answered 4xx/5xx, so a "Failed to load resource" console error says which one. */
const failedRequests: string[] = [];
const ids = { workflow: "", emptyWorkflow: "", failedRun: "", succeededRun: "", inviteToken: "" };

const RUN_STATUS = `query($id: ID!) { run(id: $id) { status } }`;
async function runToEnd(workflowId: string, input: unknown): Promise<{ id: string; status: string }> {
  const id = ok(await gql(session.stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input } }, owner.token)).startRun.id as string;
  const status = await waitFor(`run ${id} to finish`, async () => {
    const now = ok(await gql(session.stack.url, RUN_STATUS, { id }, owner.token)).run.status as string;
    return ["succeeded", "failed", "canceled"].includes(now) ? now : null;
  }, 30_000);
  return { id, status };
}

/** A comment pinned to a step, written into the workflow's Y.Doc as the studio writes one (L13). */
async function addComment(workflowId: string, stepId: string, text: string): Promise<void> {
  const client = connectClient(session.stack.url, workflowId, owner.token);
  try {
    await waitSynced(client);
    addCommentToDoc(client.doc, { anchor: { stepId }, text, author: { id: owner.userId, name: "Ada" } });
    // Stored once the server has it: a second client sees the thread.
    const check = connectClient(session.stack.url, workflowId, owner.token);
    try {
      await waitFor("the comment to reach the server", async () => check.provider.synced && check.doc.getMap("comments").size > 0);
    } finally {
      check.destroy();
    }
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  mkdirSync(pagesDir, { recursive: true });
  const echo = await startEchoServer();
  session = await openStudioSession({ users: ["Ada", "Bob"], role: "editor", viewports: [widths[0]], consoleErrors });
  session.alsoClose(echo);
  [owner, member] = session.users as [Account, Account];
  [ownerPage] = session.pages as [Page];
  const url = session.stack.url;

  const flow = await createWorkflow(url, owner.token, owner.workspaceId, "Order follow-up", {
    schemaVersion: 1,
    name: "Order follow-up",
    description: "Fetches an order, checks the stock, and tells the team.",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "fetch", type: "http.request", name: "Fetch order", config: { method: "GET", url: `${echo.url}/order` }, position: { x: 260, y: 0 } },
      { id: "check", type: "code", name: "Check stock", config: { code: "if (input.fail) throw new Error('The warehouse has no stock for this order'); return { ok: true };" }, position: { x: 520, y: 0 } },
      { id: "shape", type: "transform", name: "Shape reply", config: { expression: "'Order ' & input.order & ' is on its way'" }, position: { x: 780, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "fetch" },
      { id: "e2", source: "fetch", target: "check" },
      { id: "e3", source: "check", target: "shape" },
    ],
  });
  ids.workflow = flow.id;
  ids.emptyWorkflow = (await createWorkflow(url, owner.token, owner.workspaceId, "Weekly digest")).id;
  const [failed, succeeded] = await Promise.all([runToEnd(flow.id, { fail: true, order: 41 }), runToEnd(flow.id, { order: 42 })]);
  expect([failed.status, succeeded.status]).toEqual(["failed", "succeeded"]);
  ids.failedRun = failed.id;
  ids.succeededRun = succeeded.id;
  await addComment(flow.id, "check", "Should this also check the backorder list?");
  ok(
    await gql(url, `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
      input: { workspaceId: owner.workspaceId, name: "Warehouse API key", type: "httpHeader", secret: { headerName: "Authorization", headerValue: "Bearer secret-value" } },
    }, owner.token),
  );
  const invited = ok(
    await gql(url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { inviteToken } }`, { input: { workspaceId: owner.workspaceId, email: `cleo-${Date.now()}@example.test`, role: "viewer" } }, owner.token),
  );
  ids.inviteToken = invited.inviteMember.inviteToken as string;

  const visitorContext = await session.browser.newContext({ viewport: widths[0] });
  session.contexts.push(visitorContext);
  visitorPage = await visitorContext.newPage();
  recordConsoleErrors(visitorPage, consoleErrors);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

interface Visit {
  name: string;
  /** Whose page: the signed-in owner's or a signed-out visitor's. */
  as: "owner" | "visitor" | "member";
  path: () => string;
  /** Waits for the page to be ready to look at (data loaded, live parts settled). */
  ready: (page: Page) => Promise<void>;
  /** HTTP status the document must answer with. */
  status?: number;
}

const heading = (text: string | RegExp) => async (page: Page) => {
  await page.getByRole("heading", { name: text }).first().waitFor({ timeout: 10_000 });
};

/** The editor, connected, with a step selected (its panel open). */
async function openEditorOn(page: Page, stepName: string): Promise<void> {
  await until(page.getByTestId("connection-status"), textOf, "connected", 15_000);
  await page.locator(".react-flow__node", { hasText: stepName }).first().click();
  // Code editors load CodeMirror on the client: the screenshot shows them loaded, as a person sees them a moment later.
  await page.locator(".code-field:not([data-loaded])").first().waitFor({ state: "detached", timeout: 15_000 });
  await page.waitForTimeout(300); // the step panel's open transition
}
/** The editor with one of its header's panel buttons pressed. */
const editorPanel = (button: string | RegExp) => async (page: Page) => {
  await until(page.getByTestId("connection-status"), textOf, "connected", 15_000);
  await page.locator("header.editor-bar").getByRole("button", { name: button }).click();
  await page.waitForTimeout(300);
};

const visits: Visit[] = [
  { name: "login", as: "visitor", path: () => "/login", ready: async (page) => void (await page.getByLabel("Email").waitFor()) },
  { name: "signup", as: "visitor", path: () => "/signup", ready: async (page) => void (await page.getByLabel("Name").waitFor()) },
  { name: "invite", as: "visitor", path: () => `/invite/${ids.inviteToken}`, ready: heading(/join|invite/i) },
  { name: "not-found", as: "visitor", path: () => "/no/such/page", ready: async (page) => void (await page.getByText(/no page at this address/i).first().waitFor()), status: 404 },
  { name: "workflows", as: "owner", path: () => "/workflows", ready: async (page) => void (await page.getByText("Order follow-up").first().waitFor()) },
  {
    name: "editor",
    as: "owner",
    path: () => `/workflows/${ids.workflow}`,
    ready: (page) => openEditorOn(page, "Check stock"),
  },
  // The editor's other panels and the end of the step panel (notes, step test, problems, test cases).
  { name: "editor-panel-end", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: async (page) => {
    await openEditorOn(page, "Check stock");
    await page.locator("aside.side").evaluate((side) => side.scrollTo(0, side.scrollHeight));
  } },
  // A transform step: the expression editor's JSONata colours (CodeMirror) and its preview.
  { name: "editor-expression", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: (page) => openEditorOn(page, "Shape reply") },
  { name: "editor-history", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: editorPanel("History") },
  { name: "editor-settings", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: editorPanel("Settings") },
  { name: "editor-comments", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: editorPanel(/^Comments/) },
  // Dialogs over the editor: publishing (the first version) and the keyboard shortcuts.
  { name: "editor-publish-dialog", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: async (page) => {
    await editorPanel("Publish…")(page);
    await page.getByRole("dialog").waitFor();
  } },
  { name: "editor-shortcuts", as: "owner", path: () => `/workflows/${ids.workflow}`, ready: async (page) => {
    await until(page.getByTestId("connection-status"), textOf, "connected", 15_000);
    await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
    await page.getByRole("dialog").waitFor();
  } },
  {
    name: "runs",
    as: "owner",
    path: () => `/workflows/${ids.workflow}/runs`,
    ready: async (page) => {
      await page.getByTestId(`run-row-${ids.failedRun}`).waitFor();
      await page.getByTestId(`run-row-${ids.succeededRun}`).waitFor();
    },
  },
  { name: "runs-empty", as: "owner", path: () => `/workflows/${ids.emptyWorkflow}/runs`, ready: async (page) => void (await page.getByTestId("runs-none").getByRole("link", { name: "Open the editor to run it" }).waitFor()) },
  { name: "run-failed", as: "owner", path: () => `/runs/${ids.failedRun}`, ready: async (page) => void (await until(page.getByTestId("trace-step-check"), (l) => l.getAttribute("data-display", { timeout: 1_000 }), "failed", 15_000)) },
  { name: "run-succeeded", as: "owner", path: () => `/runs/${ids.succeededRun}`, ready: async (page) => void (await until(page.getByTestId("trace-step-shape"), (l) => l.getAttribute("data-display", { timeout: 1_000 }), "succeeded", 15_000)) },
  { name: "settings", as: "owner", path: () => `/workspaces/${owner.workspaceId}/settings`, ready: async (page) => void (await page.getByText("Warehouse API key").first().waitFor()) },
  { name: "ops", as: "owner", path: () => `/workspaces/${owner.workspaceId}/ops`, ready: heading(/operations|ops/i) },
  // The member's own workspace: no workflows, no credentials, nothing to operate (the empty states).
  { name: "settings-empty", as: "member", path: () => `/workspaces/${member.workspaceId}/settings`, ready: heading(/settings/i) },
  { name: "ops-empty", as: "member", path: () => `/workspaces/${member.workspaceId}/ops`, ready: async (page) => void (await page.getByTestId("troubled-runs-empty").getByRole("link", { name: "Go to the workflows" }).waitFor()) },
];

let memberPage: Page | undefined;
const watched = new WeakSet<Page>();
async function pageOf(visit: Visit): Promise<Page> {
  if (visit.as === "member") memberPage ??= await session.pageFor(member, widths[0]);
  const page = visit.as === "visitor" ? visitorPage : visit.as === "owner" ? ownerPage : memberPage!;
  if (!watched.has(page)) {
    watched.add(page);
    page.on("response", (response) => void (response.status() >= 400 && failedRequests.push(`${response.status()} ${response.request().method()} ${response.url()}`)));
  }
  return page;
}

/** The page-level horizontal overflow in CSS pixels (0 when the page fits its window). */
const horizontalOverflow = (page: Page) => page.evaluate(() => (document.scrollingElement?.scrollWidth ?? 0) - window.innerWidth);


describe("the page tour: every page, light and dark, 1440 and 1280 (#17)", () => {
  for (const visit of visits) {
    it(`${visit.name}: fits the window, no console errors, no serious axe violations, in both themes and widths`, async () => {
      const page = await pageOf(visit);
      const problems: string[] = [];
      // Loaded afresh at each width (what a person opening the page at that size sees: the editor fits its
      // canvas to the window on load), then switched to dark with the page open (the system's theme changing live).
      for (const size of widths) {
        await page.setViewportSize(size);
        let loaded = false;
        for (const theme of themes) {
          await page.emulateMedia({ colorScheme: theme });
          const errorsBefore = consoleErrors.length;
          failedRequests.length = 0;
          const loadedNow = !loaded;
          if (!loaded) {
            const response = await page.goto(`${session.stack.url}${visit.path()}`);
            expect(response?.status(), `${visit.name}: HTTP status`).toBe(visit.status ?? 200);
            await visit.ready(page);
            loaded = true;
          } else {
            await page.waitForTimeout(150); // a relayout after the theme switch
          }
          await page.screenshot({ path: path.join(pagesDir, `${visit.name}-${theme}-${size.width}.png`), fullPage: true });
          const overflow = await horizontalOverflow(page);
          if (overflow > 0) problems.push(`${theme} ${size.width}: scrolls sideways by ${overflow}px`);
          // A tooltip shows on hover or focus only (an error's full text, say), never laid out in the page.
          const tooltips = await page.locator('[role="tooltip"]:visible').allTextContents();
          if (tooltips.length) problems.push(`${theme} ${size.width}: tooltips showing unasked: ${tooltips.map((text) => JSON.stringify(text.slice(0, 80))).join(", ")}`);
          const documentUrl = `${session.stack.url}${visit.path()}`;
          const expectedDocumentError = visit.status !== undefined && visit.status >= 400 && failedRequests.length === 1 && failedRequests[0]!.endsWith(` GET ${documentUrl}`);
          const errors = consoleErrors.slice(errorsBefore + (expectedDocumentError && loadedNow ? 1 : 0)).map((error) => (error.includes("Failed to load resource") ? `${error} (failed requests: ${failedRequests.splice(0).join(", ") || "?"})` : error));
          if (errors.length) problems.push(`${theme} ${size.width}: console errors:\n  ${errors.join("\n  ")}`);
          const report = await checkAccessibility(page);
          if (report.violations.length) problems.push(`${theme} ${size.width}: ${report.summary}`);
        }
      }
      expect(problems, problems.join("\n")).toEqual([]);
    }, 45_000);
  }

  it("GET /workflows/:id/export is a download of the workflow's JSON, not a page", async () => {
    const response = await ownerPage.request.get(`${session.stack.url}/workflows/${ids.workflow}/export`);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-disposition"]).toContain('attachment; filename="order-follow-up.json"');
    expect(JSON.parse(await response.text())).toBeTypeOf("object");
  });

});
