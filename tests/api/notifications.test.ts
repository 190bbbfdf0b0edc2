/**
 * The viewer's notifications over GraphQL (#17, docs/api.md "Notifications"): `notifications` (newest first,
 * paged, unreadCount, unreadOnly), `markNotificationsRead` (ids or all, idempotent, only your own) and the
 * `notificationAdded` subscription over graphql-ws. The notifications come from real mentions: a stock
 * y-websocket client writes comments through the stack's collab service.
 */
import { addComment } from "@algorythmos/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, definitionWith, gql, invite, ok, signUp, type Account } from "../support/api.js";
import { connectClient, waitFor, waitSynced, type CollabClient } from "../support/collab.js";
import { graphqlWsClient, startTestStack } from "../support/stack.js";

const LIST = `query($first: Int, $after: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    unreadCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind workflowId workflowName commentId threadId actorId actorName excerpt studioPath createdAt readAt } }
  }
}`;
const MARK = `mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { marked unreadCount notifications { id readAt } } }`;

let stack: Stack;
let ada: Account;
let grace: Account;
let bob: Account;
let workflowId: string;
let adaClient: CollabClient;
const disposers: (() => unknown)[] = [];

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  [ada, grace, bob] = (await Promise.all(["Ada", "Grace", "Bob"].map((name) => signUp(stack.url, name)))) as [Account, Account, Account];
  await invite(stack.url, ada, ada.workspaceId, grace, "editor");
  await invite(stack.url, ada, ada.workspaceId, bob, "viewer");
  workflowId = (await createWorkflow(stack.url, ada.token, ada.workspaceId, "Order sync", definitionWith("Order sync"))).id;
  adaClient = connectClient(stack.url, workflowId, ada.token);
  await waitSynced(adaClient);
});
afterEach(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
});
afterAll(async () => {
  adaClient?.destroy();
  await stack?.close();
});

const list = (who: Account, variables: Record<string, unknown> = {}) => gql(stack.url, LIST, { first: 20, ...variables }, who.token);
const unreadOf = async (who: Account) => ok(await list(who)).notifications.unreadCount as number;
/** Ada mentions `who` in a new comment; resolves once the notification is stored. */
async function mention(who: Account, text: string): Promise<string> {
  const before = ok(await list(who)).notifications.edges.length;
  const commentId = addComment(adaClient.doc, { anchor: { x: 0, y: 0 }, text, author: { id: ada.userId, name: "Ada" }, mentions: [who.userId] });
  await waitFor("the notification", async () => ok(await list(who)).notifications.edges.length > before);
  return commentId;
}
const subscriberOf = (who: Account) => async () => {
  const [, count] = (await stack.deps.redis.pubsub("NUMSUB", `${stack.deps.env.REDIS_PREFIX}notifications:${who.userId}`)) as [string, number];
  return Number(count) > 0;
};

