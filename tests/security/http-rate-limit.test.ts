/**
 * Attack class "rate-limit bypass" (issue #12 item 13): each request with a fresh made-up credential — a random
 * session cookie, a random or forged JWT, a random API token — must spend its address's budget, not get a
 * budget of its own. A valid credential keeps its own budget (the control).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { CSRF_HEADER } from "../../server/auth.js";
import { codeOf, gql, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

const LIMIT = 5;
const ATTEMPTS = 3 * LIMIT;
let stack: Stack;
let user: Account;

beforeAll(async () => {
  const main = await startTestStack({ collab: false, worker: false });
  user = await signUp(main.url, "RateBypass"); // signed up elsewhere, so this stack's budgets are untouched
  await main.close();
});
afterAll(async () => {
  await stack?.close();
});

const jwtShaped = () =>
  [{ alg: "HS256", typ: "JWT" }, { sub: "usr_x", sid: randomBytes(8).toString("hex"), iss: "algorythmos", iat: 1, exp: 9_999_999_999 }]
    .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
    .concat(randomBytes(32).toString("base64url"))
    .join(".");

const MADE_UP: Record<string, () => Record<string, string>> = {
  "a random session cookie": () => ({ cookie: `algo_session=${randomBytes(24).toString("base64url")}`, [CSRF_HEADER]: "1" }),
  "a forged JWT as the session cookie": () => ({ cookie: `algo_session=${jwtShaped()}`, [CSRF_HEADER]: "1" }),
  "a random bearer API token": () => ({ authorization: `Bearer alg_pat_${randomBytes(24).toString("base64url")}` }),
  "a forged bearer JWT": () => ({ authorization: `Bearer ${jwtShaped()}` }),
};

describe(`rate limits with made-up credentials (RATE_LIMIT_PER_MINUTE=${LIMIT})`, () => {
  it(`${ATTEMPTS} requests from one address, each with a fresh made-up credential, are limited like anonymous ones`, async () => {
    const broken: string[] = [];
    for (const [name, credential] of Object.entries(MADE_UP)) {
      stack = await startTestStack({ collab: false, worker: false }, { RATE_LIMIT_PER_MINUTE: String(LIMIT) });
      const codes: string[] = [];
      for (let i = 0; i < ATTEMPTS; i++) codes.push(codeOf(await gql(stack.url, `{ __typename }`, {}, undefined, credential())));
      const limited = codes.filter((code) => code === "RATE_LIMITED").length;
      // Past the address's budget every further attempt is refused.
      if (limited < ATTEMPTS - LIMIT) broken.push(`${name}: ${limited} of ${ATTEMPTS} limited (${codes.join(",")})`);
      // The control: a valid token from the same address still has its own budget.
      if (codeOf(await gql(stack.url, `{ me { id } }`, {}, user.token)) !== "OK") broken.push(`${name}: a valid token was limited too`);
      await stack.close();
    }
    recordAttackClass("Rate-limit bypass with made-up credentials", { tried: Object.keys(MADE_UP).length, held: Object.keys(MADE_UP).length - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("made-up credentials and anonymous calls share one budget per address", async () => {
    stack = await startTestStack({ collab: false, worker: false }, { RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    for (let i = 0; i < LIMIT; i++) expect(codeOf(await gql(stack.url, `{ __typename }`, {}, undefined, MADE_UP["a random session cookie"]!()))).toBe("OK");
    const anonymous = await gql(stack.url, `{ __typename }`);
    expect(anonymous.status).toBe(429);
    expect(codeOf(anonymous)).toBe("RATE_LIMITED");
  });
});

describe("rate limits behind a reverse proxy", () => {
  const anonymous = (url: string, headers: Record<string, string> = {}) => gql(url, `{ __typename }`, {}, undefined, headers).then(codeOf);

  it("TRUST_PROXY=true: each client address the proxy forwards has its own budget (the proxy's socket is shared by all)", async () => {
    const proxied = await startTestStack({ collab: false, worker: false }, { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: "true" });
    onTestFinished(() => proxied.close());
    for (let i = 0; i < LIMIT; i++) expect(await anonymous(proxied.url, { "x-forwarded-for": "198.51.100.1" })).toBe("OK");
    expect(await anonymous(proxied.url, { "x-forwarded-for": "198.51.100.1" })).toBe("RATE_LIMITED");
    // Another user behind the same proxy is not refused for the first one's requests.
    expect(await anonymous(proxied.url, { "x-forwarded-for": "198.51.100.2" })).toBe("OK");
    // The proxy appends what it saw: only the last entry counts, so a client cannot pick its budget by prefixing one.
    expect(await anonymous(proxied.url, { "x-forwarded-for": "203.0.113.9, 198.51.100.1" })).toBe("RATE_LIMITED");
  });

  it("without TRUST_PROXY a client's own X-Forwarded-For buys no fresh budget", async () => {
    const direct = await startTestStack({ collab: false, worker: false }, { RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    onTestFinished(() => direct.close());
    const codes: string[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) codes.push(await anonymous(direct.url, { "x-forwarded-for": `198.51.100.${i + 10}` }));
    expect(codes.filter((code) => code === "RATE_LIMITED").length).toBe(LIMIT);
  });
});
