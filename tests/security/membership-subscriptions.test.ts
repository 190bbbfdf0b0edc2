/**
 * Membership changes reach open connections (issue 12, item 8; docs/security.md "Membership changes"): a
 * member removed from a workspace has every open runEvents / workflowRuns subscription end with FORBIDDEN within
 * 1 s, on whichever server it is open; a demotion that keeps read access keeps them streaming. Every change is
 * published on `${REDIS_PREFIX}access-changes` (subscribeAccessChanges), for the collab service too.
 */
import type { RunEvent } from "@algorythmos/domain";
import { accessChangesChannel, createRedis, publishRunEvent, subscribeAccessChanges, workflowRunsChannel, type AccessChange } from "@algorythmos/platform";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, signUp, startSibling, type Account } from "../support/api.js";
import { graphqlWsClient, startTestStack, waitFor } from "../support/stack.js";

let a: Stack;
let b: Stack;
let owner: Account;

beforeAll(async () => {
  a = await startTestStack({ collab: false, worker: false });
  b = await startSibling(a);
  owner = await signUp(a.url, "MemOwner");
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { seq type runId } }`;
const WORKFLOW_RUNS = `subscription($workflowId: ID!) { workflowRuns(workflowId: $workflowId) { seq type runId } }`;
const REMOVE = `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`;

interface Subscription {
  events: any[];
  /** When the subscription ended (error or complete), and how. */
  ended: Promise<{ at: number; codes: string[] }>;
}

function subscribe(client: Client, query: string, variables: Record<string, unknown>): Subscription {
  const events: any[] = [];
  const ended = new Promise<{ at: number; codes: string[] }>((resolve) => {
    client.subscribe({ query, variables }, {
      next: (message) => {
        if (message.errors) resolve({ at: Date.now(), codes: message.errors.map((e) => String(e.extensions?.code)) });
        else events.push(Object.values(message.data ?? {})[0]);
      },
      error: (error) => resolve({ at: Date.now(), codes: Array.isArray(error) ? error.map((e) => String(e?.extensions?.code)) : [String(error)] }),
      complete: () => resolve({ at: Date.now(), codes: ["COMPLETE"] }),
    });
  });
  return { events, ended };
}

const publish = (event: Omit<RunEvent, "seq">) => publishRunEvent(a.deps.db, a.deps.redis, a.deps.env.REDIS_PREFIX, event);
const at = () => new Date().toISOString();

async function member(role: "editor" | "viewer") {
  const account = await signUp(a.url, `Mem${role}`);
  await invite(a.url, owner, owner.workspaceId, account, role);
  return account;
}

async function queuedRun() {
  const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Members ${Date.now()}`);
  const run = ok(await gql(a.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, owner.token)).startRun;
  return { workflowId: workflow.id as string, runId: run.id as string };
}

/** Redis reports a subscriber on the workflow's channel: the subscription is live (workflowRuns replays nothing). */
const listening = (workflowId: string, count = 1) =>
  waitFor("the workflowRuns subscription", async () => {
    const [, subscribers] = (await a.deps.redis.pubsub("NUMSUB", workflowRunsChannel(a.deps.env.REDIS_PREFIX, workflowId))) as [string, number];
    return Number(subscribers) >= count;
  });

const removeMember = async (account: Account) => ok(await gql(a.url, REMOVE, { input: { workspaceId: owner.workspaceId, userId: account.userId } }, owner.token));

