/**
 * The browser tests' shared lifecycle: a built studio, a test stack and Chromium started together, people
 * signed up (the first one owns the workspace, the others are invited into it), one browser context and page
 * per viewport, each page's console errors recorded and, when asked, signed in as its person; `close()`
 * undoes it all (contexts, browser, stack, then the test's own extra servers).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack, StackOptions } from "../../scripts/stack.js";
import { invite, signUp, type Account } from "./api.js";
import { launchBrowser, recordConsoleErrors } from "./browser.js";
import { startTestStack } from "./stack.js";

export const artifactsDir = path.resolve("tests/artifacts");
export const screenshotsDir = path.join(artifactsDir, "screenshots");

export type Viewport = { width: number; height: number };

export interface StudioSessionOptions {
  /** Options for the test stack; the studio is always served. */
  stack?: Omit<StackOptions, "studio">;
  /** People to sign up, in order; the first owns the workspace, the others join it with `role`. */
  users?: string[];
  role?: "owner" | "editor" | "viewer";
  /** One browser context and page per viewport; page i belongs to users[i]. */
  viewports?: Viewport[];
  /** How page i signs in as users[i]: through the login form, by the session cookie, or not at all. */
  signIn?: "form" | "cookie" | "none";
  /** Console errors of every page go here (a test's own array, so its assertions read it). */
  consoleErrors?: string[];
}

export interface StudioSession {
  stack: Stack;
  browser: Browser;
  users: Account[];
  contexts: BrowserContext[];
  pages: Page[];
  consoleErrors: string[];
  /** A further page in its own context, signed in as `account` by the session cookie. */
  pageFor(account: Account, viewport?: Viewport): Promise<Page>;
  /** Closed after the stack, by close(): servers the test started for itself. */
  alsoClose(...closers: ({ close(): unknown } | undefined)[]): void;
  close(): Promise<void>;
}

/** Signs in through the studio's login form, as a person does, and lands on /workflows. */
export async function logIn(page: Page, baseUrl: string, account: Account): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/workflows$/);
}

export async function openStudioSession(options: StudioSessionOptions = {}): Promise<StudioSession> {
  const { users: names = [], role = "editor", viewports = [], signIn = "form", consoleErrors = [] } = options;
  mkdirSync(screenshotsDir, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  const [stack, browser] = await Promise.all([startTestStack({ ...options.stack, studio: true }), launchBrowser()]);
  const contexts: BrowserContext[] = [];
  const extras: ({ close(): unknown } | undefined)[] = [];
  const newPage = async (viewport: Viewport, account?: Account) => {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    if (account && signIn === "cookie") {
      await context.addCookies([{ name: "algo_session", value: encodeURIComponent(account.token), url: stack.url, httpOnly: true, sameSite: "Lax" }]);
    }
    const page = await context.newPage();
    recordConsoleErrors(page, consoleErrors);
    return page;
  };
  const session: StudioSession = {
    stack,
    browser,
    users: [],
    contexts,
    pages: [],
    consoleErrors,
    pageFor: async (account, viewport = { width: 1366, height: 820 }) => {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      await context.addCookies([{ name: "algo_session", value: encodeURIComponent(account.token), url: stack.url, httpOnly: true, sameSite: "Lax" }]);
      const page = await context.newPage();
      recordConsoleErrors(page, consoleErrors);
      return page;
    },
    alsoClose: (...closers) => void extras.push(...closers),
    close: async () => {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await stack.close();
      for (const extra of extras) await extra?.close();
    },
  };
  try {
    session.users = await Promise.all(names.map((name) => signUp(stack.url, name)));
    const [owner, ...members] = session.users;
    if (owner) await Promise.all(members.map((member) => invite(stack.url, owner, owner.workspaceId, member, role)));
    session.pages = await Promise.all(viewports.map((viewport, i) => newPage(viewport, session.users[i])));
    if (signIn === "form") await Promise.all(session.pages.map((page, i) => (session.users[i] ? logIn(page, stack.url, session.users[i]!) : undefined)));
  } catch (error) {
    await session.close().catch(() => {});
    throw error;
  }
  return session;
}

/**
 * For afterEach: when the test failed, a screenshot of each page into tests/artifacts, named
 * `${prefix}${test name}-A.png`, `-B.png`, … (no letter when there is one page), for diagnosis.
 */
export async function screenshotOnFailure(
  session: { pages: Page[] } | undefined,
  context: { task: { name: string; result?: { state?: string } } },
  prefix = "failed-",
  dir = artifactsDir,
): Promise<void> {
  if (context.task.result?.state !== "fail" || !session) return;
  const name = context.task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
  for (const [i, page] of session.pages.entries()) {
    const suffix = session.pages.length > 1 ? `-${String.fromCharCode(65 + i)}` : "";
    await page.screenshot({ path: path.join(dir, `${prefix}${name}${suffix}.png`) }).catch(() => {});
  }
}

/** Saves a screenshot of `page` as `${dir}/${name}.png` (the artifacts a person looks at). */
export const shot = (page: Page, name: string, dir = artifactsDir) => page.screenshot({ path: path.join(dir, `${name}.png`) });
