/**
 * Tokens: JWTs outside the allow-list (forged, expired, `alg: none`, RS/HS confusion, wrong issuer, garbage)
 * are rejected as UNAUTHENTICATED on GraphQL and REST; refresh tokens rotate with reuse detection; personal
 * API tokens work as bearer tokens, are stored hashed, never listed, revocable, and cannot mint more tokens.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, gql, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Tokens");
});
afterAll(async () => {
  await stack?.close();
});

const ISSUER = "algorythmos";
const secretKey = () => new TextEncoder().encode(stack.deps.env.JWT_SECRET);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
/** The session of a real token: every case below is valid but for the one thing it names (tokens need a session). */
const sessionOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sid as string;

/** Each case builds a token for the signed-up user that must not be accepted. */
const BAD_TOKENS: { name: string; make: () => Promise<string> }[] = [
  {
    name: "forged: HS256 signed with another secret",
    make: () => new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(user.userId).setIssuer(ISSUER).setIssuedAt().setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-server-secret-not-the-server-secret")),
  },
  {
    name: "expired: the right secret and issuer, exp in the past",
    make: () => new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(user.userId).setIssuer(ISSUER)
      .setIssuedAt(now() - 7200).setExpirationTime(now() - 3600).sign(secretKey()),
  },
  {
    name: "alg: none (unsigned)",
    make: async () => `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user.userId, sid: sessionOf(user.token), iat: now(), iss: ISSUER, exp: now() + 3600 })}.`,
  },
  {
    name: "alg: none with the signature of a real token",
    make: async () => {
      const real = await new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(user.userId).setIssuer(ISSUER).setIssuedAt().setExpirationTime("1h").sign(secretKey());
      return `${b64({ alg: "none", typ: "JWT" })}.${real.split(".")[1]}.${real.split(".")[2]}`;
    },
  },
  {
    name: "RS256 signed by an attacker's key, its public JWK embedded in the header",
    make: async () => {
      const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
      return new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "RS256", jwk: await exportJWK(publicKey) }).setSubject(user.userId).setIssuer(ISSUER)
        .setIssuedAt().setExpirationTime("1h").sign(privateKey);
    },
  },
  {
    name: "RS/HS confusion: header says RS256, HMAC over it with the server secret",
    make: async () => {
      const signingInput = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ sub: user.userId, sid: sessionOf(user.token), iat: now(), iss: ISSUER, exp: now() + 3600 })}`;
      const { createHmac } = await import("node:crypto");
      return `${signingInput}.${createHmac("sha256", stack.deps.env.JWT_SECRET).update(signingInput).digest("base64url")}`;
    },
  },
  {
    name: "outside the allow-list: HS512 with the server secret",
    make: () => new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS512" }).setSubject(user.userId).setIssuer(ISSUER).setIssuedAt().setExpirationTime("1h").sign(secretKey()),
  },
  {
    name: "wrong issuer",
    make: () => new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(user.userId).setIssuer("someone-else").setIssuedAt().setExpirationTime("1h").sign(secretKey()),
  },
  { name: "garbage", make: async () => "garbage" },
  { name: "three garbage segments", make: async () => "aaa.bbb.ccc" },
  { name: "an unknown personal API token", make: async () => "alg_pat_" + "x".repeat(32) },
];

describe("rejected bearer tokens", () => {
  it("a correctly signed token is accepted (the control for every case below)", async () => {
    const token = await new SignJWT({ sid: sessionOf(user.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(user.userId).setIssuer(ISSUER).setIssuedAt().setExpirationTime("1h").sign(secretKey());
    expect(ok(await gql(stack.url, `{ me { id } }`, {}, token)).me.id).toBe(user.userId);
    expect((await rest(stack.url, "GET", "/api/workspaces", { token })).status).toBe(200);
  });

  it.each(BAD_TOKENS)("GraphQL: $name → UNAUTHENTICATED", async ({ make }) => {
    const result = await gql(stack.url, `{ me { id email } }`, {}, await make());
    expect(codeOf(result)).toBe("UNAUTHENTICATED");
    expect(result.data ?? null).toBeNull();
    expect(JSON.stringify(result)).not.toContain(user.email);
  });

  it.each(BAD_TOKENS)("REST: $name → 401 { error: { code, message } }", async ({ make }) => {
    const result = await rest(stack.url, "GET", `/api/workflows?workspaceId=${user.workspaceId}`, { token: await make() });
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
  });

  it("a rejected token on a mutation leaves nothing behind", async () => {
    const forged = await BAD_TOKENS[0]!.make();
    const name = `forged-${Date.now()}`;
    const result = await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
      input: { workspaceId: user.workspaceId, name },
    }, forged);
    expect(codeOf(result)).toBe("UNAUTHENTICATED");
    expect(await stack.deps.db.workflow.count({ where: { name } })).toBe(0);
  });
});

const REFRESH = `mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { token refreshToken user { id } } }`;
const LOGOUT = `mutation($input: LogOutInput!) { logOut(input: $input) }`;
const LOGIN = `mutation($input: LogInInput!) { logIn(input: $input) { token refreshToken } }`;

describe("refresh tokens", () => {
  it("refreshSession returns a new working pair", async () => {
    const account = await signUp(stack.url, "Refresh");
    const refreshed = ok(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } })).refreshSession;
    expect(refreshed.refreshToken).not.toBe(account.refreshToken);
    expect(refreshed.user.id).toBe(account.userId);
    expect(ok(await gql(stack.url, `{ me { id } }`, {}, refreshed.token)).me.id).toBe(account.userId);
  });

  it("reusing a refresh token fails and revokes its whole family: the newer one fails too", async () => {
    const account = await signUp(stack.url, "Reuse");
    const second = ok(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } })).refreshSession;

    const reuse = await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } });
    expect(codeOf(reuse)).toBe("UNAUTHENTICATED");

    const newer = await gql(stack.url, REFRESH, { input: { refreshToken: second.refreshToken } });
    expect(codeOf(newer)).toBe("UNAUTHENTICATED");
  });

  it("reuse detection does not touch the user's other sessions", async () => {
    const account = await signUp(stack.url, "TwoSessions");
    const other = ok(await gql(stack.url, LOGIN, { input: { email: account.email, password: account.password } })).logIn;
    ok(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } }));
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } }))).toBe("UNAUTHENTICATED");
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: other.refreshToken } }))).toBe("OK");
  });

  it("REST /api/auth/refresh rotates the same way", async () => {
    const account = await signUp(stack.url, "RestRefresh");
    const first = await rest(stack.url, "POST", "/api/auth/refresh", { json: { refreshToken: account.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String) });
    const reuse = await rest(stack.url, "POST", "/api/auth/refresh", { json: { refreshToken: account.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
    const newer = await rest(stack.url, "POST", "/api/auth/refresh", { json: { refreshToken: first.body.refreshToken } });
    expect(newer.status).toBe(401);
  });

  it("an unknown refresh token is UNAUTHENTICATED", async () => {
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: "alg_rt_not-a-real-one" } }))).toBe("UNAUTHENTICATED");
  });

  it("logOut revokes the session: its refresh token no longer works", async () => {
    const account = await signUp(stack.url, "LogOut");
    const rotated = ok(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } })).refreshSession;
    expect(ok(await gql(stack.url, LOGOUT, { input: { refreshToken: rotated.refreshToken } })).logOut).toBe(true);
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: rotated.refreshToken } }))).toBe("UNAUTHENTICATED");
  });
});

const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name createdAt revokedAt } } }`;

