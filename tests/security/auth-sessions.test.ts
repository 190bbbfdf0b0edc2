/**
 * Sessions and tokens (issue 12, item 7; docs/security.md "Sessions and tokens"): an access token belongs to a
 * session (its refresh-token family). Ending the session — logOut, or refresh-token reuse — refuses its access
 * tokens on every transport within a second, not when they expire; other sessions of the same user keep working.
 * A JWT without `exp` (or `iat`, or a session) is refused, and so is one older than the access-token lifetime.
 */
import { workflowRunsChannel } from "@algorythmos/platform";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, gql, ok, rest, signUp, startSibling, type Account } from "../support/api.js";
import { closeCodeOf, rawSocket } from "../support/collab.js";
import { graphqlWsClient, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
});
afterAll(async () => {
  await stack?.close();
});

const ISSUER = "algorythmos";
const REFRESH = `mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { token refreshToken } }`;
const LOGOUT = `mutation($input: LogOutInput!) { logOut(input: $input) }`;
const LOGIN = `mutation($input: LogInInput!) { logIn(input: $input) { token refreshToken } }`;

const meCode = async (token: string) => codeOf(await gql(stack.url, `{ me { id } }`, {}, token));
const restStatus = async (token: string) => (await rest(stack.url, "GET", "/api/workspaces", { token })).status;

/** Whether a graphql-ws connection with this token can run `{ me { id } }`. */
async function wsWorks(token: string): Promise<boolean> {
  const client = graphqlWsClient(stack.url, token);
  try {
    return await new Promise<boolean>((resolve) => {
      client.subscribe({ query: `{ me { id } }` }, {
        next: (message) => resolve(!message.errors && Boolean((message.data as any)?.me?.id)),
        error: () => resolve(false),
        complete: () => {},
      });
    });
  } finally {
    await client.dispose();
  }
}

/** Waits (at most 1 s) until the token is refused over GraphQL HTTP; returns how long that took. */
async function refusedWithinASecond(token: string): Promise<number> {
  const started = Date.now();
  await waitFor("the access token to be refused", async () => (await meCode(token)) === "UNAUTHENTICATED", 1_000);
  return Date.now() - started;
}

