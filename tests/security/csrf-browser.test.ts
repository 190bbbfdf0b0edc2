/**
 * Attack classes "CORS", "CSRF" and "clickjacking / CSP" (issue #12 items 2, 3 and 14), from a second origin in
 * Chromium. The attacker's pages are served on `http://localhost:<another port>`: the same site as the studio
 * (`http://localhost:<port>`, ports do not make a site), so SameSite=Lax still sends the victim's cookie — the
 * Origin checks must hold on their own. The victim is signed in through the studio's own login page.
 */
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, signUp, type Account } from "../support/api.js";
import { launchBrowser } from "../support/browser.js";
import { listenOnLoopback } from "../support/http.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

const artifacts = path.resolve("tests/artifacts");
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let victim: Account;
let outsider: Account;
/** The attacker's site: `/page` answers whatever HTML the test put under that name. */
let attacker: { url: string; close(): Promise<void> };
const attackerPages = new Map<string, string>();
const violations: string[] = [];

async function attackerPage(name: string, html: string): Promise<void> {
  attackerPages.set(`/${name}`, `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title></head><body>${html}</body></html>`);
  await page.goto(`${attacker.url}/${name}`);
}

/** Resolves once the browser's POST to `target` has been answered (or failed); bounded. */
function postSettled(target: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`No POST to ${target} settled within ${timeoutMs} ms`));
    }, timeoutMs);
    const onSettled = (request: import("playwright-core").Request) => {
      if (request.method() !== "POST" || !request.url().startsWith(target)) return;
      done();
      resolve();
    };
    const done = () => {
      clearTimeout(timer);
      page.off("requestfinished", onSettled);
      page.off("requestfailed", onSettled);
    };
    page.on("requestfinished", onSettled);
    page.on("requestfailed", onSettled);
  });
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  const server = createServer((request, response) => {
    const html = attackerPages.get((request.url ?? "/").split("?")[0]!);
    response.writeHead(html ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(html ?? "not here");
  });
  const listening = await listenOnLoopback(server);
  attacker = { url: `http://localhost:${listening.port}`, close: listening.close };
  [stack, browser] = await Promise.all([startTestStack({ studio: true }), launchBrowser()]);
  [victim, outsider] = await Promise.all([signUp(stack.url, "Victim"), signUp(stack.url, "Outsider")]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Every CSP violation on any page of the studio, as the page itself sees it.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
  page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy|CSP violation/i.test(message.text()) && page.url().startsWith(stack.url)) {
      violations.push(`${page.url()}: ${message.text()}`);
    }
  });
  // The victim signs in through the studio's login page (the session cookie is theirs from here on).
  await page.goto(`${stack.url}/login`);
  await page.getByLabel("Email").fill(victim.email);
  await page.getByLabel("Password").fill(victim.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(/\/workflows$/);
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
  await attacker?.close();
});

