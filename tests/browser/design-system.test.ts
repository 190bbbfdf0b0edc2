/**
 * Design system (#17, docs/decisions/0010-design-system.md) in Chromium: the theme menu pins dark and the
 * server renders it on the next request (the attribute is in the HTML before any script: no flash); with no
 * choice the system's dark preference gives the dark tokens; a dialog traps focus, closes on Esc and gives
 * focus back to its trigger; a tooltip shows on keyboard focus; at 1280×800 no page scrolls sideways and the
 * header stays on one line. Screenshots of the workflows list, the editor and a run page, light and dark, go
 * to tests/artifacts/design/.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorkflow, definitionWith, gql, ok, type Account } from "../support/api.js";
import { checkAccessibility } from "../support/axe.js";
import { textOf, until, untilCount } from "../support/browser.js";
import { artifactsDir, openStudioSession, screenshotOnFailure, type StudioSession } from "../support/studio-session.js";

const designDir = path.join(artifactsDir, "design");
const LAPTOP = { width: 1280, height: 800 };
let session: StudioSession;
let ada: Account;
let workflowId = "";
let runId = "";
const consoleErrors: string[] = [];

/** A page of its own (own cookies), signed in as Ada, optionally with the system's colour preference. */
async function pageWith(colorScheme: "light" | "dark" | "no-preference", theme?: "light" | "dark" | "system"): Promise<{ context: BrowserContext; page: Page }> {
  const context = await session.browser.newContext({ viewport: LAPTOP, colorScheme });
  session.contexts.push(context); // closed by session.close()
  const cookies = [{ name: "algo_session", value: encodeURIComponent(ada.token), url: session.stack.url, httpOnly: true, sameSite: "Lax" as const }];
  if (theme) cookies.push({ name: "theme", value: theme, url: session.stack.url, httpOnly: false, sameSite: "Lax" as const });
  await context.addCookies(cookies);
  const page = await context.newPage();
  page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
  session.pages.push(page); // screenshotOnFailure
  return { context, page };
}

/** A colour as the browser resolved it on `selector` (tokens are light-dark() pairs: only the used value says which). */
const colourOf = (page: Page, selector: string, property: "background-color" | "color") =>
  page.evaluate(([sel, prop]) => getComputedStyle(document.querySelector(sel!)!).getPropertyValue(prop!), [selector, property]);
