/**
 * Abuse limits (issue 3, "Auth, tenancy, limits"): abusive GraphQL documents are refused before any resolver
 * runs (so before any database query), bodies are bounded, batching is off, rate limits hold per credential
 * and per IP across server instances (429 + Retry-After), and production hides the schema.
 *
 * "No resolver ran" is observed through mutations that would create a uniquely named workspace: if the
 * document is refused before execution, no such row exists afterwards.
 */
import { getIntrospectionQuery } from "graphql";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { QUERY_LIMITS } from "../../server/graphql/yoga.js";
import { codeOf, gql, ok, requestOnce, rest, signUp, startSibling, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}`;

describe("query limits, before execution", () => {
  let stack: Stack;
  let user: Account;
  beforeAll(async () => {
    stack = await startTestStack({ collab: false, worker: false });
    user = await signUp(stack.url, "Limits");
  });
  afterAll(async () => {
    await stack?.close();
  });

  const workspacesNamed = (name: string) => stack.deps.db.workspace.count({ where: { name } });
  const CREATE = (name: string, selection: string, alias = "") => `${alias}createWorkspace(input: { name: ${JSON.stringify(name)} }) { ${selection} }`;

  /** members → user → workspaces → members … nested `levels` times below createWorkspace. */
  function nested(levels: number): string {
    const cycle = ["members", "user", "workspaces"];
    let selection = "id";
    for (let level = levels - 1; level >= 0; level--) selection = `${cycle[level % 3]} { ${level % 3 === 1 ? "id " : ""}${selection} }`;
    return selection;
  }

  it("a mutation within every limit runs (the control for the cases below)", async () => {
    const name = unique("control");
    const result = await gql(stack.url, `mutation { ${CREATE(name, nested(6))} }`, {}, user.token);
    expect(codeOf(result)).toBe("OK");
    expect(await workspacesNamed(name)).toBe(1);
  });

  it(`nesting deeper than maxDepth (${QUERY_LIMITS.maxDepth}) is refused and nothing is created`, async () => {
    const name = unique("deep");
    const result = await gql(stack.url, `mutation { ${CREATE(name, nested(QUERY_LIMITS.maxDepth + 1))} }`, {}, user.token);
    expect(result.errors?.map((error) => error.message).join("\n")).toMatch(/depth/i);
    expect(result.data ?? null).toBeNull();
    expect(await workspacesNamed(name)).toBe(0);
  });

  it(`more than ${QUERY_LIMITS.maxAliases} aliases are refused and nothing is created`, async () => {
    const name = unique("aliases");
    const fields = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => CREATE(name, "id", `a${i}: `)).join("\n");
    const result = await gql(stack.url, `mutation { ${fields} }`, {}, user.token);
    expect(result.errors?.[0]?.message).toMatch(/alias/i);
    expect(result.data ?? null).toBeNull();
    expect(await workspacesNamed(name)).toBe(0);
  });

  it(`a document over ${QUERY_LIMITS.maxTokens} tokens is refused and nothing is created`, async () => {
    const name = unique("tokens");
    const result = await gql(stack.url, `mutation { ${CREATE(name, "id " + "__typename ".repeat(QUERY_LIMITS.maxTokens))} }`, {}, user.token);
    expect(result.errors?.[0]?.message).toMatch(/token/i);
    expect(result.data ?? null).toBeNull();
    expect(await workspacesNamed(name)).toBe(0);
  });

  it(`more than ${QUERY_LIMITS.maxDirectives} directives are refused and nothing is created`, async () => {
    const name = unique("directives");
    const result = await gql(stack.url, `mutation { ${CREATE(name, "id " + "@include(if: true) ".repeat(QUERY_LIMITS.maxDirectives + 1))} }`, {}, user.token);
    expect(result.errors?.[0]?.message).toMatch(/directive/i);
    expect(await workspacesNamed(name)).toBe(0);
  });

  it(`a query costing more than ${QUERY_LIMITS.maxCost} is refused before it reads anything`, async () => {
    // Within depth, alias and token limits, but wide at depth: repeated fields each cost.
    const name = unique("cost");
    const wide = "email ".repeat(600);
    const selection = `members { user { workspaces { members { user { ${wide} } } } } }`;
    const result = await gql(stack.url, `mutation { ${CREATE(name, selection)} }`, {}, user.token);
    expect(result.errors?.[0]?.message).toMatch(/cost/i);
    expect(await workspacesNamed(name)).toBe(0);
  });

  it("batched requests (a JSON array of operations) are refused and none of them runs", async () => {
    const name = unique("batch");
    const response = await fetch(`${stack.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
      body: JSON.stringify([{ query: `mutation { ${CREATE(name, "id")} }` }, { query: `mutation { ${CREATE(name, "id")} }` }]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await workspacesNamed(name)).toBe(0);
  });

  it("introspection is allowed outside production (the full query GraphiQL sends)", async () => {
    const result = await gql(stack.url, getIntrospectionQuery(), {}, user.token);
    expect(codeOf(result)).toBe("OK");
    expect(result.data.__schema.types.map((type: { name: string }) => type.name)).toContain("Workflow");
  });

  it("GraphiQL is served outside production (the control for the production case)", async () => {
    const response = await fetch(`${stack.url}/graphql`, { headers: { accept: "text/html" } });
    expect((await response.text()).toLowerCase()).toContain("graphiql");
  });
});

