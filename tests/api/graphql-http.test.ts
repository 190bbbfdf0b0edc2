/**
 * GraphQL over HTTP conformance (issue #13, defects 1, 2 and 7): graphql-http's own server audits against the
 * real server, and its client reading our answers. Field errors carry a `path` and never change the HTTP status
 * of a request that executed; only requests that never executed (bad document, bad credentials, over a limit)
 * answer 4xx; a request refused as a whole for a retryable reason answers 429/503 with Retry-After.
 */
import type { ExecutionResult } from "graphql";
import { createClient } from "graphql-http";
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { refusalStatus, retryAfterOf } from "../../server/graphql/http-status.js";
import { codeOf, gql, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Conformance");
});
afterAll(async () => {
  await stack?.close();
});

const GRAPHQL_RESPONSE = "application/graphql-response+json";

/** graphql-http's client: a non-2xx answer is a NetworkError for it, so a field error must come back as 200. */
function execute(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<ExecutionResult<any, any>> {
  const client = createClient({ url: `${stack.url}/graphql`, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return new Promise((resolve, reject) => {
    let result: ExecutionResult<any, any> | undefined;
    client.subscribe({ query, variables }, { next: (value) => void (result = value), error: reject, complete: () => resolve(result!) });
  }).finally(() => client.dispose()) as never;
}

async function post(body: unknown, accept: string, token?: string) {
  const response = await fetch(`${stack.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ExecutionResult<any, any> & { errors?: any[] } };
}

describe("graphql-http server audits", () => {
  // One test per audit (the list is graphql-http's): every one must pass, warnings included.
  for (const audit of serverAudits({ url: () => `${stack.url}/graphql` })) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      expect(result.status, "reason" in result ? result.reason : "").toBe("ok");
    });
  }
});

describe("field errors (defect 2)", () => {
  const cases = [
    { name: "NOT_FOUND", query: `{ workflow(id: "wf_missing") { id } }`, token: () => user.token, path: ["workflow"] },
    { name: "UNAUTHENTICATED", query: `{ me { id } }`, token: () => undefined, path: ["me"] },
    { name: "BAD_USER_INPUT", query: `mutation { createWorkspace(input: { name: "" }) { id } }`, token: () => user.token, path: ["createWorkspace"] },
  ];

  for (const { name, query, token, path } of cases) {
    it(`${name}: 200 with data, errors[0].path and extensions.code, for application/json and ${GRAPHQL_RESPONSE}`, async () => {
      for (const accept of ["application/json", GRAPHQL_RESPONSE]) {
        const answer = await post({ query }, accept, token());
        expect(answer.status, `${accept}: ${JSON.stringify(answer.body)}`).toBe(200);
        expect("data" in answer.body).toBe(true);
        expect(answer.body.errors?.[0]).toMatchObject({ path, extensions: { code: name } });
        expect(answer.body.errors?.[0]?.extensions).not.toHaveProperty("http");
      }
      const viaClient = await execute(query, {}, token());
      expect(viaClient.errors?.[0]).toMatchObject({ path, extensions: { code: name } });
    });
  }

  it("a nested field's error has its full path", async () => {
    const owner = await signUp(stack.url, "PathOwner");
    const member = await signUp(stack.url, "PathMember");
    await gql(stack.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, email: member.email, role: "viewer" } }, owner.token);
    // Another user's workspaces are not the caller's to list: FORBIDDEN, at that member's field.
    const result = await execute(`query($id: ID!) { workspace(id: $id) { members { role user { email workspaces { id } } } } }`, { id: owner.workspaceId }, owner.token);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ path: ["workspace", "members", 1, "user", "workspaces"], extensions: { code: "FORBIDDEN" } });
  });

  it("requests that never executed answer 4xx with graphql-response+json: a bad document 400, a bad token 401", async () => {
    const parse = await post({ query: "{ me { id " }, GRAPHQL_RESPONSE, user.token);
    expect(parse.status).toBe(400);
    expect(parse.body.data).toBeUndefined();
    const invalid = await post({ query: "{ me { nope } }" }, GRAPHQL_RESPONSE, user.token);
    expect(invalid.status).toBe(400);
    const badToken = await post({ query: "{ me { id } }" }, GRAPHQL_RESPONSE, "not-a-token");
    expect(badToken.status).toBe(401);
    expect(badToken.body.data).toBeUndefined();
    expect(codeOf(badToken.body)).toBe("UNAUTHENTICATED");
  });
});

describe("signUp / logIn / refreshSession payloads resolve as the new identity (defect 1)", () => {
  const SELECTION = `token refreshToken user { id email workspaces { id name role members { role user { email } } credentials { id } } }`;

  it("signUp selecting user { workspaces } answers the account's workspace, and the token works", async () => {
    const email = `payload-${Date.now()}@example.test`;
    const signed = await execute(`mutation($input: SignUpInput!) { signUp(input: $input) { ${SELECTION} } }`, {
      input: { email, password: "correct horse battery", name: "Payload" },
    });
    expect(signed.errors).toBeUndefined();
    const payload = signed.data.signUp;
    expect(payload.user.email).toBe(email);
    expect(payload.user.workspaces).toHaveLength(1);
    expect(payload.user.workspaces[0]).toMatchObject({ role: "owner", members: [{ role: "owner", user: { email } }], credentials: [] });
    const me = await execute(`{ me { workspaces { id } } }`, {}, payload.token);
    expect(me.data.me.workspaces).toEqual([{ id: payload.user.workspaces[0].id }]);

    const logged = await execute(`mutation($input: LogInInput!) { logIn(input: $input) { ${SELECTION} } }`, { input: { email, password: "correct horse battery" } });
    expect(logged.errors).toBeUndefined();
    expect(logged.data.logIn.user.workspaces.map((w: { id: string }) => w.id)).toEqual([payload.user.workspaces[0].id]);

    const refreshed = await execute(`mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { ${SELECTION} } }`, {
      input: { refreshToken: logged.data.logIn.refreshToken },
    });
    expect(refreshed.errors).toBeUndefined();
    expect(refreshed.data.refreshSession.user.workspaces).toHaveLength(1);
  });
});

describe("429 on GraphQL carries Retry-After (defect 7)", () => {
  let limited: Stack;
  beforeAll(async () => {
    limited = await startTestStack({ collab: false, worker: false }, { RATE_LIMIT_PER_MINUTE: "4", AUTH_RATE_LIMIT_PER_MINUTE: "1" });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it("the sign-in limit: 429 RATE_LIMITED with Retry-After; the request limit: 429 with Retry-After", async () => {
    const LOGIN = `mutation($input: LogInInput!) { logIn(input: $input) { token } }`;
    const call = () =>
      fetch(`${limited.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: GRAPHQL_RESPONSE },
        body: JSON.stringify({ query: LOGIN, variables: { input: { email: user.email, password: user.password } } }),
      });
    expect((await call()).status).toBe(200);
    const signInLimited = await call();
    const body = (await signInLimited.json()) as { errors: any[] };
    expect(signInLimited.status, JSON.stringify(body)).toBe(429);
    expect(body.errors[0]).toMatchObject({ path: ["logIn"], extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } });
    expect(Number(signInLimited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    await call();
    await call();
    const fifth = await call(); // the 5th request of this address this minute: refused before GraphQL runs
    expect(fifth.status).toBe(429);
    expect(Number(fifth.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(codeOf((await fifth.json()) as { errors: any[] })).toBe("RATE_LIMITED");
  });
});

describe("the status of an executed answer whose errors say `retry later` (http-status.ts)", () => {
  const outage = { message: "down", extensions: { code: "SERVICE_UNAVAILABLE", retryAfter: 2 } };
  const limited = { message: "slow down", extensions: { code: "RATE_LIMITED", retryAfter: 30 } };
  const missing = { message: "nope", extensions: { code: "NOT_FOUND" } };

  it("nothing answered and every error is an outage or a limit: 503 / 429 (the larger), Retry-After the longest", () => {
    expect(refusalStatus({ data: null, errors: [outage] } as never)).toBe(503);
    expect(refusalStatus({ data: null, errors: [limited] } as never)).toBe(429);
    expect(refusalStatus({ data: null, errors: [limited, outage] } as never)).toBe(503);
    expect(retryAfterOf([outage, limited, missing])).toBe(30);
    expect(retryAfterOf([missing])).toBeNull();
  });

  it("data present, another code among them, or never executed: no refusal status (200, or the request error's own)", () => {
    expect(refusalStatus({ data: { stepTypes: [] }, errors: [outage] } as never)).toBeNull();
    expect(refusalStatus({ data: null, errors: [outage, missing] } as never)).toBeNull();
    expect(refusalStatus({ errors: [outage] } as never)).toBeNull();
  });
});
