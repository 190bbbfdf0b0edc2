/**
 * The read path caches what is safe to cache (issue #14; docs/security.md "Cached checks"): roles per process
 * until the member's access changes, and JWT signature checks until the token expires. Neither may let a
 * removed member, a demoted editor or an ended session through: each case warms the caches first, on two
 * servers, then changes access and asks again at once.
 */
import {
  authenticate,
  cachedRoleForWorkflow,
  REVOCATION_CACHE_TTL_MS,
  redisSessionRevocations,
  revokeSessions,
  sessionEndsChannel,
  signAccessToken,
} from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, gql, invite, ok, signUp, startSibling, type Account } from "../support/api.js";
import { startTestStack, waitFor } from "../support/stack.js";

let a: Stack;
let b: Stack;
let owner: Account;

beforeAll(async () => {
  a = await startTestStack({ collab: false, worker: false });
  b = await startSibling(a);
  owner = await signUp(a.url, "CacheOwner");
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const READ = `query($id: ID!) { workflow(id: $id) { id name } }`;
const RENAME = `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id name } }`;
const REMOVE = `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`;

async function warmed(role: "editor" | "viewer") {
  const member = await signUp(a.url, `Cache${role}`);
  await invite(a.url, owner, owner.workspaceId, member, role);
  const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Cached ${Date.now()}`);
  // Several reads on each server: whatever either process keeps, it keeps now.
  for (const stack of [a, b, a, b]) expect(codeOf(await gql(stack.url, READ, { id: workflow.id }, member.token))).toBe("OK");
  return { member, workflowId: workflow.id as string };
}

describe("cached roles", () => {
  it("a removed member is refused on the very next request, on the server that removed them and on another", async () => {
    const { member, workflowId } = await warmed("editor");
    ok(await gql(a.url, REMOVE, { input: { workspaceId: owner.workspaceId, userId: member.userId } }, owner.token));
    expect(codeOf(await gql(a.url, READ, { id: workflowId }, member.token))).toBe("NOT_FOUND");
    expect(codeOf(await gql(b.url, READ, { id: workflowId }, member.token))).toBe("NOT_FOUND");
  });

  it("a demoted editor's next write is refused on both servers; reading goes on", async () => {
    const { member, workflowId } = await warmed("editor");
    for (const stack of [a, b]) expect(codeOf(await gql(stack.url, RENAME, { input: { id: workflowId, name: "still an editor" } }, member.token))).toBe("OK");
    await invite(a.url, owner, owner.workspaceId, member, "viewer");
    for (const stack of [a, b]) {
      expect(codeOf(await gql(stack.url, RENAME, { input: { id: workflowId, name: "now a viewer" } }, member.token))).toBe("FORBIDDEN");
      expect(codeOf(await gql(stack.url, READ, { id: workflowId }, member.token))).toBe("OK");
    }
  });

  it("an outsider who is invited is let in at once (refusals are never cached)", async () => {
    const outsider = await signUp(a.url, "CacheOutsider");
    const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Invite ${Date.now()}`);
    for (const stack of [a, b]) expect(codeOf(await gql(stack.url, READ, { id: workflow.id }, outsider.token))).toBe("NOT_FOUND");
    await invite(a.url, owner, owner.workspaceId, outsider, "viewer");
    for (const stack of [a, b]) expect(codeOf(await gql(stack.url, READ, { id: workflow.id }, outsider.token))).toBe("OK");
  });

  it("the cache answers what the database says (a granted role, and null for a workflow of another workspace)", async () => {
    const stranger = await signUp(a.url, "CacheStranger");
    const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Roles ${Date.now()}`);
    expect(await cachedRoleForWorkflow(a.deps.db, owner.userId, workflow.id)).toBe("owner");
    expect(await cachedRoleForWorkflow(a.deps.db, owner.userId, workflow.id)).toBe("owner");
    expect(await cachedRoleForWorkflow(a.deps.db, stranger.userId, workflow.id)).toBeNull();
  });
});

describe("cached JWT verification", () => {
  const secret = () => a.deps.env.JWT_SECRET;
  const revocations = () => redisSessionRevocations(a.deps.redis, a.deps.env.REDIS_PREFIX);

  it("an ended session's token is refused after it was verified (revokeSessions drops it from this process's revocation cache before it returns)", async () => {
    const sessionId = `sess_cache_${Date.now()}`;
    const token = await signAccessToken(secret(), { userId: owner.userId, sessionId });
    expect(await authenticate(a.deps.db, secret(), token, revocations())).toMatchObject({ userId: owner.userId, sessionId });
    await revokeSessions(a.deps.redis, a.deps.env.REDIS_PREFIX, [sessionId]);
    expect(await authenticate(a.deps.db, secret(), token, revocations())).toBeNull();
  });

  it("a verified token is refused once it expires, and under another secret", async () => {
    const token = await signAccessToken(secret(), { userId: owner.userId, sessionId: `sess_exp_${Date.now()}` }, "2s");
    expect(await authenticate(a.deps.db, secret(), token, revocations())).not.toBeNull();
    expect(await authenticate(a.deps.db, "another-secret-another-secret-another-00", token, revocations())).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await authenticate(a.deps.db, secret(), token, revocations())).toBeNull();
  });
});

describe("cached revocation checks (docs/security.md, \"Cached checks\")", () => {
  const secret = () => a.deps.env.JWT_SECRET;
  const prefix = () => a.deps.env.REDIS_PREFIX;
  const check = (stack: Stack, token: string) => authenticate(stack.deps.db, secret(), token, redisSessionRevocations(stack.deps.redis, prefix()));
  /** Ends a session the way another process does: the Redis key, then the session-ends message (no local shortcut). */
  const endElsewhere = async (sessionId: string, announce: boolean) => {
    await a.deps.redis.set(`${prefix()}revoked-session:${sessionId}`, "1", "EX", 600);
    if (announce) await a.deps.redis.publish(sessionEndsChannel(prefix()), JSON.stringify({ sessionIds: [sessionId] }));
  };

  it("a session ended by another process is refused on every server once its session-ends message arrives", async () => {
    const sessionId = `sess_pubsub_${Date.now()}`;
    const token = await signAccessToken(secret(), { userId: owner.userId, sessionId });
    for (const stack of [a, b, a, b]) expect(await check(stack, token)).not.toBeNull(); // both caches hold "live"
    await endElsewhere(sessionId, true);
    await waitFor("both servers refuse the token", async () => (await check(a, token)) === null && (await check(b, token)) === null, 2_000);
  });

  it(`a live answer is reused for at most REVOCATION_CACHE_TTL_MS (${REVOCATION_CACHE_TTL_MS} ms) if the message never came`, async () => {
    const sessionId = `sess_lost_${Date.now()}`;
    const token = await signAccessToken(secret(), { userId: owner.userId, sessionId });
    expect(await check(a, token)).not.toBeNull();
    const cachedAt = Date.now();
    await endElsewhere(sessionId, false);
    await waitFor("the token is refused without any message", async () => (await check(a, token)) === null, REVOCATION_CACHE_TTL_MS + 2_000);
    expect(Date.now() - cachedAt).toBeLessThanOrEqual(REVOCATION_CACHE_TTL_MS + 1_000);
  });

  it("JWT requests spend one Redis command (the rate limit's script), none on the revocation check once it is cached", async () => {
    const account = await signUp(a.url, "OneRoundTrip");
    const monitor = a.deps.redis.duplicate();
    const commands: string[] = [];
    try {
      await monitor.monitor().then((feed) => feed.on("monitor", (_time: string, args: string[]) => commands.push(args.join(" "))));
      expect(codeOf(await gql(a.url, `{ me { id } }`, {}, account.token))).toBe("OK"); // warms the caches
      await new Promise((resolve) => setTimeout(resolve, 200));
      commands.length = 0;
      for (let index = 0; index < 20; index++) expect(codeOf(await gql(a.url, `{ me { id } }`, {}, account.token))).toBe("OK");
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ours = commands.filter((command) => command.includes(prefix()));
      expect(ours.filter((command) => /^exists /i.test(command) && command.includes("revoked-session"))).toEqual([]);
      // The rate limit: one script call per request (MONITOR also lists the commands the script runs).
      expect(ours.filter((command) => /^evalsha /i.test(command) && command.includes(`${prefix()}rate:`))).toHaveLength(20);
      expect(ours.filter((command) => !/^(evalsha|incr|ttl|expire) /i.test(command))).toEqual([]);
    } finally {
      monitor.disconnect();
    }
  });
});
