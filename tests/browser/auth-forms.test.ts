/**
 * #17 defect 8, "stale field errors linger (login…)", in Chromium: a message from the last submission is about
 * what was submitted, so it goes once the person edits that field; while they correct it, the field's own
 * constraint (required, type=email) speaks as they type, and "Wrong email or password" goes at the first edit.
 * Screenshot: tests/artifacts/login-correcting.png.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../support/api.js";
import { artifactsDir, openStudioSession, type StudioSession } from "../support/studio-session.js";

let session: StudioSession;
let page: Page;
let ada: Account;
const consoleErrors: string[] = [];

beforeAll(async () => {
  session = await openStudioSession({ users: ["Ada"], viewports: [{ width: 1280, height: 800 }], signIn: "none", consoleErrors });
  [page] = session.pages as [Page];
  [ada] = session.users as [Account];
}, 180_000);
afterAll(async () => {
  await session?.close();
});

/** The validation message under the field labelled `label`, or null when it shows none. */
const messageOf = async (label: string) => {
  const errors = page.getByLabel(label).locator("xpath=following-sibling::p[contains(@class,'field-error')]");
  return (await errors.count()) ? (await errors.textContent())!.trim() : null;
};

describe("log-in form messages follow what is typed (#17 defect 8)", () => {
  it("a field's message from the last submission gives way to the field's own check as the person types, then to nothing", async () => {
    await page.goto(`${session.stack.url}/login`);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => messageOf("Email")).not.toBeNull();
    const submitted = await messageOf("Email");

    await page.getByLabel("Email").pressSequentially("ada");
    // Not the submitted message any more, but what is wrong with "ada" now (the browser's own email check).
    await expect.poll(() => messageOf("Email")).not.toBe(submitted);
    expect(await messageOf("Email")).toMatch(/@/);
    expect(await page.getByLabel("Email").getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: path.join(artifactsDir, "login-correcting.png") });

    await page.getByLabel("Email").pressSequentially("@example.test");
    await expect.poll(() => messageOf("Email")).toBeNull();
    expect(await page.getByLabel("Email").getAttribute("aria-invalid")).toBeNull();
  });

  it("\"wrong email or password\" goes at the first edit and comes back with the next failed submission", async () => {
    await page.goto(`${session.stack.url}/login`);
    await page.getByLabel("Email").fill(ada.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    const formError = page.locator(".form-error");
    await formError.waitFor();
    const wrong = (await formError.textContent())!;

    await page.getByLabel("Password").pressSequentially("x");
    await expect.poll(() => formError.count()).toBe(0);

    await page.getByRole("button", { name: "Log in" }).click();
    await formError.waitFor();
    expect(await formError.textContent()).toBe(wrong);

    await page.getByLabel("Password").fill(ada.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/\/workflows/);
  });

  it("left no console errors", () => {
    // A failed log-in answers 4xx to the form's fetch; the browser logs that as a resource error, which is expected.
    expect(consoleErrors.filter((text) => !/status of 4\d\d/.test(text))).toEqual([]);
  });
});