/** Relative luminance of a CSS colour (rgb or hex) as the browser resolved it. */
const luminance = (page: Page, selector: string, property: "background-color" | "color") =>
  page.evaluate(
    ([sel, prop]) => {
      const value = getComputedStyle(document.querySelector(sel!)!).getPropertyValue(prop!);
      const [r, g, b] = (value.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map((c) => {
        const v = Number(c) / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    },
    [selector, property],
  );

/** The tokens' colours pass axe's contrast rule (serious and critical) on this page, in this theme. */
async function contrastHolds(page: Page) {
  const report = await checkAccessibility(page);
  const contrast = report.violations.filter((v) => v.rule === "color-contrast");
  expect(contrast, report.summary).toEqual([]);
}

/** No sideways scroll of the page, and the header's items on one line. */
async function fitsLaptop(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${page.url()} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
  const header = page.locator("header.topbar, header.editor-bar").first();
  if (await header.count()) {
    const tops = await header.evaluate((el) => [...el.children].map((child) => Math.round(child.getBoundingClientRect().top + child.getBoundingClientRect().height / 2)));
    expect(Math.max(...tops) - Math.min(...tops), `the header of ${page.url()} wraps`).toBeLessThanOrEqual(6);
  }
}

beforeAll(async () => {
  mkdirSync(designDir, { recursive: true });
  session = await openStudioSession({ users: ["Ada"], signIn: "none", consoleErrors });
  [ada] = session.users as [Account];
  const created = await createWorkflow(session.stack.url, ada.token, ada.workspaceId, "Order sync", {
    ...definitionWith("Order sync"),
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "shape", type: "transform", name: "Shape order", config: { expression: '{ "total": 42, "items": [1, 2, 3] }' }, position: { x: 280, y: 0 } },
    ],
    edges: [{ id: "e1", source: "start", target: "shape" }],
  });
  workflowId = created.id;
  runId = ok(await gql(session.stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { order: 7 } } }, ada.token)).startRun.id;
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-design-system-"));
afterAll(() => session?.close());

describe("#17 design system: themes, primitives, 13-inch layout", () => {
  it("the theme menu switches to dark and the server renders the choice after a reload (no flash)", async () => {
    const { page } = await pageWith("light");
    await page.goto(`${session.stack.url}/workflows`);
    expect(await page.locator("html").getAttribute("data-theme")).toBeNull();
    const lightBg = await luminance(page, "html", "background-color");
    await page.getByRole("button", { name: "Theme: System" }).click();
    const menu = page.getByRole("menu", { name: "Theme" });
    await menu.waitFor();
    await menu.getByRole("menuitemradio", { name: "Dark" }).click();
    await until(page.locator("html"), (l) => l.getAttribute("data-theme"), "dark");
    expect(await luminance(page, "html", "background-color")).toBeLessThan(0.05);
    expect(lightBg).toBeGreaterThan(0.8);

    // The server's HTML carries the attribute: the first paint is dark, before any script runs.
    const html = await (await page.context().request.get(`${session.stack.url}/workflows`)).text();
    expect(html).toMatch(/<html[^>]*data-theme="dark"/);
    await page.reload();
    expect(await page.locator("html").getAttribute("data-theme")).toBe("dark");
    expect(await page.getByRole("button", { name: "Theme: Dark" }).count()).toBe(1);

    // Back to System: the attribute goes, the system's (light) preference applies again.
    await page.getByRole("button", { name: "Theme: Dark" }).click();
    await page.getByRole("menuitemradio", { name: "System" }).click();
    await until(page.locator("html"), async (l) => String(await l.getAttribute("data-theme")), "null");
    expect(await luminance(page, "html", "background-color")).toBeGreaterThan(0.8);
  }, 30_000);

  it("with no choice, the system's dark preference gives the dark tokens; a pinned light wins over it", async () => {
    const { page } = await pageWith("dark");
    await page.goto(`${session.stack.url}/workflows`);
    expect(await page.locator("html").getAttribute("data-theme")).toBeNull();
    expect(await colourOf(page, "html", "background-color")).toBe("rgb(15, 17, 23)"); // --bg, dark
    expect(await luminance(page, "body", "color")).toBeGreaterThan(0.7);
    const pinned = await pageWith("dark", "light");
    await pinned.page.goto(`${session.stack.url}/workflows`);
    expect(await pinned.page.locator("html").getAttribute("data-theme")).toBe("light");
    expect(await colourOf(pinned.page, "html", "background-color")).toBe("rgb(247, 247, 251)"); // --bg, light
  }, 30_000);

  it("a dialog traps focus, closes on Esc and gives focus back to its trigger; a tooltip shows on keyboard focus", async () => {
    const { page } = await pageWith("light");
    await page.goto(`${session.stack.url}/workflows`);
    // Tooltip: Tab to the theme button (keyboard focus, no pointer): its hint appears and describes it.
    const themeButton = page.getByRole("button", { name: "Theme: System" });
    await page.locator("body").click({ position: { x: 5, y: 300 } });
    for (let i = 0; i < 12 && !(await themeButton.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    expect(await themeButton.evaluate((el) => el === document.activeElement)).toBe(true);
    const tooltip = page.getByRole("tooltip");
    await tooltip.waitFor({ timeout: 3_000 });
    expect(await textOf(tooltip)).toBe("Theme: System");
    await page.keyboard.press("Escape");
    await untilCount(page.getByRole("tooltip"), 0);

    // Dialog: the editor's Publish… button opens the publish dialog from the keyboard.
    await page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
    const publish = page.getByRole("button", { name: "Publish…" });
    await publish.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Publish “Order sync”" });
    await dialog.waitFor();
    expect(await page.getByLabel("Message").evaluate((el) => el === document.activeElement)).toBe(true);
    // Tab and Shift+Tab twenty times each: focus never leaves the dialog.
    for (const key of ["Tab", "Shift+Tab"]) {
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press(key);
        expect(await dialog.evaluate((el) => el.contains(document.activeElement)), `focus left the dialog after ${key} ×${i + 1}`).toBe(true);
      }
    }
    // The page behind is dimmed and out of reach: a point outside the dialog hits the backdrop.
    const behind = await page.evaluate(() => {
      const el = document.elementFromPoint(10, 400) as HTMLElement | null;
      return { cls: el?.className ?? null, bg: el ? getComputedStyle(el).backgroundColor : null };
    });
    expect(behind.cls).toContain("modal-backdrop");
    await page.screenshot({ path: path.join(designDir, "dialog-publish-light.png") });
    await page.keyboard.press("Escape");
    await untilCount(page.getByRole("dialog"), 0);
    await page.waitForFunction(() => document.activeElement?.textContent === "Publish…", null, { timeout: 3_000 });
  }, 40_000);

  for (const theme of ["light", "dark"] as const) {
    it(`${theme}: the workflows list, the editor and a run page fit a 13-inch laptop; screenshots`, async () => {
      const { page } = await pageWith("no-preference", theme);
      await page.goto(`${session.stack.url}/workflows`);
      await page.getByRole("link", { name: "Order sync" }).first().waitFor();
      await fitsLaptop(page);
      await contrastHolds(page);
      await page.screenshot({ path: path.join(designDir, `workflows-${theme}.png`) });

      await page.goto(`${session.stack.url}/workflows/${workflowId}`);
      await until(page.getByTestId("connection-status"), textOf, "connected");
      await untilCount(page.locator(".react-flow__node-step"), 2);
      await page.locator(".react-flow__node-step").nth(1).click();
      await fitsLaptop(page);
      // The canvas is on the theme's tokens, not React Flow's light default.
      const canvas = await luminance(page, ".react-flow", "background-color");
      const node = await luminance(page, ".step-node", "background-color");
      if (theme === "dark") expect(Math.max(canvas, node)).toBeLessThan(0.05);
      else expect(Math.min(canvas, node)).toBeGreaterThan(0.8);
      await contrastHolds(page);
      await page.screenshot({ path: path.join(designDir, `editor-${theme}.png`) });

      await page.goto(`${session.stack.url}/runs/${runId}`);
      await page.locator(".waterfall-row").first().waitFor();
      await fitsLaptop(page);
      await contrastHolds(page);
      await page.screenshot({ path: path.join(designDir, `run-${theme}.png`), fullPage: true });
    }, 40_000);
  }

  it("the editor's header is one row at 1280 and 1440 wide, Publish inside the window; the canvas keeps over half the width", async () => {
    // Published, then edited: the publish state at its longest ("Published v1 · just now · Draft has unpublished changes").
    ok(await gql(session.stack.url, `mutation($input: PublishWorkflowInput!) { publishWorkflow(input: $input) { version { version } } }`, { input: { workflowId, message: "First release" } }, ada.token));
    const { page } = await pageWith("light");
    await page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await until(page.getByTestId("connection-status"), textOf, "connected");
    await page.locator('.react-flow__node[data-id="shape"]').click();
    await page.getByLabel("Step name").fill("Shape the order");
    await until(page.getByTestId("publish-state"), textOf, "Published v1 · just now · Draft has unpublished changes");
    for (const size of [LAPTOP, { width: 1440, height: 900 }]) {
      await page.setViewportSize(size);
      await page.waitForTimeout(150); // the relayout
      const layout = await page.evaluate(() => {
        const header = document.querySelector<HTMLElement>("header.editor-bar")!;
        const style = getComputedStyle(header);
        const items = [...header.children].map((child) => child.getBoundingClientRect());
        const publish = [...header.querySelectorAll("button")].find((button) => button.textContent === "Publish…")!.getBoundingClientRect();
        // What a click in the middle of Publish… reaches: the button itself, unless something clips or covers it.
        const hit = document.elementFromPoint(publish.left + publish.width / 2, publish.top + publish.height / 2);
        return {
          width: window.innerWidth,
          publishRight: publish.right,
          publishReachable: !!hit?.closest("button")?.textContent?.includes("Publish…"),
          rightmostItem: Math.max(...items.map((r) => r.right)),
          overflow: header.scrollWidth - header.clientWidth,
          height: header.getBoundingClientRect().height,
          oneRow: Math.max(...items.map((r) => r.height)) + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom) + parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth),
          canvas: document.querySelector(".canvas")!.getBoundingClientRect().width,
          // Each item whole: nothing cut short inside it (the people, the name's box).
          clippedItems: [...header.children].filter((child) => child.scrollWidth > child.clientWidth + 1).map((child) => child.className),
        };
      });
      await page.screenshot({ path: path.join(designDir, `editor-header-${size.width}.png`) });
      const at = `at ${size.width}×${size.height}: ${JSON.stringify(layout)}`;
      expect(layout.publishRight, `Publish… is clipped ${at}`).toBeLessThanOrEqual(layout.width);
      expect(layout.publishReachable, `Publish… cannot be clicked ${at}`).toBe(true);
      expect(layout.rightmostItem, `the header runs past the window ${at}`).toBeLessThanOrEqual(layout.width);
      expect(layout.overflow, `the header overflows ${at}`).toBeLessThanOrEqual(0);
      expect(layout.clippedItems, `header items cut short ${at}`).toEqual([]);
      expect(layout.height, `the header is more than one row ${at}`).toBeLessThanOrEqual(layout.oneRow + 1);
      expect(layout.canvas / layout.width, `the canvas is under half the width ${at}`).toBeGreaterThanOrEqual(0.5);
      await fitsLaptop(page);
    }
  }, 40_000);

  it("dark: the canvas, its minimap and its controls are dark, pinned or from the system, and follow a change of the system's", async () => {
    const darkCanvas = async (page: Page) => {
      await untilCount(page.locator(".react-flow__node-step"), 2);
      expect(await page.locator(".react-flow").getAttribute("class"), "React Flow's colour mode").toContain("dark");
      for (const selector of [".react-flow", ".react-flow__minimap", ".react-flow__controls-button", ".step-node"]) {
        expect(await luminance(page, selector, "background-color"), `${selector} background in dark`).toBeLessThan(0.05);
      }
    };
    const pinned = await pageWith("light", "dark");
    await pinned.page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await darkCanvas(pinned.page);
    await pinned.page.screenshot({ path: path.join(designDir, "editor-canvas-dark.png") });

    const system = await pageWith("dark");
    await system.page.goto(`${session.stack.url}/workflows/${workflowId}`);
    await darkCanvas(system.page);
    // The system turns light with the page open: the canvas follows, without a reload.
    await system.page.emulateMedia({ colorScheme: "light" });
    await system.page.waitForFunction(() => !document.querySelector(".react-flow")?.classList.contains("dark"), null, { timeout: 3_000 });
    expect(await luminance(system.page, ".react-flow", "background-color")).toBeGreaterThan(0.8);
  }, 40_000);

  it("no console errors on the way", () => {
    expect(consoleErrors).toEqual([]);
  });
});
