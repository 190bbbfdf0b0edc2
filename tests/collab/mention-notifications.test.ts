/**
 * Mention notifications (#17; docs/decisions/0011-mention-notifications.md): stock y-websocket clients against
 * the real collab process (`collab/main.ts`, two of them sharing PostgreSQL and the Redis relay). A comment or
 * reply that @mentions a member, stored by the socket of its author, creates exactly one Notification — also
 * when the update is relayed to, or re-sent through, a second collab process — and a forged author, a
 * non-member, a self-mention or a viewer's edit creates none.
 */
import { addComment, addCommentMentions, addReply, commentsMap } from "@algorythmos/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, definitionWith, gql, invite, ok, signUp, type Account } from "../support/api.js";
import { connectClient, freePort, startCollabProcess, waitFor, waitSynced, withPg, type CollabClient, type CollabProcess } from "../support/collab.js";
import { graphqlWsClient, startTestStack } from "../support/stack.js";

let stack: Stack;
let collabA: CollabProcess;
let collabB: CollabProcess;
let ada: Account;
let grace: Account;
let bob: Account;
let vera: Account;
let olivia: Account;
const clients: CollabClient[] = [];

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  // Anti-entropy far apart: a process learns of another's edits only through the relay (B's lost ones stay lost).
  [collabA, collabB] = await Promise.all([
    startCollabProcess(stack.deps.env, await freePort(), { COLLAB_ANTI_ENTROPY_MS: "600000" }),
    startCollabProcess(stack.deps.env, await freePort(), { COLLAB_ANTI_ENTROPY_MS: "600000" }),
  ]);
  [ada, grace, bob, vera, olivia] = (await Promise.all(["Ada", "Grace", "Bob", "Vera", "Olivia"].map((name) => signUp(stack.url, name)))) as [Account, Account, Account, Account, Account];
  await invite(stack.url, ada, ada.workspaceId, grace, "editor");
  await invite(stack.url, ada, ada.workspaceId, bob, "editor");
  await invite(stack.url, ada, ada.workspaceId, vera, "viewer");
}, 60_000);
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(async () => {
  await Promise.all([collabA?.stop("SIGTERM"), collabB?.stop("SIGTERM")]);
  await stack?.close();
});

const open = (collab: CollabProcess, workflowId: string, who: Account, doc?: Y.Doc) => {
  const client = connectClient(collab.url, workflowId, who.token, { doc });
  clients.push(client);
  return client;
};
const author = (who: Account, name: string) => ({ id: who.userId, name });
const newWorkflow = async (name: string) => (await createWorkflow(stack.url, ada.token, ada.workspaceId, name, definitionWith(name))).id;

interface Row {
  userId: string;
  workflowId: string;
  commentId: string;
  threadId: string;
  actorId: string | null;
  actorName: string;
  excerpt: string;
  kind: string;
}
const rowsOf = (workflowId: string) =>
  withPg(stack.deps.env.DATABASE_URL, async (pg) =>
    (await pg.query<Row>(`SELECT "userId", "workflowId", "commentId", "threadId", "actorId", "actorName", excerpt, kind FROM "Notification" WHERE "workflowId" = $1 ORDER BY "createdAt", id`, [workflowId])).rows,
  );