describe("ending a session ends its access tokens", () => {
  it("after logOut the session's access token is refused on GraphQL, REST, graphql-ws and collab", async () => {
    const account = await signUp(stack.url, "Logout");
    const workflow = await createWorkflow(stack.url, account.token, account.workspaceId, "Session doc");
    expect(await meCode(account.token)).toBe("OK");
    expect(await wsWorks(account.token)).toBe(true);

    expect(ok(await gql(stack.url, LOGOUT, { input: { refreshToken: account.refreshToken } })).logOut).toBe(true);

    expect(await refusedWithinASecond(account.token)).toBeLessThan(1_000);
    expect(await restStatus(account.token)).toBe(401);
    expect(await wsWorks(account.token)).toBe(false);
    expect(await closeCodeOf(await rawSocket(stack.url, workflow.id, account.token))).toBe(4401);
  });

  it("a collab socket already open with the session's token is closed (4401) within a second of logOut", async () => {
    const account = await signUp(stack.url, "OpenSocket");
    const workflow = await createWorkflow(stack.url, account.token, account.workspaceId, "Open socket doc");
    const socket = await rawSocket(stack.url, workflow.id, account.token);
    await new Promise((resolve) => setTimeout(resolve, 300)); // joined: the server has sent its sync step
    expect(socket.messages.length).toBeGreaterThan(0);
    const loggedOutAt = Date.now();
    expect(ok(await gql(stack.url, LOGOUT, { input: { refreshToken: account.refreshToken } })).logOut).toBe(true);
    expect(await closeCodeOf(socket, 5_000)).toBe(4401);
    expect(Date.now() - loggedOutAt).toBeLessThan(1_000);
  });

  it("refresh-token reuse revokes every access token of the family, the rotated one included", async () => {
    const account = await signUp(stack.url, "Reuse");
    const rotated = ok(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } })).refreshSession;
    expect(await meCode(rotated.token)).toBe("OK");

    // A copy of the first refresh token is presented again: the family is compromised.
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } }))).toBe("UNAUTHENTICATED");

    await refusedWithinASecond(rotated.token);
    await refusedWithinASecond(account.token);
    expect(await restStatus(rotated.token)).toBe(401);
  });

  it("another session of the same user keeps working", async () => {
    const account = await signUp(stack.url, "TwoSessions");
    const second = ok(await gql(stack.url, LOGIN, { input: { email: account.email, password: account.password } })).logIn;
    ok(await gql(stack.url, LOGOUT, { input: { refreshToken: account.refreshToken } }));
    await refusedWithinASecond(account.token);
    expect(await meCode(second.token)).toBe("OK");
    expect(await restStatus(second.token)).toBe(200);
  });

  it("endSession (the studio's log out, which holds only the access token) ends the caller's own session", async () => {
    const account = await signUp(stack.url, "EndSession");
    const other = ok(await gql(stack.url, LOGIN, { input: { email: account.email, password: account.password } })).logIn;
    expect(ok(await gql(stack.url, `mutation { endSession }`, {}, account.token)).endSession).toBe(true);
    await refusedWithinASecond(account.token);
    // Its refresh token is revoked with it; the user's other session is untouched.
    expect(codeOf(await gql(stack.url, REFRESH, { input: { refreshToken: account.refreshToken } }))).toBe("UNAUTHENTICATED");
    expect(await meCode(other.token)).toBe("OK");
  });

  it("endSession needs a session: anonymous is UNAUTHENTICATED, an API token is BAD_USER_INPUT and keeps working", async () => {
    const account = await signUp(stack.url, "EndSessionApi");
    expect(codeOf(await gql(stack.url, `mutation { endSession }`))).toBe("UNAUTHENTICATED");
    const apiToken = ok(await gql(stack.url, `mutation { createApiToken(input: { name: "ci" }) { token } }`, {}, account.token)).createApiToken.token;
    expect(codeOf(await gql(stack.url, `mutation { endSession }`, {}, apiToken))).toBe("BAD_USER_INPUT");
    expect(await meCode(apiToken)).toBe("OK");
    expect(await meCode(account.token)).toBe("OK");
  });

  it("a session ended on one server is refused by another server of the same deployment", async () => {
    const sibling = await startSibling(stack);
    try {
      const account = await signUp(stack.url, "Sibling");
      expect(codeOf(await gql(sibling.url, `{ me { id } }`, {}, account.token))).toBe("OK");
      ok(await gql(stack.url, LOGOUT, { input: { refreshToken: account.refreshToken } }));
      expect(codeOf(await gql(sibling.url, `{ me { id } }`, {}, account.token))).toBe("UNAUTHENTICATED");
    } finally {
      await sibling.close();
    }
  });
});