describe("personal API tokens", () => {
  it("works as a bearer token on GraphQL and REST, and is stored only as a hash", async () => {
    const account = await signUp(stack.url, "Pat");
    const created = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "CI" } }, account.token)).createApiToken;
    expect(created.token).toMatch(/^alg_pat_/);
    expect(created.apiToken).toMatchObject({ name: "CI", revokedAt: null });

    expect(ok(await gql(stack.url, `{ me { id } }`, {}, created.token)).me.id).toBe(account.userId);
    const list = await rest(stack.url, "GET", `/api/workflows?workspaceId=${account.workspaceId}`, { token: created.token });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ items: expect.any(Array), nextCursor: null });

    const row = await stack.deps.db.apiToken.findUnique({ where: { id: created.apiToken.id } });
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(row)).not.toContain(created.token.slice("alg_pat_".length));
    expect(row!.tokenHash).toBe(createHash("sha256").update(created.token).digest("hex"));
  });

  it("REST POST /api/api-tokens creates one (201) that works", async () => {
    const account = await signUp(stack.url, "RestPat");
    const created = await rest(stack.url, "POST", "/api/api-tokens", { token: account.token, json: { name: "from REST" } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^alg_pat_/);
    expect((await rest(stack.url, "GET", "/api/workspaces", { token: created.body.token })).status).toBe(200);
  });

  it("is rejected on GraphQL and REST once revoked", async () => {
    const account = await signUp(stack.url, "Revoke");
    const created = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "short-lived" } }, account.token)).createApiToken;
    const revoked = ok(await gql(stack.url, `mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`, { id: created.apiToken.id }, account.token));
    expect(revoked.revokeApiToken.revokedAt).toEqual(expect.any(String));

    expect(codeOf(await gql(stack.url, `{ me { id } }`, {}, created.token))).toBe("UNAUTHENTICATED");
    const restCall = await rest(stack.url, "GET", "/api/workspaces", { token: created.token });
    expect(restCall.status).toBe(401);
    expect(restCall.body).toMatchObject({ error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
  });

  it("another user cannot revoke my token (NOT_FOUND) and it keeps working", async () => {
    const [mine, theirs] = await Promise.all([signUp(stack.url, "Mine"), signUp(stack.url, "Theirs")]);
    const created = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "mine" } }, mine.token)).createApiToken;
    expect(codeOf(await gql(stack.url, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: created.apiToken.id }, theirs.token))).toBe("NOT_FOUND");
    expect(codeOf(await gql(stack.url, `{ me { id } }`, {}, created.token))).toBe("OK");
  });

  it("an API token cannot create API tokens (FORBIDDEN on GraphQL, 403 on REST)", async () => {
    const account = await signUp(stack.url, "NoMint");
    const created = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "parent" } }, account.token)).createApiToken;

    const viaGraphql = await gql(stack.url, CREATE_TOKEN, { input: { name: "child" } }, created.token);
    expect(codeOf(viaGraphql)).toBe("FORBIDDEN");
    const viaRest = await rest(stack.url, "POST", "/api/api-tokens", { token: created.token, json: { name: "child" } });
    expect(viaRest.status).toBe(403);
    expect(viaRest.body).toMatchObject({ error: { code: "FORBIDDEN" } });

    expect(await stack.deps.db.apiToken.count({ where: { userId: account.userId } })).toBe(1);
  });

  it("apiTokens lists the caller's tokens without ever containing a secret", async () => {
    const account = await signUp(stack.url, "Lister");
    const a = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "one" } }, account.token)).createApiToken;
    const b = ok(await gql(stack.url, CREATE_TOKEN, { input: { name: "two" } }, account.token)).createApiToken;
    for (const token of [account.token, a.token]) {
      const listed = ok(await gql(stack.url, `{ apiTokens { id name createdAt lastUsedAt revokedAt } }`, {}, token));
      expect(listed.apiTokens.map((t: { name: string }) => t.name).sort()).toEqual(["one", "two"]);
      const text = JSON.stringify(listed);
      for (const secret of [a.token, b.token]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice("alg_pat_".length));
      }
    }
    // The type has no field that could carry it.
    expect(codeOf(await gql(stack.url, `{ apiTokens { token } }`, {}, account.token))).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});