describe("request bodies", () => {
  let stack: Stack;
  let user: Account;
  beforeAll(async () => {
    stack = await startTestStack({ collab: false, worker: false });
    user = await signUp(stack.url, "Bodies");
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("REST: a body over 1 MiB → 413 PAYLOAD_TOO_LARGE, and nothing is created", async () => {
    const name = unique("huge");
    const body = JSON.stringify({ workspaceId: user.workspaceId, name, description: "x".repeat(1024 * 1024 + 10) });
    const result = await requestOnce(`${stack.url}/api/workflows`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
      body,
    });
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE", message: expect.any(String) } });
    expect(await stack.deps.db.workflow.count({ where: { name } })).toBe(0);
  });

  it("REST: a body just under the limit is read (the control)", async () => {
    const name = unique("big");
    const result = await rest(stack.url, "POST", "/api/workflows", { token: user.token, json: { workspaceId: user.workspaceId, name, description: "x".repeat(4000) } });
    expect(result.status).toBe(201);
  });

  it("REST: invalid JSON → 400 BAD_USER_INPUT", async () => {
    const result = await rest(stack.url, "POST", "/api/workflows", { token: user.token, raw: "{ not json", headers: { "content-type": "application/json" } });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ error: { code: "BAD_USER_INPUT", message: expect.any(String) } });
  });

  it("REST: a non-JSON content type → 400 BAD_USER_INPUT", async () => {
    const result = await rest(stack.url, "POST", "/api/workflows", { token: user.token, raw: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ error: { code: "BAD_USER_INPUT" } });
  });

  it("REST: a JSON body that is not an object where one is required → 400", async () => {
    const created = await rest(stack.url, "POST", "/api/workflows", { token: user.token, json: { workspaceId: user.workspaceId, name: unique("patchme") } });
    const result = await rest(stack.url, "PATCH", `/api/workflows/${created.body.id}`, { token: user.token, json: [1, 2, 3] });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ error: { code: "BAD_USER_INPUT" } });
  });

  it("GraphQL: invalid JSON → 400", async () => {
    const response = await fetch(`${stack.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    expect(response.status).toBe(400);
  });

  it("GraphQL: a body over 1 MiB is refused with 413 before it is parsed or executed", async () => {
    // The issue asks for a request body size limit among the abuse limits; GraphQL bodies are bodies too.
    const name = unique("hugegql");
    const response = await requestOnce(`${stack.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
      body: JSON.stringify({
        query: `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`,
        variables: { input: { workspaceId: user.workspaceId, name, definition: { name, steps: [{ id: "t", type: "trigger.manual", config: { pad: "x".repeat(2 * 1024 * 1024) } }] } } },
      }),
    });
    expect({ status: response.status, created: await stack.deps.db.workflow.count({ where: { name } }) }).toEqual({ status: 413, created: 0 });
  });
});