describe("open connections of an ended session", () => {
  it("a workflowRuns subscription opened with the session's token ends with UNAUTHENTICATED within 1 s of logOut; another session's stays", async () => {
    const account = await signUp(stack.url, "OpenSub");
    const other = ok(await gql(stack.url, LOGIN, { input: { email: account.email, password: account.password } })).logIn;
    const workflow = await createWorkflow(stack.url, account.token, account.workspaceId, "Open subscription");
    const channel = workflowRunsChannel(stack.deps.env.REDIS_PREFIX, workflow.id);
    /** An event on the channel, as a worker would publish it: proves which subscriptions are live. */
    const publish = (seq: number) =>
      stack.deps.redis.publish(channel, JSON.stringify({ seq, type: "run.started", runId: "run_probe", workflowId: workflow.id, stepId: null, status: "running", at: new Date().toISOString() }));
    const open = (token: string) => {
      const client = graphqlWsClient(stack.url, token);
      const events: number[] = [];
      const ended = new Promise<{ at: number; codes: string[] }>((resolve) => {
        client.subscribe({ query: `subscription($id: ID!) { workflowRuns(workflowId: $id) { seq } }`, variables: { id: workflow.id } }, {
          next: (message) => {
            if (message.errors) resolve({ at: Date.now(), codes: message.errors.map((e) => String(e.extensions?.code)) });
            else events.push((message.data as any).workflowRuns.seq);
          },
          error: (error) => resolve({ at: Date.now(), codes: Array.isArray(error) ? error.map((e) => String(e?.extensions?.code)) : [String(error)] }),
          complete: () => resolve({ at: Date.now(), codes: ["COMPLETE"] }),
        });
      });
      return { client, ended, events };
    };
    const ending = open(account.token);
    const staying = open(other.token);
    try {
      await waitFor("both subscriptions live", async () => {
        await publish(1);
        return ending.events.length > 0 && staying.events.length > 0;
      }, 5_000);
      const loggedOutAt = Date.now();
      ok(await gql(stack.url, LOGOUT, { input: { refreshToken: account.refreshToken } }));
      const ended = await Promise.race([ending.ended, new Promise<null>((resolve) => setTimeout(() => resolve(null), 3_000))]);
      expect(ended, "the subscription ended").not.toBeNull();
      expect(ended!.codes).toEqual(["UNAUTHENTICATED"]);
      expect(ended!.at - loggedOutAt).toBeLessThan(1_000);
      await publish(2);
      await waitFor("the other session's subscription to go on", async () => staying.events.includes(2), 3_000);
      expect(ending.events).not.toContain(2);
    } finally {
      await ending.client.dispose();
      await staying.client.dispose();
    }
  });
});

describe("JWT claims a token must carry", () => {
  let account: Account;
  beforeAll(async () => {
    account = await signUp(stack.url, "Claims");
  });
  const secretKey = () => new TextEncoder().encode(stack.deps.env.JWT_SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  /** The session of the signed-up account, read from its own token, so only the claim under test differs. */
  const sessionOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sid as string;

  it("the control: the right secret, issuer, subject, session, iat and exp is accepted", async () => {
    const token = await new SignJWT({ sid: sessionOf(account.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(account.userId)
      .setIssuer(ISSUER).setIssuedAt().setExpirationTime("1h").sign(secretKey());
    expect(await meCode(token)).toBe("OK");
  });

  const REFUSED: { name: string; make: () => Promise<string> }[] = [
    {
      name: "no exp (a token that would never expire)",
      make: () => new SignJWT({ sid: sessionOf(account.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(account.userId).setIssuer(ISSUER)
        .setIssuedAt().sign(secretKey()),
    },
    {
      name: "no iat",
      make: () => new SignJWT({ sid: sessionOf(account.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(account.userId).setIssuer(ISSUER)
        .setExpirationTime("1h").sign(secretKey()),
    },
    {
      name: "issued 13 h ago with an exp in 10 years (older than the access-token lifetime)",
      make: () => new SignJWT({ sid: sessionOf(account.token) }).setProtectedHeader({ alg: "HS256" }).setSubject(account.userId).setIssuer(ISSUER)
        .setIssuedAt(now() - 13 * 3600).setExpirationTime(now() + 10 * 365 * 86400).sign(secretKey()),
    },
    {
      name: "no session (cannot be revoked)",
      make: () => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(account.userId).setIssuer(ISSUER)
        .setIssuedAt().setExpirationTime("1h").sign(secretKey()),
    },
    {
      name: "no subject",
      make: () => new SignJWT({ sid: sessionOf(account.token) }).setProtectedHeader({ alg: "HS256" }).setIssuer(ISSUER)
        .setIssuedAt().setExpirationTime("1h").sign(secretKey()),
    },
  ];

  it.each(REFUSED)("$name → UNAUTHENTICATED (GraphQL), 401 (REST), no graphql-ws", async ({ make }) => {
    const token = await make();
    expect(await meCode(token)).toBe("UNAUTHENTICATED");
    expect(await restStatus(token)).toBe(401);
    expect(await wsWorks(token)).toBe(false);
  });
});