describe("a removed member's open subscriptions end", () => {
  it("runEvents and workflowRuns, on this server and on another one, end with FORBIDDEN within 1 s of removeMember", async () => {
    const editor = await member("editor");
    const { workflowId, runId } = await queuedRun();
    const onA = graphqlWsClient(a.url, editor.token);
    const onB = graphqlWsClient(b.url, editor.token);
    try {
      const events = subscribe(onA, RUN_EVENTS, { runId });
      const runsA = subscribe(onA, WORKFLOW_RUNS, { workflowId });
      const runsB = subscribe(onB, WORKFLOW_RUNS, { workflowId });
      await waitFor("the replayed run.queued", async () => events.events.length >= 1);
      await listening(workflowId, 2);

      const removedAt = Date.now();
      await removeMember(editor);

      const endings = await Promise.race([
        Promise.all([events.ended, runsA.ended, runsB.ended]),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 3_000)),
      ]);
      expect(endings, "every subscription ended").not.toBeNull();
      console.info(`subscriptions ended ${endings!.map((e) => e.at - removedAt).join(", ")} ms after removeMember`);
      for (const ending of endings!) {
        expect(ending.codes).toEqual(["FORBIDDEN"]);
        expect(ending.at - removedAt).toBeLessThan(1_000);
      }
      // Nothing published after the removal reaches the former member.
      const seen = events.events.length + runsA.events.length + runsB.events.length;
      await publish({ type: "run.started", runId, workflowId, stepId: null, status: "running", at: at() });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.events.length + runsA.events.length + runsB.events.length).toBe(seen);
    } finally {
      await onA.dispose();
      await onB.dispose();
    }
  });

  it("a demotion that keeps read access (editor → viewer) keeps the subscription streaming", async () => {
    const editor = await member("editor");
    const { workflowId, runId } = await queuedRun();
    const client = graphqlWsClient(b.url, editor.token);
    try {
      const runs = subscribe(client, WORKFLOW_RUNS, { workflowId });
      await listening(workflowId);
      await invite(a.url, owner, owner.workspaceId, editor, "viewer");
      // Give the re-check time to run; then the stream must still deliver.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await publish({ type: "run.started", runId, workflowId, stepId: null, status: "running", at: at() });
      await waitFor("the event after the demotion", async () => runs.events.length >= 1, 3_000);
      expect(runs.events[0]).toMatchObject({ type: "RUN_STARTED", runId });
    } finally {
      await client.dispose();
    }
  });

  it("another member's removal does not end my subscription", async () => {
    const [stays, leaves] = await Promise.all([member("viewer"), member("viewer")]);
    const { workflowId, runId } = await queuedRun();
    const client = graphqlWsClient(a.url, stays.token);
    try {
      const runs = subscribe(client, WORKFLOW_RUNS, { workflowId });
      await listening(workflowId);
      await removeMember(leaves);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await publish({ type: "run.started", runId, workflowId, stepId: null, status: "running", at: at() });
      await waitFor("the event after someone else's removal", async () => runs.events.length >= 1, 3_000);
    } finally {
      await client.dispose();
    }
  });
});

describe("the access-changes channel (the contract the collab service listens to)", () => {
  it("inviteMember (a role change) and removeMember each publish { workspaceId, userId } after the change is stored", async () => {
    const subscriber = createRedis(a.deps.env.REDIS_URL, { blocking: true });
    const received: { change: AccessChange; role: string | null }[] = [];
    const stop = await subscribeAccessChanges(subscriber, a.deps.env.REDIS_PREFIX, (change) => {
      // The role the listener reads back when the message arrives must already be the new one.
      void a.deps.db.membership
        .findUnique({ where: { userId_workspaceId: { userId: change.userId, workspaceId: change.workspaceId } }, select: { role: true } })
        .then((row) => received.push({ change, role: row?.role ?? null }));
    });
    try {
      const account = await member("editor");
      await invite(a.url, owner, owner.workspaceId, account, "viewer");
      await removeMember(account);
      await waitFor("three access changes", async () => received.filter((r) => r.change.userId === account.userId).length >= 3, 3_000);
      const mine = received.filter((r) => r.change.userId === account.userId);
      expect(mine.map((r) => r.change)).toEqual([
        { workspaceId: owner.workspaceId, userId: account.userId },
        { workspaceId: owner.workspaceId, userId: account.userId },
        { workspaceId: owner.workspaceId, userId: account.userId },
      ]);
      expect(mine.at(-1)!.role).toBeNull();
      expect(accessChangesChannel(a.deps.env.REDIS_PREFIX)).toBe(`${a.deps.env.REDIS_PREFIX}access-changes`);
    } finally {
      await stop();
      subscriber.disconnect();
    }
  });
});
