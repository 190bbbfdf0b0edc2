/**
 * @mention notifications in the studio (#17), two real Chromium pages on one stack: Ada, in the editor, posts
 * a comment mentioning Grace (picked from the autocomplete); Grace, on the workflows page, sees her bell's
 * count go to 1 live, opens the menu ("Ada mentioned you in Order sync: …"), and choosing the notification
 * opens the workflow with that thread open and focused, and marks it read. Screenshot:
 * tests/artifacts/mention-notification.png (Grace's open menu).
 */
import { notificationsChannel } from "@algorythmos/platform";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, definitionWith, gql, ok, type Account } from "../support/api.js";
import { textOf, until, valueOf } from "../support/browser.js";
import { waitFor } from "../support/stack.js";
import { openStudioSession, screenshotOnFailure, shot, type StudioSession } from "../support/studio-session.js";

let session: StudioSession;
let stack: Stack;
let ada: Account;
let grace: Account;
let pageAda: Page;
let pageGrace: Page;
let workflowId = "";
const consoleErrors: string[] = [];

beforeAll(async () => {
  session = await openStudioSession({ stack: { worker: false }, users: ["Ada", "Grace"], viewports: [{ width: 1440, height: 900 }, { width: 1280, height: 800 }], signIn: "cookie", consoleErrors });
  ({ stack } = session);
  [ada, grace] = session.users as [Account, Account];
  [pageAda, pageGrace] = session.pages as [Page, Page];
  workflowId = (await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order sync", definitionWith("Order sync", ["fetch"]))).id;
  await pageAda.goto(`${stack.url}/workflows/${workflowId}`);
  await until(pageAda.getByTestId("connection-status"), textOf, "connected", 30_000);
  await pageGrace.goto(`${stack.url}/workflows?workspace=${ada.workspaceId}`);
  await pageGrace.getByTestId("notifications-bell").waitFor();
}, 180_000);

afterEach((context) => screenshotOnFailure(session, context, "failed-mentions-"));
afterAll(() => session?.close());

describe("mention notifications in the studio", () => {
  it("Ada mentions Grace in a comment; Grace's bell shows 1 live; choosing it opens the thread and marks it read", async () => {
    // Grace's page is hydrated and its notificationAdded subscription is live (Redis has its subscriber) before Ada writes.
    await waitFor("Grace's bell to subscribe", async () => {
      const [, count] = (await stack.deps.redis.pubsub("NUMSUB", notificationsChannel(stack.deps.env.REDIS_PREFIX, grace.userId))) as [string, number];
      return Number(count) > 0;
    });
    expect(await pageGrace.getByTestId("notifications-count").count()).toBe(0);

    await pageAda.getByTestId("comments-toggle").click();
    const composer = pageAda.getByTestId("new-comment");
    await composer.click();
    await composer.pressSequentially("Can you check the retry policy, @Gr");
    await pageAda.getByRole("option", { name: /Grace/ }).waitFor();
    await composer.press("Enter");
    await composer.pressSequentially("?");
    await pageAda.getByTestId("post-comment").click();
    const adaThread = pageAda.getByTestId("comment-thread");
    await until(adaThread.locator("textarea").first(), valueOf, "Can you check the retry policy, @Grace ?");
    const threadId = await adaThread.getAttribute("data-comment-id");

    // Live: no reload on Grace's page.
    await until(pageGrace.getByTestId("notifications-count"), textOf, "1", 15_000);
    expect(await pageGrace.getByTestId("notifications-bell").getAttribute("aria-label")).toBe("Notifications, 1 unread");
    await pageGrace.getByTestId("notifications-bell").click();
    const item = pageGrace.getByRole("menuitem").filter({ has: pageGrace.getByTestId("notification") });
    await item.first().waitFor();
    expect(await item.count()).toBe(1);
    expect((await textOf(item.first()))!.replace(/\s+/g, " ")).toMatch(/^● Unread: Ada mentioned you in Order sync:“Can you check the retry policy, @Grace \?”just now$/);
    await shot(pageGrace, "mention-notification");

    await item.first().click();
    await pageGrace.waitForURL(`${stack.url}/workflows/${workflowId}?comment=${threadId}`);
    const thread = pageGrace.locator(`[data-testid=comment-thread][data-comment-id="${threadId}"]`);
    await thread.waitFor();
    expect(await thread.getAttribute("class")).toContain("active");
    await until(thread.locator("textarea").first(), valueOf, "Can you check the retry policy, @Grace ?");
    expect(await thread.evaluate((el) => el === document.activeElement)).toBe(true);
    await shot(pageGrace, "mention-notification-thread");

    // Marked read on the server: the bell elsewhere shows nothing unread.
    const unread = async () => ok(await gql(stack.url, `{ notifications(first: 5) { unreadCount } }`, {}, grace.token)).notifications.unreadCount as number;
    await waitFor("the notification to be marked read", async () => (await unread()) === 0, 10_000);
    await pageGrace.goto(`${stack.url}/workflows?workspace=${ada.workspaceId}`);
    await until(pageGrace.getByTestId("notifications-bell"), (l) => l.getAttribute("aria-label"), "Notifications");
    // Once the list has loaded (a menu with the read notification, without the unread dot), no count shows.
    await pageGrace.getByTestId("notifications-bell").click();
    await pageGrace.getByTestId("notification").first().waitFor();
    expect(await pageGrace.getByTestId("notification").first().getAttribute("data-unread")).toBeNull();
    expect(await pageGrace.getByTestId("notifications-count").count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  it("a mention reaches Grace while she is in an editor: the editor's header has the bell too, live", async () => {
    await pageGrace.goto(`${stack.url}/workflows/${workflowId}`);
    const bell = pageGrace.locator("header.editor-bar").getByTestId("notifications-bell");
    await bell.waitFor();
    await waitFor("Grace's editor bell to subscribe", async () => {
      const [, count] = (await stack.deps.redis.pubsub("NUMSUB", notificationsChannel(stack.deps.env.REDIS_PREFIX, grace.userId))) as [string, number];
      return Number(count) > 0;
    });
    const composer = pageAda.getByTestId("new-comment");
    await composer.click();
    await composer.pressSequentially("Second look, @Gr");
    await pageAda.getByRole("option", { name: /Grace/ }).waitFor();
    await composer.press("Enter");
    // The pick closes the list (it used to stay open over the Post button, since "@Grace " still matches Grace).
    await pageAda.getByRole("option", { name: /Grace/ }).waitFor({ state: "detached", timeout: 2_000 });
    await composer.pressSequentially("please");
    await pageAda.getByTestId("post-comment").click();
    await until(pageGrace.locator("header.editor-bar").getByTestId("notifications-count"), textOf, "1", 15_000);
    // The header still fits its row with the bell in it (nothing pushed out of the window).
    const box = (await bell.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    expect(consoleErrors).toEqual([]);
  });
});
