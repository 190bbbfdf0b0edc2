/**
 * Attack class "missing security headers" (issue #12 item 14): every response — studio pages, assets, GraphQL,
 * REST, webhooks, health, errors — carries the CSP (nonce-based for scripts, no framing), X-Frame-Options,
 * X-Content-Type-Options and Referrer-Policy, and every page gets a fresh nonce that its inline scripts carry.
 * Chromium's view (no violations, no framing) is in csrf-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  await buildStudioIfStale(process.cwd(), () => {});
  stack = await startTestStack({ studio: true, collab: false, worker: false });
  user = await signUp(stack.url, "Headers");
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const REQUIRED: Record<string, RegExp> = {
  "content-security-policy": /frame-ancestors 'none'/,
  "x-frame-options": /^DENY$/,
  "x-content-type-options": /^nosniff$/,
  "referrer-policy": /^(same-origin|no-referrer|strict-origin(-when-cross-origin)?)$/,
};

describe("security headers", () => {
  it("are on every kind of response", async () => {
    const page = await (await fetch(`${stack.url}/login`)).text();
    const asset = /src="(\/build\/[^"]+\.js)"/.exec(page)?.[1] ?? /href="(\/build\/[^"]+\.css)"/.exec(page)?.[1];
    expect(asset).toBeTruthy();
    const requests: [string, string, RequestInit?][] = [
      ["login page", "/login"],
      ["signed-in page", "/workflows", { headers: { cookie: `algo_session=${encodeURIComponent(user.token)}` } }],
      ["studio 404", "/no/such/page"],
      ["built asset", asset!],
      ["favicon", "/favicon.svg"],
      ["GraphQL", "/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) }],
      ["GraphQL preflight", "/graphql", { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "POST" } }],
      ["GraphiQL", "/graphql", { headers: { accept: "text/html" } }],
      ["REST", "/api/workspaces", { headers: { authorization: `Bearer ${user.token}` } }],
      ["REST error", "/api/workspaces"],
      ["webhook 404", "/hooks/wf_none/secret", { method: "POST" }],
      ["health", "/healthz"],
    ];
    const broken: string[] = [];
    for (const [name, path, init] of requests) {
      const response = await fetch(`${stack.url}${path}`, { redirect: "manual", ...init });
      await response.arrayBuffer();
      for (const [header, pattern] of Object.entries(REQUIRED)) {
        const value = response.headers.get(header);
        if (!value || !pattern.test(value)) broken.push(`${name} (${response.status}): ${header} = ${value}`);
      }
    }
    recordAttackClass("Security headers on every response", { tried: requests.length, held: requests.length - new Set(broken.map((line) => line.split(" (")[0])).size, broken });
    expect(broken).toEqual([]);
  });

  it("a studio page's inline scripts carry that response's nonce, fresh per response; no 'unsafe-inline' scripts", async () => {
    await expectNoncedScripts(stack.url);
  });

  it("so do they when the studio is served in development mode (npm start's default)", async () => {
    const development = await startTestStack({ studio: true, collab: false, worker: false }, { NODE_ENV: "development" });
    try {
      await expectNoncedScripts(development.url);
    } finally {
      await development.close();
    }
  });
});

/** Every inline script of /login carries the nonce of its response's CSP, and the nonce changes per response. */
async function expectNoncedScripts(url: string) {
  const nonces: string[] = [];
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${url}/login`);
    const policy = response.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    expect(nonce, policy).toBeTruthy();
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(policy).toMatch(/object-src 'none'/);
    expect(policy).toMatch(/base-uri 'none'/);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) {
      if (/\bsrc=/.test(attributes)) continue;
      expect(attributes).toContain(`nonce="${nonce}"`);
    }
    nonces.push(nonce!);
  }
  expect(nonces[0]).not.toBe(nonces[1]);
}
