/**
 * Attack classes "CORS" and "CSRF" over plain HTTP (issue #12 items 2 and 3): preflights and cookie-authenticated
 * writes as a browser on another origin would send them (Origin / Sec-Fetch-Site headers), against the studio's
 * own origin and an origin listed in ALLOWED_ORIGINS. The Chromium versions are in csrf-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { CSRF_HEADER } from "../../server/auth.js";
import { signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

const FRIEND = "https://admin.example.test";
const FOREIGN_ORIGINS = ["http://evil.example", "http://localhost:1", "null", "http://localhost.evil.example", FRIEND.replace("https", "http")];
const COOKIE = "algo_session";
let stack: Stack;
let user: Account;

beforeAll(async () => {
  await buildStudioIfStale(process.cwd(), () => {});
  stack = await startTestStack({ studio: true, collab: false, worker: false }, { ALLOWED_ORIGINS: FRIEND });
  user = await signUp(stack.url, "Cors");
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const TOKEN_MUTATION = (name: string) => JSON.stringify({ query: `mutation { createApiToken(input: { name: ${JSON.stringify(name)} }) { token } }` });
const tokensNamed = (name: string) => stack.deps.db.apiToken.count({ where: { userId: user.userId, name } });

function cookieGraphQL(name: string, headers: Record<string, string>) {
  return fetch(`${stack.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `${COOKIE}=${encodeURIComponent(user.token)}`, [CSRF_HEADER]: "1", ...headers },
    body: TOKEN_MUTATION(name),
  });
}

describe("CORS on /graphql", () => {
  it("a preflight from a foreign origin gets no CORS headers; the studio's own origin and ALLOWED_ORIGINS do", async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": `content-type, ${CSRF_HEADER}` },
      });
    const broken: string[] = [];
    for (const origin of FOREIGN_ORIGINS) {
      const response = await preflight(origin);
      const allowed = response.headers.get("access-control-allow-origin");
      if (allowed !== null || response.headers.get("access-control-allow-credentials") !== null) broken.push(`${origin}: allow-origin ${allowed}`);
    }
    recordAttackClass("CORS: preflight from a foreign origin", { tried: FOREIGN_ORIGINS.length, held: FOREIGN_ORIGINS.length - broken.length, broken });
    expect(broken).toEqual([]);

    for (const origin of [stack.url, FRIEND]) {
      const response = await preflight(origin);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("access-control-allow-credentials")).toBe("true");
      expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(CSRF_HEADER);
    }
  });

  it("an answer to a foreign origin carries no Access-Control-Allow-Origin (the page cannot read it)", async () => {
    const response = await fetch(`${stack.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", origin: "http://evil.example" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CSRF: cookie-authenticated writes", () => {
  it("from a foreign origin (Origin, or Sec-Fetch-Site when Origin is missing) → 403 FORBIDDEN and nothing runs", async () => {
    const attempts: [string, Record<string, string>][] = [
      ...FOREIGN_ORIGINS.map((origin): [string, Record<string, string>] => [`Origin: ${origin}`, { origin }]),
      ["Sec-Fetch-Site: same-site (another port of our host)", { "sec-fetch-site": "same-site" }],
      ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
    ];
    const broken: string[] = [];
    for (const [index, [name, headers]] of attempts.entries()) {
      const response = await cookieGraphQL(`csrf-${index}`, headers);
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      if (response.status !== 403 || body.errors?.[0]?.extensions?.code !== "FORBIDDEN" || (await tokensNamed(`csrf-${index}`))) broken.push(`${name}: ${response.status}`);
    }
    recordAttackClass("CSRF: cookie-authenticated GraphQL write from a foreign origin", { tried: attempts.length, held: attempts.length - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("a mutation over GET (a link, an <img>) with the cookie runs nothing", async () => {
    const query = encodeURIComponent(`mutation { createApiToken(input: { name: "via-get" }) { token } }`);
    const response = await fetch(`${stack.url}/graphql?query=${query}`, { headers: { cookie: `${COOKIE}=${encodeURIComponent(user.token)}`, "sec-fetch-site": "cross-site" } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await tokensNamed("via-get")).toBe(0);
  });

  it("from the studio's own origin, from ALLOWED_ORIGINS, or with Sec-Fetch-Site: same-origin → runs (the control)", async () => {
    const callers: Record<string, string>[] = [{ origin: stack.url }, { origin: FRIEND }, { "sec-fetch-site": "same-origin" }, {}];
    for (const [index, headers] of callers.entries()) {
      const response = await cookieGraphQL(`own-${index}`, headers);
      expect({ status: response.status, created: await tokensNamed(`own-${index}`) }).toEqual({ status: 200, created: 1 });
    }
  });

  it("a bearer token is not ambient: an API consumer's write with a foreign Origin still runs", async () => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}`, origin: "http://evil.example" },
      body: TOKEN_MUTATION("bearer-foreign"),
    });
    expect({ status: response.status, created: await tokensNamed("bearer-foreign") }).toEqual({ status: 200, created: 1 });
  });

  it("REST with the cookie from a foreign origin → 403 FORBIDDEN, nothing created", async () => {
    const name = `rest-csrf-${Date.now()}`;
    const response = await fetch(`${stack.url}/api/workflows`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `${COOKIE}=${encodeURIComponent(user.token)}`, [CSRF_HEADER]: "1", origin: "http://evil.example" },
      body: JSON.stringify({ workspaceId: user.workspaceId, name }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(await stack.deps.db.workflow.count({ where: { name } })).toBe(0);
  });

  it("a studio action posted from a foreign origin → 403 and no one is invited; from our origin it runs", async () => {
    const outsider = await signUp(stack.url, "Outsider");
    const settings = `${stack.url}/workspaces/${user.workspaceId}/settings`;
    const post = (origin: string, url: string) =>
      fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `${COOKIE}=${encodeURIComponent(user.token)}`, origin },
        body: new URLSearchParams({ intent: "invite", email: outsider.email, role: "viewer" }).toString(),
      });
    const member = () => stack.deps.db.membership.count({ where: { workspaceId: user.workspaceId, userId: outsider.userId } });
    expect((await post("http://localhost:1", `${settings}?_data=${encodeURIComponent("routes/workspaces.$id.settings")}`)).status).toBe(403);
    expect((await post("http://localhost:1", `${settings}.data`)).status).toBe(403);
    expect(await member()).toBe(0);
    expect((await post(stack.url, `${settings}.data`)).status).toBeLessThan(400);
    expect(await member()).toBe(1);
  });
});
