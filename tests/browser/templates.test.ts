/**
 * Templates gallery and first run (#17) in Chromium. A new user's empty workspace opens on "Create your first
 * workflow": the gallery first (filterable by category), then a blank workflow and an import; axe finds no serious
 * violation there. From the keyboard alone the user filters to AI, uses "Summarise text with an LLM" and lands in
 * the editor with its three steps on the canvas. Once the workspace has workflows the gallery is behind a
 * "Templates" button: a dialog that opens with Enter, closes on Esc back to the button, and creates from a card.
 * An unknown template id is a clear form error; a viewer sees the buttons disabled with the reason.
 * Screenshots (light): tests/artifacts/templates-first-run.png, tests/artifacts/templates-dialog.png.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gql, invite, ok, signUp, type Account } from "../support/api.js";
import { checkAccessibility } from "../support/axe.js";
import { textOf, until, untilCount, valueOf } from "../support/browser.js";
import { artifactsDir, openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

const LAPTOP = { width: 1280, height: 800 };
let session: StudioSession;
let nia: Account;
const consoleErrors: string[] = [];

const stepNodes = (page: Page) => page.locator(".react-flow__node-step:not(.ghost-node)");
const isFocused = (page: Page, selector: string) => page.locator(selector).evaluate((el) => el === document.activeElement);
const focusedLabel = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent?.trim() ?? "");

/** Presses Tab until the focused element's accessible label is `label` (at most `limit` presses). */
async function tabTo(page: Page, label: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if ((await focusedLabel(page)) === label) return;
    await page.keyboard.press("Tab");
  }
  expect(await focusedLabel(page), `Tab never reached "${label}"`).toBe(label);
}

async function newPage(account: Account): Promise<Page> {
  const page = await session.pageFor(account, LAPTOP);
  session.pages.push(page); // screenshotOnFailure
  return page;
}