describe("rate limits (RATE_LIMIT_PER_MINUTE=5, AUTH_RATE_LIMIT_PER_MINUTE=3)", () => {
  const LIMITS = { RATE_LIMIT_PER_MINUTE: "5", AUTH_RATE_LIMIT_PER_MINUTE: "3" };
  let main: Stack;
  beforeAll(async () => {
    main = await startTestStack({ collab: false, worker: false });
  });
  afterAll(async () => {
    await main?.close();
  });

  it("per token on REST: the 6th request → 429 RATE_LIMITED with Retry-After", async () => {
    const stack = await startTestStack({ collab: false, worker: false }, LIMITS);
    try {
      const user = await signUp(main.url, "RateRest"); // signed up elsewhere: the same database, its own limits
      for (let i = 0; i < 5; i++) expect((await rest(stack.url, "GET", "/api/workspaces", { token: user.token })).status).toBe(200);
      const limited = await rest(stack.url, "GET", "/api/workspaces", { token: user.token });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: { code: "RATE_LIMITED", message: expect.any(String) } });
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    } finally {
      await stack.close();
    }
  });

  it("per token on GraphQL: the 6th request → RATE_LIMITED with Retry-After, and it does not run", async () => {
    const stack = await startTestStack({ collab: false, worker: false }, LIMITS);
    try {
      const user = await signUp(main.url, "RateGql");
      for (let i = 0; i < 5; i++) expect(codeOf(await gql(stack.url, `{ me { id } }`, {}, user.token))).toBe("OK");
      const name = unique("limited");
      const limited = await gql(stack.url, `mutation { createWorkspace(input: { name: ${JSON.stringify(name)} }) { id } }`, {}, user.token);
      expect(limited.status).toBe(429);
      expect(codeOf(limited)).toBe("RATE_LIMITED");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await main.deps.db.workspace.count({ where: { name } })).toBe(0);
    } finally {
      await stack.close();
    }
  });

  it("one token's limit does not spend another's", async () => {
    const stack = await startTestStack({ collab: false, worker: false }, LIMITS);
    try {
      const [a, b] = await Promise.all([signUp(main.url, "RateA"), signUp(main.url, "RateB")]);
      for (let i = 0; i < 6; i++) await rest(stack.url, "GET", "/api/workspaces", { token: a.token });
      expect((await rest(stack.url, "GET", "/api/workspaces", { token: a.token })).status).toBe(429);
      expect((await rest(stack.url, "GET", "/api/workspaces", { token: b.token })).status).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it("holds across two server instances sharing one REDIS_PREFIX", async () => {
    const a = await startTestStack({ collab: false, worker: false }, LIMITS);
    const b = await startSibling(a, { collab: false, worker: false }, LIMITS);
    try {
      expect(b.deps.env.REDIS_PREFIX).toBe(a.deps.env.REDIS_PREFIX);
      const user = await signUp(main.url, "RateShared");
      for (const stack of [a, b, a, b, a]) expect((await rest(stack.url, "GET", "/api/workspaces", { token: user.token })).status).toBe(200);
      const onB = await rest(b.url, "GET", "/api/workspaces", { token: user.token });
      expect(onB.status).toBe(429);
      expect(onB.headers.get("retry-after")).toMatch(/^\d+$/);
      const onA = await gql(a.url, `{ me { id } }`, {}, user.token);
      expect(codeOf(onA)).toBe("RATE_LIMITED");
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("auth attempts per IP: the 4th log-in → RATE_LIMITED, on GraphQL and REST alike, even with the right password", async () => {
    const stack = await startTestStack({ collab: false, worker: false }, LIMITS);
    try {
      const user = await signUp(main.url, "Guess");
      const LOGIN = `mutation($input: LogInInput!) { logIn(input: $input) { token } }`;
      expect(codeOf(await gql(stack.url, LOGIN, { input: { email: user.email, password: "wrong password 1" } }))).toBe("UNAUTHENTICATED");
      expect((await rest(stack.url, "POST", "/api/auth/login", { json: { email: user.email, password: "wrong password 2" } })).status).toBe(401);
      expect(codeOf(await gql(stack.url, LOGIN, { input: { email: user.email, password: "wrong password 3" } }))).toBe("UNAUTHENTICATED");

      const fourth = await gql(stack.url, LOGIN, { input: { email: user.email, password: user.password } });
      expect(codeOf(fourth)).toBe("RATE_LIMITED");
      expect(fourth.data ?? null).toBeNull();
      const viaRest = await rest(stack.url, "POST", "/api/auth/login", { json: { email: user.email, password: user.password } });
      expect(viaRest.status).toBe(429);
      expect(viaRest.body).toMatchObject({ error: { code: "RATE_LIMITED" } });
      expect(viaRest.headers.get("retry-after")).toMatch(/^\d+$/);
    } finally {
      await stack.close();
    }
  });

  it("auth attempts are limited across instances too (sign-up counts)", async () => {
    const a = await startTestStack({ collab: false, worker: false }, { ...LIMITS, RATE_LIMIT_PER_MINUTE: "1000" });
    const b = await startSibling(a, { collab: false, worker: false }, { ...LIMITS, RATE_LIMIT_PER_MINUTE: "1000" });
    try {
      const SIGNUP = `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`;
      const input = () => ({ input: { email: `${unique("su")}@example.test`, password: "correct horse battery", name: "Su" } });
      expect(codeOf(await gql(a.url, SIGNUP, input()))).toBe("OK");
      expect(codeOf(await gql(b.url, SIGNUP, input()))).toBe("OK");
      expect(codeOf(await gql(a.url, SIGNUP, input()))).toBe("OK");
      const blocked = input();
      expect(codeOf(await gql(b.url, SIGNUP, blocked))).toBe("RATE_LIMITED");
      expect(await main.deps.db.user.count({ where: { email: blocked.input.email } })).toBe(0);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("per IP as well as per token: fresh bogus bearer tokens from one address are limited too", async () => {
    // Otherwise every request with a new random token gets a fresh budget (and costs a database lookup).
    const stack = await startTestStack({ collab: false, worker: false }, LIMITS);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await rest(stack.url, "GET", "/api/workspaces", { token: `alg_pat_${randomBytes(24).toString("base64url")}` })).status);
      }
      expect(statuses).toContain(429);
    } finally {
      await stack.close();
    }
  });
});

describe("production", () => {
  let stack: Stack;
  let user: Account;
  beforeAll(async () => {
    stack = await startTestStack({ collab: false, worker: false }, { NODE_ENV: "production" });
    user = await signUp(stack.url, "Prod");
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("rejects introspection (__schema and __type)", async () => {
    const schema = await gql(stack.url, `{ __schema { types { name } } }`, {}, user.token);
    expect(schema.errors?.length).toBeGreaterThan(0);
    expect(schema.data ?? null).toBeNull();
    expect(JSON.stringify(schema)).not.toContain("WorkflowVersion");
    const type = await gql(stack.url, `{ __type(name: "Workflow") { fields { name } } }`, {}, user.token);
    expect(type.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(type)).not.toContain("latestVersion");
  });

  it("still answers ordinary queries", async () => {
    expect(ok(await gql(stack.url, `{ me { id } }`, {}, user.token)).me.id).toBe(user.userId);
  });

  it("serves no GraphiQL page", async () => {
    const response = await fetch(`${stack.url}/graphql`, { headers: { accept: "text/html" } });
    const text = await response.text();
    expect(text.toLowerCase()).not.toContain("graphiql");
  });

  it("does not suggest field names to a caller probing the schema", async () => {
    const result = await gql(stack.url, `{ me { emai } }`, {}, user.token);
    expect(result.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(result.errors)).not.toMatch(/did you mean/i);
  });
});