describe("notifications", () => {
  it("lists the viewer's own, newest first, a page at a time, with the unread count", async () => {
    const first = await mention(grace, "@Grace first");
    const second = await mention(grace, "@Grace second");
    const page = ok(await list(grace, { first: 1 })).notifications;
    expect(page.unreadCount).toBe(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.edges.map((e: { node: { commentId: string } }) => e.node.commentId)).toEqual([second]);
    expect(page.edges[0].node).toMatchObject({
      kind: "mention",
      workflowId,
      workflowName: "Order sync",
      threadId: second,
      actorId: ada.userId,
      actorName: "Ada",
      excerpt: "@Grace second",
      studioPath: `/workflows/${workflowId}?comment=${second}`,
      readAt: null,
    });
    const next = ok(await list(grace, { first: 1, after: page.pageInfo.endCursor })).notifications;
    expect(next.edges.map((e: { node: { commentId: string } }) => e.node.commentId)).toEqual([first]);
    // Nobody else sees them: Bob (a member) and Ada (the author) have none of Grace's.
    expect(ok(await list(bob)).notifications).toMatchObject({ unreadCount: 0, edges: [] });
    expect(ok(await list(ada)).notifications.edges).toEqual([]);
    expect(codeOf(await gql(stack.url, LIST, { first: 5 }))).toBe("UNAUTHENTICATED");
    expect(codeOf(await list(grace, { first: 0 }))).toBe("BAD_USER_INPUT");
  });

  it("markNotificationsRead marks the given ids (only your own, idempotently) or all; bad input gets a message", async () => {
    await mention(grace, "@Grace to read");
    const unread = ok(await list(grace, { unreadOnly: true })).notifications.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
    expect(unread.length).toBeGreaterThanOrEqual(1);
    const [one, ...rest] = unread;

    // Bob cannot mark Grace's: ignored, and he learns nothing about it.
    expect(ok(await gql(stack.url, MARK, { input: { ids: [one] } }, bob.token)).markNotificationsRead).toEqual({ marked: 0, unreadCount: 0, notifications: [] });
    expect(await unreadOf(grace)).toBe(unread.length);

    const marked = ok(await gql(stack.url, MARK, { input: { ids: [one] } }, grace.token)).markNotificationsRead;
    expect(marked).toMatchObject({ marked: 1, unreadCount: rest.length });
    const readAt = marked.notifications[0].readAt;
    expect(readAt).toEqual(expect.any(String));
    const again = ok(await gql(stack.url, MARK, { input: { ids: [one] } }, grace.token)).markNotificationsRead;
    expect(again).toEqual({ marked: 0, unreadCount: rest.length, notifications: [{ id: one, readAt }] });
    expect(ok(await list(grace, { unreadOnly: true })).notifications.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(rest);

    expect(ok(await gql(stack.url, MARK, { input: { all: true } }, grace.token)).markNotificationsRead).toMatchObject({ marked: rest.length, unreadCount: 0 });
    expect(ok(await list(grace, { unreadOnly: true })).notifications.edges).toEqual([]);

    const neither = await gql(stack.url, MARK, { input: {} }, grace.token);
    expect(codeOf(neither)).toBe("BAD_USER_INPUT");
    expect(neither.errors![0]!.message).toBe("Pass the ids to mark read, or all: true");
    expect(codeOf(await gql(stack.url, MARK, { input: { ids: [one], all: true } }, grace.token))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(stack.url, MARK, { input: { ids: Array.from({ length: 101 }, (_, i) => `ntf_${i}`) } }, grace.token))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(stack.url, MARK, { input: { all: true } }))).toBe("UNAUTHENTICATED");
  });

  it("notificationAdded streams the viewer's new notifications over graphql-ws, and only theirs", async () => {
    const received: Record<string, { commentId: string; actorName: string; workflowName: string; readAt: string | null }[]> = { grace: [], bob: [] };
    for (const [name, who] of [["grace", grace], ["bob", bob]] as const) {
      const client = graphqlWsClient(stack.url, who.token);
      disposers.push(() => client.dispose());
      client.subscribe({ query: `subscription { notificationAdded { commentId actorName workflowName readAt } }` }, {
        next: (message) => {
          if (message.data) received[name]!.push((message.data as { notificationAdded: (typeof received)["grace"][number] }).notificationAdded);
        },
        error: (error) => received[name]!.push({ commentId: `error ${JSON.stringify(error)}`, actorName: "", workflowName: "", readAt: null }),
        complete: () => {},
      });
      await waitFor(`${name}'s subscription`, subscriberOf(who));
    }
    const forGrace = await mention(grace, "@Grace live");
    const forBob = await mention(bob, "@Bob live");
    await waitFor("both events", async () => received.grace!.length >= 1 && received.bob!.length >= 1);
    expect(received.grace).toEqual([{ commentId: forGrace, actorName: "Ada", workflowName: "Order sync", readAt: null }]);
    expect(received.bob).toEqual([{ commentId: forBob, actorName: "Ada", workflowName: "Order sync", readAt: null }]);
  });

  it("notificationAdded ends with UNAUTHENTICATED when the session of the subscriber's token ends", async () => {
    const session = ok(await gql(stack.url, `mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email: grace.email, password: grace.password } })).logIn;
    const client = graphqlWsClient(stack.url, session.token);
    disposers.push(() => client.dispose());
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe({ query: `subscription { notificationAdded { id } }` }, { next: (message) => resolve(message), error: resolve, complete: () => resolve("complete") }),
    );
    const listeners = async () => Number(((await stack.deps.redis.pubsub("NUMSUB", `${stack.deps.env.REDIS_PREFIX}notifications:${grace.userId}`)) as [string, number])[1]);
    await waitFor("the session's subscription", async () => (await listeners()) > 0);
    ok(await gql(stack.url, `mutation { endSession }`, {}, session.token));
    expect(JSON.stringify(await ended)).toContain("UNAUTHENTICATED");
  });

  it("an anonymous subscription is refused with UNAUTHENTICATED", async () => {
    const response = await fetch(`${stack.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: `subscription { notificationAdded { id } }` }),
    });
    const text = await response.text();
    expect(text).toContain("UNAUTHENTICATED");
  });

  it("a member who leaves the workspace no longer sees its notifications", async () => {
    const carol = await signUp(stack.url, "Carol");
    await invite(stack.url, ada, ada.workspaceId, carol, "editor");
    await mention(carol, "@Carol before you go");
    expect(await unreadOf(carol)).toBe(1);
    ok(await gql(stack.url, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`, { input: { workspaceId: ada.workspaceId, userId: carol.userId } }, ada.token));
    expect(ok(await list(carol)).notifications).toMatchObject({ unreadCount: 0, edges: [] });
    expect(ok(await gql(stack.url, MARK, { input: { all: true } }, carol.token)).markNotificationsRead.marked).toBe(0);
  });
});