beforeAll(async () => {
  session = await openStudioSession({ users: ["Nia"], signIn: "none", consoleErrors });
  [nia] = session.users as [Account];
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-templates-"));
afterAll(() => session?.close());

describe("#17 templates gallery and first run", () => {
  it("a new user's empty workspace leads with the gallery; from the keyboard, a template opens in the editor with its steps", async () => {
    const page = await newPage(nia);
    await page.goto(`${session.stack.url}/workflows`);
    const firstRun = page.getByTestId("first-run");
    await firstRun.getByRole("heading", { name: "Create your first workflow" }).waitFor();
    const cards = firstRun.getByRole("list", { name: "Templates" }).getByRole("listitem");
    expect(await cards.count()).toBeGreaterThanOrEqual(6);
    // Each card says what it needs; the LLM one needs an OpenAI key, the code one nothing.
    await until(page.getByTestId("template-llm-summarise").locator(".template-needs"), textOf, "Needs: OpenAI (or compatible) API key");
    await until(page.getByTestId("template-code-transform").locator(".template-needs"), textOf, "No credentials needed");
    // Blank and import follow the gallery.
    await page.getByRole("heading", { name: "Start with a blank workflow" }).waitFor();
    await page.getByRole("heading", { name: "Import a workflow" }).waitFor();
    expect(await page.getByRole("button", { name: "Templates", exact: true }).count()).toBe(0);

    const report = await checkAccessibility(page);
    expect(report.violations, report.summary).toEqual([]);
    // The whole page: the gallery, then the blank workflow and the import.
    await page.screenshot({ path: path.join(artifactsDir, "templates-first-run.png"), fullPage: true });

    // Keyboard only: Tab to the AI filter, Space picks it, Tab to the card's button, Enter uses it.
    await page.locator("body").click({ position: { x: 5, y: 400 } });
    const aiFilter = firstRun.getByRole("group", { name: "Filter templates by category" }).getByRole("button", { name: /^AI/ });
    for (let i = 0; i < 40 && !(await aiFilter.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Space");
    await until(aiFilter, (l) => l.getAttribute("aria-pressed"), "true");
    const aiCards = firstRun.getByRole("list", { name: "AI templates" }).getByRole("listitem");
    await untilCount(aiCards, 2);
    expect(await aiCards.allTextContents()).toEqual([
      expect.stringContaining("Summarise text with an LLM"),
      expect.stringContaining("AI agent with an HTTP tool"),
    ]);
    await tabTo(page, "Use template Summarise text with an LLM");
    await page.keyboard.press("Enter");

    await page.waitForURL(/\/workflows\/wf_[^/]+$/);
    await until(page.getByTestId("connection-status"), textOf, "connected");
    await untilCount(stepNodes(page), 3);
    for (const name of ["Document received", "Summarise", "Shape the answer"]) await stepNodes(page).filter({ hasText: name }).first().waitFor();
    expect(await valueOf(page.getByLabel("Workflow name"))).toBe("Summarise text with an LLM");
  }, 90_000);

  it("with workflows, the gallery is a dialog behind Templates: Enter opens it, Esc gives focus back, a card creates the workflow", async () => {
    const page = await newPage(nia);
    await page.goto(`${session.stack.url}/workflows`);
    await page.getByRole("list", { name: "Workflows" }).getByText("Summarise text with an LLM").waitFor();
    expect(await page.getByTestId("first-run").count()).toBe(0);

    const open = page.getByRole("button", { name: "Templates", exact: true });
    await open.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Start from a template" });
    await dialog.waitFor();
    expect(await dialog.getByRole("list", { name: "Templates" }).getByRole("listitem").count()).toBeGreaterThanOrEqual(6);
    // After the fade-in, so the screenshot shows the dialog as it rests.
    await page.evaluate(() => Promise.all(document.getAnimations().map((animation) => animation.finished)));
    await shot(page, "templates-dialog");
    // Focus stays inside the dialog.
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press("Tab");
      expect(await dialog.evaluate((el) => el.contains(document.activeElement)), `focus left the dialog after Tab ×${i + 1}`).toBe(true);
    }
    const report = await checkAccessibility(page);
    expect(report.violations, report.summary).toEqual([]);
    await page.keyboard.press("Escape");
    await untilCount(page.getByRole("dialog"), 0);
    expect(await open.evaluate((el) => el === document.activeElement)).toBe(true);

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Use template Scheduled status check" }).click();
    await page.waitForURL(/\/workflows\/wf_[^/]+$/);
    await untilCount(stepNodes(page), 4);
    expect(await valueOf(page.getByLabel("Workflow name"))).toBe("Scheduled status check");
  }, 90_000);

  it("an unknown template id is a clear form error, in the dialog it was asked from", async () => {
    const page = await newPage(nia);
    await page.goto(`${session.stack.url}/workflows`);
    await page.getByRole("button", { name: "Templates", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Start from a template" });
    const card = dialog.getByTestId("template-webhook-to-chat");
    // As if the template had been removed since the page was loaded.
    await card.locator('input[name="templateId"]').evaluate((input: HTMLInputElement) => (input.value = "no-such-template"));
    await card.getByRole("button", { name: "Use template Post new signups to a chat channel" }).click();
    const alert = page.getByRole("dialog", { name: "Start from a template" }).getByRole("alert");
    await until(alert, textOf, "There is no template “no-such-template”. Pick one from the gallery.");
    expect(new URL(page.url()).pathname).toBe("/workflows");
    const workflows = ok(
      await gql(session.stack.url, `query($id: ID!) { workflows(workspaceId: $id) { edges { node { name } } } }`, { id: nia.workspaceId }, nia.token)
    );
    expect(workflows.workflows.edges).toHaveLength(2); // nothing was created
  }, 60_000);

  it("a viewer sees the gallery with its buttons disabled and the reason", async () => {
    const vic = await signUp(session.stack.url, "Vic");
    await invite(session.stack.url, nia, nia.workspaceId, vic, "viewer");
    const page = await newPage(vic);
    await page.goto(`${session.stack.url}/workflows?workspace=${encodeURIComponent(nia.workspaceId)}`);
    await page.getByRole("button", { name: "Templates", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Start from a template" });
    const reason = "Viewers can’t create workflows in this workspace: ask an owner to make you an editor.";
    await until(dialog.locator(".template-locked"), textOf, reason);
    const useButtons = dialog.getByRole("button", { name: /^Use template / });
    expect(await useButtons.count()).toBeGreaterThanOrEqual(6);
    for (const button of await useButtons.all()) expect(await button.isDisabled()).toBe(true);
    const described = await useButtons.first().evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent);
    expect(described).toBe(reason);
    await page.keyboard.press("Escape");
    await untilCount(page.getByRole("dialog"), 0);
    expect(await page.getByRole("button", { name: "Create workflow" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Import workflow" }).isDisabled()).toBe(true);
    expect(await isFocused(page, "button.templates-open")).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