const waitForRows = (workflowId: string, count: number) => waitFor(`${count} notification row(s)`, async () => ((await rowsOf(workflowId)).length >= count ? rowsOf(workflowId) : null));
/** Lets in-flight notification inserts of earlier updates finish before counting what is not there. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

describe("mention notifications, derived where collab stores the update", () => {
  it("a comment mentioning a member creates one notification, with the socket's user as the actor; relaying and re-syncing it adds none", async () => {
    const workflowId = await newWorkflow("Order sync");
    const onA = open(collabA, workflowId, ada);
    const graceOnB = open(collabB, workflowId, grace);
    await waitSynced(onA, graceOnB);

    const commentId = addComment(onA.doc, { anchor: { x: 10, y: 20 }, text: "@Grace can you   check\nthe retry?", author: author(ada, "Ada"), mentions: [grace.userId] });
    const [row] = await waitForRows(workflowId, 1);
    expect(row).toEqual({
      userId: grace.userId,
      workflowId,
      commentId,
      threadId: commentId,
      actorId: ada.userId,
      actorName: "Ada",
      excerpt: "@Grace can you check the retry?",
      kind: "mention",
    });
    // Relayed to B (Grace sees it there), and Ada's document synced through B as well: still one row.
    await waitFor("Grace's client on B to hold the comment", async () => commentsMap(graceOnB.doc)?.has(commentId) ?? false);
    const adaOnB = open(collabB, workflowId, ada, onA.doc);
    await waitSynced(adaOnB);
    await settle();
    expect(await rowsOf(workflowId)).toHaveLength(1);
  });

  it("an update re-sent to a second process that never had it (its relay message lost) is noticed there again but stored once", async () => {
    const workflowId = await newWorkflow("Re-sent");
    const graceOnB = open(collabB, workflowId, grace); // B's room is loaded before the edit, so B misses it
    await waitSynced(graceOnB);
    const dropping = await startCollabProcess(stack.deps.env, await freePort(), { COLLAB_ANTI_ENTROPY_MS: "600000", COLLAB_RELAY_DROP_RATE: "1" });
    const live = graphqlWsClient(stack.url, grace.token);
    const announced: string[] = [];
    try {
      const subscribed = waitFor("Grace's notificationAdded subscription", async () => {
        const [, count] = (await stack.deps.redis.pubsub("NUMSUB", `${stack.deps.env.REDIS_PREFIX}notifications:${grace.userId}`)) as [string, number];
        return Number(count) > 0;
      });
      live.subscribe({ query: `subscription { notificationAdded { id commentId workflowId } }` }, {
        next: (message) => {
          const added = (message.data as { notificationAdded?: { commentId: string; workflowId: string } } | undefined)?.notificationAdded;
          if (added?.workflowId === workflowId) announced.push(added.commentId);
        },
        error: () => {},
        complete: () => {},
      });
      await subscribed;

      const onDropping = open(dropping, workflowId, ada);
      await waitSynced(onDropping);
      const commentId = addComment(onDropping.doc, { anchor: { stepId: "start" }, text: "@Grace ping", author: author(ada, "Ada"), mentions: [grace.userId] });
      await waitForRows(workflowId, 1);
      await settle();
      expect(commentsMap(graceOnB.doc)?.has(commentId) ?? false).toBe(false); // the relay lost it: B does not have it

      // Ada's document reaches B through a second provider: B stores the comment it lacked and notices the mention.
      const adaOnB = open(collabB, workflowId, ada, onDropping.doc);
      await waitSynced(adaOnB);
      await waitFor("Grace's client on B to get the comment through B", async () => commentsMap(graceOnB.doc)?.has(commentId) ?? false);
      await settle();
      expect(await rowsOf(workflowId)).toHaveLength(1);
      expect(announced).toEqual([commentId]); // announced once: only rows actually inserted are
    } finally {
      await live.dispose();
      await dropping.stop("SIGTERM");
    }
  });

  it("replies and mentions added to an existing entry notify the newly mentioned members only", async () => {
    const workflowId = await newWorkflow("Replies");
    const onA = open(collabA, workflowId, ada);
    const bobOnA = open(collabA, workflowId, bob);
    await waitSynced(onA, bobOnA);
    const threadId = addComment(onA.doc, { anchor: { x: 0, y: 0 }, text: "Plan", author: author(ada, "Ada"), mentions: [grace.userId] });
    await waitFor("Bob to hold the thread", async () => commentsMap(bobOnA.doc)?.has(threadId) ?? false);
    const replyId = addReply(bobOnA.doc, threadId, { text: "@Ada @Grace agreed", author: author(bob, "Bob"), mentions: [ada.userId, grace.userId] })!;
    await waitForRows(workflowId, 3);
    // Ada picks @Bob while editing her comment: Bob is told; Grace, already told of that comment, is not again.
    addCommentMentions(onA.doc, threadId, null, [grace.userId, bob.userId]);
    await waitForRows(workflowId, 4);
    await settle();
    const rows = await rowsOf(workflowId);
    expect(rows.map((r) => [r.userId, r.commentId, r.threadId, r.actorName]).sort()).toEqual(
      [
        [grace.userId, threadId, threadId, "Ada"],
        [ada.userId, replyId, threadId, "Bob"],
        [grace.userId, replyId, threadId, "Bob"],
        [bob.userId, threadId, threadId, "Ada"],
      ].sort(),
    );
  });

  it("a forged author, a non-member and a self-mention create nothing", async () => {
    const workflowId = await newWorkflow("Refused");
    const onA = open(collabA, workflowId, ada);
    await waitSynced(onA);
    // Ada's socket writes an entry claiming Grace wrote it, mentioning Bob: Bob must not be told "Grace mentioned you".
    addComment(onA.doc, { anchor: { x: 1, y: 1 }, text: "@Bob from Grace", author: author(grace, "Grace"), mentions: [bob.userId] });
    // Olivia is in no workspace of this workflow; Ada mentioning herself tells no one.
    addComment(onA.doc, { anchor: { x: 2, y: 2 }, text: "@Olivia hello", author: author(ada, "Ada"), mentions: [olivia.userId] });
    addComment(onA.doc, { anchor: { x: 3, y: 3 }, text: "note to @Ada", author: author(ada, "Ada"), mentions: [ada.userId] });
    // A later mention from the same socket that must arrive: everything before it has been handled by then.
    const sentinel = addComment(onA.doc, { anchor: { x: 4, y: 4 }, text: "@Grace sentinel", author: author(ada, "Ada"), mentions: [grace.userId] });
    await waitForRows(workflowId, 1);
    await settle();
    const rows = await rowsOf(workflowId);
    expect(rows.map((r) => [r.userId, r.commentId])).toEqual([[grace.userId, sentinel]]);
  });

  it("a viewer's comment is never stored, so it notifies no one", async () => {
    const workflowId = await newWorkflow("Viewer");
    const viewer = open(collabA, workflowId, vera);
    const onA = open(collabA, workflowId, ada);
    await waitSynced(viewer, onA);
    addComment(viewer.doc, { anchor: { x: 0, y: 0 }, text: "@Ada look", author: author(vera, "Vera"), mentions: [ada.userId] });
    const sentinel = addComment(onA.doc, { anchor: { x: 5, y: 5 }, text: "@Grace sentinel", author: author(ada, "Ada"), mentions: [grace.userId] });
    await waitForRows(workflowId, 1);
    await settle();
    expect((await rowsOf(workflowId)).map((r) => [r.userId, r.commentId])).toEqual([[grace.userId, sentinel]]);
    expect(ok(await gql(stack.url, `{ notifications(first: 50) { edges { node { workflowId } } } }`, {}, ada.token)).notifications.edges.filter((e: { node: { workflowId: string } }) => e.node.workflowId === workflowId)).toEqual([]);
  });
});
