/**
 * Attack class "rate-limit bypass" (issue #12 item 13): each request with a fresh made-up credential — a random
 * session cookie, a random or forged JWT, a random API token — must spend its address's budget, not get a
 * budget of its own. A valid credential keeps its own budget (the control).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
