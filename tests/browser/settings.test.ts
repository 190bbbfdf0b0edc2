/**
 * Workspace settings in Chromium (#17): the credential form stays consistent after a save (defect 3: the Type
 * box sprang back to OpenAI while Postmark's inputs stayed, and the next save stored nothing and said nothing);
 * members: the owner invites someone without an account, who signs up through the link in a second browser and
 * lands in the workspace; the owner changes their role and removes them, and the removal holds at once.
 * Screenshots go to tests/artifacts/screenshots/.
 */
import { credentialTypes, type CredentialType } from "@algorythmos/domain";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { signUp, type Account } from "../support/api.js";
import { launchBrowser, recordConsoleErrors } from "../support/browser.js";
import { startTestStack, waitFor } from "../support/stack.js";

const screenshots = path.resolve("tests/artifacts/screenshots");
let stack: Stack;
let browser: Browser;
let ownerContext: BrowserContext;
let guestContext: BrowserContext;
let page: Page; // Ada, the owner
let ada: Account;
const consoleErrors: string[] = [];

const shot = (target: Page, name: string) => target.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
const settingsUrl = () => `${stack.url}/workspaces/${ada.workspaceId}/settings`;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  [stack, browser] = await Promise.all([startTestStack({ studio: true, collab: false, worker: false }), launchBrowser()]);
  ada = await signUp(stack.url, "Ada");
  ownerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  guestContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ownerContext.newPage();
  recordConsoleErrors(page, consoleErrors);
  await page.goto(`${stack.url}/login`);
  await page.getByLabel("Email").fill(ada.email);
  await page.getByLabel("Password").fill(ada.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/workflows$/);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe("credentials form", () => {
  /** The Type box and the inputs below it must describe the same credential type (polled: a save remounts the form). */
  async function expectConsistent(form: ReturnType<Page["getByTestId"]>) {
    const read = async () => {
      const type = (await form.getByLabel("Type").inputValue()) as CredentialType;
      const labels = await form.locator("input:not([type=hidden])").evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).labels?.[0]?.textContent ?? ""));
      return { type, labels };
    };
    await expect
      .poll(async () => {
        const { type, labels } = await read();
        return labels.join(" | ") === ["Credential name", ...credentialTypes[type].fields.map((field) => field.label)].join(" | ") ? "consistent" : `${type}: ${labels.join(" | ")}`;
      }, { timeout: 5_000 })
      .toBe("consistent");
    return (await read()).type;
  }

  it("defect 3: after a save the Type box and its inputs agree, and the next save stores and says so; an error is shown too", { timeout: 60_000 }, async () => {
    await page.goto(settingsUrl());
    const form = page.getByTestId("credential-form");
    await form.getByLabel("Type").selectOption("postmark");
    await form.getByLabel("Credential name").fill("Mail");
    await form.getByLabel("Server token").fill("pm-token-1");
    await form.getByRole("button", { name: "Save credential" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved credential “Mail”" }).count(), { timeout: 10_000 }).toBe(1);

    // The form is empty again, and consistent (before the fix: Type said OpenAI, the input was Postmark's).
    const form2 = page.getByTestId("credential-form");
    await expect.poll(() => form2.getByLabel("Credential name").inputValue()).toBe("");
    const type = await expectConsistent(form2);
    expect(type).toBe("postmark");
    expect(await form2.getByLabel("Credential name").inputValue()).toBe("");

    // Saving again without touching the Type box stores a second credential of that type, and says so.
    await form2.getByLabel("Credential name").fill("Mail 2");
    await form2.getByLabel(credentialTypes[type].fields[0]!.label).fill("pm-token-2");
    await form2.getByRole("button", { name: "Save credential" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved credential “Mail 2”" }).count(), { timeout: 10_000 }).toBe(1);
    const stored = await stack.deps.db.credential.findMany({ where: { workspaceId: ada.workspaceId }, select: { name: true, type: true }, orderBy: { name: "asc" } });
    expect(stored).toEqual([{ name: "Mail", type: "postmark" }, { name: "Mail 2", type: "postmark" }]);
    await expect.poll(() => page.getByRole("table", { name: "Credentials" }).locator("tbody tr").count()).toBe(2);

    // Switching type shows that type's inputs, empty; a failed save (a name in use) shows its reason.
    const form3 = page.getByTestId("credential-form");
    await form3.getByLabel("Type").selectOption("httpHeader");
    await expectConsistent(form3);
    await form3.getByLabel("Credential name").fill("Mail");
    await form3.getByLabel("Header name").fill("Authorization");
    await form3.getByLabel("Header value").fill("Bearer x");
    await form3.getByRole("button", { name: "Save credential" }).click();
    // The name's own message, beside it (aria-describedby), since the name input is on the form.
    const nameInput = form3.getByLabel("Credential name");
    await expect.poll(() => nameInput.getAttribute("aria-invalid"), { timeout: 10_000 }).toBe("true");
    const describedBy = await nameInput.getAttribute("aria-describedby");
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe("Already taken");
    await expectConsistent(form3);
    await shot(page, "settings-credentials");
  });
});

describe("members", () => {
  it("the owner invites someone new; they sign up through the link in another browser and land in the workspace; role change and removal hold at once", { timeout: 60_000 }, async () => {
    await page.goto(settingsUrl());
    const email = `newcomer-${Date.now()}@example.test`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Role", { exact: true }).selectOption("editor");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const link = await waitFor("the invite link", async () => ((await page.getByTestId("invite-link-value").count()) ? page.getByTestId("invite-link-value").textContent() : null), 10_000);
    expect(link).toMatch(new RegExp(`^${stack.url}/invite/inv_`));
    await expect.poll(() => page.getByTestId(`invite-${email}`).count()).toBe(1);
    await shot(page, "settings-members-invite");

    // The newcomer opens the link in their own browser, signs up with the invited email, and lands in the workspace.
    const guest = await guestContext.newPage();
    const guestErrors: string[] = [];
    recordConsoleErrors(guest, guestErrors);
    await guest.goto(link);
    await guest.getByRole("heading", { name: "Join Ada's workspace" }).waitFor();
    expect(await guest.getByTestId("invite-page").textContent()).toContain(`Ada invited ${email}`);
    await shot(guest, "invite-page");
    await guest.getByRole("link", { name: "Create your account" }).click();
    await guest.waitForURL(/\/signup\?/);
    expect(await guest.getByLabel("Email").inputValue()).toBe(email);
    await guest.getByLabel("Name").fill("Nico");
    await guest.getByLabel("Password").fill("correct horse battery");
    await guest.getByRole("button", { name: "Sign up" }).click();
    await guest.waitForURL(new RegExp(`/workflows\\?workspace=${ada.workspaceId}$`));
    const nico = await stack.deps.db.user.findUniqueOrThrow({ where: { email }, select: { id: true } });
    const roleOfNico = async () =>
      (await stack.deps.db.membership.findUnique({ where: { userId_workspaceId: { userId: nico.id, workspaceId: ada.workspaceId } }, select: { role: true } }))?.role ?? null;
    expect(await roleOfNico()).toBe("editor");
    // The link worked once.
    await guest.goto(link);
    expect(await guest.getByRole("alert").textContent()).toMatch(/already used/);

    // The owner sees them, and makes them a viewer.
    await page.reload();
    await expect.poll(() => page.getByTestId(`invite-${email}`).count()).toBe(0);
    await page.getByLabel("Role of Nico").selectOption("viewer");
    await expect.poll(roleOfNico, { timeout: 10_000 }).toBe("viewer");
    await guest.goto(`${stack.url}/workspaces/${ada.workspaceId}/settings`);
    expect(await guest.getByText("Your role here:").textContent()).toContain("viewer");
    await shot(page, "settings-members");

    // Removal: confirmed, and the removed member's next request is refused.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Remove Nico" }).click();
    await expect.poll(roleOfNico, { timeout: 10_000 }).toBeNull();
    await expect.poll(() => page.getByTestId(`member-${email}`).count()).toBe(0);
    const refused = await guest.goto(`${stack.url}/workspaces/${ada.workspaceId}/settings`);
    expect(refused?.status()).toBe(404);

    // The last owner cannot leave: the reason is shown.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Leave the workspace" }).click();
    await expect.poll(async () => (await page.getByRole("alert").allTextContents()).join(" "), { timeout: 10_000 }).toMatch(/needs an owner/);
    expect(consoleErrors).toEqual([]);
    // The guest's only error is the refused page after the removal.
    expect(guestErrors.filter((error) => !error.includes("404"))).toEqual([]);
  });
});