describe("a page on another origin, with the victim's cookie", () => {
  it("cannot read GraphQL: createApiToken with credentials: include never hands the attacker a token", async () => {
    const tried: string[] = [];
    const broken: string[] = [];
    await attackerPage("cors", "<p>nothing to see</p>");
    const mutation = `mutation { createApiToken(input: { name: "stolen" }) { token } }`;
    const attempts: Record<string, { headers: Record<string, string> }> = {
      "JSON with the CSRF header (preflighted)": { headers: { "content-type": "application/json", "x-algorythmos-csrf": "1" } },
      "JSON without the CSRF header (preflighted)": { headers: { "content-type": "application/json" } },
      "text/plain (a simple request, no preflight)": { headers: { "content-type": "text/plain" } },
    };
    for (const [name, init] of Object.entries(attempts)) {
      tried.push(name);
      const answer = await page.evaluate(
        async ({ url, headers, body }) => {
          try {
            const response = await fetch(url, { method: "POST", credentials: "include", headers, body });
            return `read ${response.status}: ${await response.text()}`;
          } catch (error) {
            return `blocked: ${(error as Error).message}`;
          }
        },
        { url: `${stack.url}/graphql`, headers: init.headers, body: JSON.stringify({ query: mutation }) },
      );
      if (!answer.startsWith("blocked")) broken.push(`${name}: ${answer.slice(0, 200)}`);
    }
    const created = await stack.deps.db.apiToken.count({ where: { userId: victim.userId, name: "stolen" } });
    if (created) broken.push(`${created} API token(s) were created for the victim`);
    recordAttackClass("CORS: read GraphQL from another origin with the victim's cookie", { tried: tried.length + 1, held: tried.length + 1 - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("cannot run a studio action: an auto-submitted form inviting an outsider as owner invites no one", async () => {
    const target = `${stack.url}/workspaces/${victim.workspaceId}/settings`;
    const forms = {
      "?_data= (classic data request)": `${target}?_data=${encodeURIComponent("routes/workspaces.$id.settings")}`,
      ".data (single fetch)": `${target}.data`,
      "the document itself": target,
    };
    const broken: string[] = [];
    for (const [name, action] of Object.entries(forms)) {
      const answered = postSettled(target);
      await attackerPage(
        "csrf",
        `<form id="f" method="post" action="${action}">
           <input name="intent" value="invite"><input name="email" value="${outsider.email}"><input name="role" value="owner">
         </form><script>document.getElementById("f").submit()</script>`,
      );
      await answered;
      const member = await stack.deps.db.membership.findFirst({ where: { workspaceId: victim.workspaceId, userId: outsider.userId }, select: { role: true } });
      if (member) {
        broken.push(`${name}: the outsider became ${member.role}`);
        await stack.deps.db.membership.deleteMany({ where: { workspaceId: victim.workspaceId, userId: outsider.userId } });
      }
    }
    recordAttackClass("CSRF: cross-origin form POST to a studio action", { tried: Object.keys(forms).length, held: Object.keys(forms).length - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("cannot frame the signed-in studio (frame-ancestors / X-Frame-Options)", async () => {
    await attackerPage("frame", `<iframe id="victim" src="${stack.url}/workflows" width="900" height="600"></iframe>`);
    await page.waitForTimeout(1_000);
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    const framedStudio = frame ? await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "") : "";
    await page.screenshot({ path: path.join(artifacts, "security-framing-blocked.png") });
    recordAttackClass("Clickjacking: the studio inside a foreign iframe", { tried: 1, held: /workflow/i.test(framedStudio) ? 0 : 1, broken: /workflow/i.test(framedStudio) ? ["the studio rendered in the frame"] : [] });
    expect(frame?.url() ?? "").not.toMatch(new RegExp(`^${stack.url}`));
    expect(framedStudio).not.toMatch(/workflow/i);
  });
});

describe("the studio under its content security policy", () => {
  it("the login page and the editor run with a nonce-based CSP and no violations", async () => {
    const workflow = await createWorkflow(stack.url, victim.token, victim.workspaceId, "CSP check");
    const response = await page.goto(`${stack.url}/workflows/${workflow.id}`);
    const policy = response?.headers()["content-security-policy"] ?? "";
    expect(policy).toMatch(/script-src [^;]*'nonce-[A-Za-z0-9+/=]+'/);
    expect(policy).not.toMatch(/script-src [^;]*'unsafe-inline'/);
    // The editor hydrated (its canvas is drawn by client-side React) and its collab socket connected.
    await page.locator(".react-flow__node").first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(artifacts, "security-csp-editor.png") });

    const anonymous = await browser.newContext();
    const loginPage = await anonymous.newPage();
    loginPage.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy|CSP violation/i.test(message.text())) violations.push(`login: ${message.text()}`);
    });
    const login = await loginPage.goto(`${stack.url}/login`);
    expect(login?.headers()["content-security-policy"] ?? "").toMatch(/'nonce-/);
    await loginPage.getByRole("button", { name: "Log in" }).waitFor();
    // Hydrated: client-side validation messages need React running in the page.
    await loginPage.waitForFunction(() => (window as unknown as { __remixContext?: unknown }).__remixContext !== undefined);
    await anonymous.close();
    expect(violations).toEqual([]);
  });
});
