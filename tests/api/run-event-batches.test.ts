/**
 * R60: one statement's events travel on Redis as ONE message per channel (`{"v":2,"events":[…]}`), and every
 * consumer still reads the old form — one event per message — that a process of the previous release sends
 * during a rolling deploy: the runEvents and workflowRuns subscriptions (graphql-ws) and a webhook waiting in
 * output mode (server/hooks.ts). No worker runs here: the test drives the run's lifecycle with platform's own
 * statements (loadAndStartRun, finishRun), exactly what the engine calls.
 */
import type { RunEvent } from "@algorythmos/domain";
import {
  closeRedis,
  createRedis,
  finishRun,
  loadAndStartRun,
  Prisma,
  runEventChannel,
  runEventsOfMessage,
  storedRunEvents,
  storeRunEventWith,
  workflowRunsChannel,
  type RunLifecycleDeps,
} from "@algorythmos/platform";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, ok, publishWorkflow, signUp, type Account } from "../support/api.js";
import { graphqlWsClient, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
let owner: Account;
let lifecycle: RunLifecycleDeps;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  owner = await signUp(stack.url, "BatchOwner");
  lifecycle = { db: stack.deps.db, redis: stack.deps.redis, redisPrefix: stack.deps.env.REDIS_PREFIX };
});
afterAll(async () => {
  await stack?.close();
});

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { seq type stepId status output } }`;
const WORKFLOW_RUNS = `subscription($id: ID!) { workflowRuns(workflowId: $id) { seq type runId stepId status } }`;

function subscribe(client: Client, query: string, variables: Record<string, unknown>) {
  const events: any[] = [];
  let error: unknown = null;
  let completed = false;
  const done = new Promise<void>((resolve) => {
    client.subscribe({ query, variables }, {
      next: (message) => {
        if (message.errors) error = message.errors;
        else events.push(Object.values(message.data ?? {})[0]);
      },
      error: (e) => {
        error = e;
        resolve();
      },
      complete: () => {
        completed = true;
        resolve();
      },
    });
  });
  return { events, done, error: () => error, completed: () => completed };
}

async function startQueuedRun(): Promise<{ runId: string; workflowId: string }> {
  const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, `Batches ${Date.now()}`);
  const run = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, owner.token)).startRun;
  return { runId: run.id, workflowId: workflow.id };
}

async function subscribers(channel: string): Promise<number> {
  const [, count] = (await stack.deps.redis.pubsub("NUMSUB", channel)) as [string, number];
  return Number(count);
}

/** Every message on the given channels, as Redis delivered them. */
async function rawListener(channels: string[]) {
  const redis = createRedis(stack.deps.env.REDIS_URL, { name: "test-run-event-batches" });
  const messages: { channel: string; message: string }[] = [];
  redis.on("message", (channel: string, message: string) => messages.push({ channel, message }));
  await redis.subscribe(...channels);
  return { messages, close: () => closeRedis(redis) };
}

/** The step events an in-process step carries to the run's final statement (R5): stored with run.finished. */
const carriedStep = (runId: string, workflowId: string) => ({
  writes: [],
  events: [
    { type: "step.started" as const, runId, workflowId, stepId: "start", status: "running" as const, at: new Date().toISOString() },
    { type: "step.succeeded" as const, runId, workflowId, stepId: "start", status: "succeeded" as const, output: { n: 1 }, at: new Date().toISOString() },
  ],
});

describe("R60 run events travel as one message per statement", () => {
  it("R60: one statement's events are one message per channel and reach runEvents and workflowRuns in order, exactly once", async () => {
    const { runId, workflowId } = await startQueuedRun();
    const runChannel = runEventChannel(stack.deps.env.REDIS_PREFIX, runId);
    const workflowChannel = workflowRunsChannel(stack.deps.env.REDIS_PREFIX, workflowId);
    const raw = await rawListener([runChannel, workflowChannel]);
    const client = graphqlWsClient(stack.url, owner.token);
    try {
      // Started before anyone listens on graphql-ws: runEvents gets it from the store, then once more live below.
      const started = await loadAndStartRun(lifecycle, runId);
      expect(started?.started?.type).toBe("run.started");
      const workflowRuns = subscribe(client, WORKFLOW_RUNS, { id: workflowId });
      await waitFor("workflowRuns to subscribe", async () => (await subscribers(workflowChannel)) >= 2);
      const runEvents = subscribe(client, RUN_EVENTS, { runId });
      await waitFor("the replayed run.queued and run.started", async () => runEvents.events.length >= 2);
      // A late copy of an event already replayed (a second announce, or the replay/live overlap): not sent twice.
      const late = JSON.stringify({ v: 2, events: [started!.started] });
      await stack.deps.redis.publish(runChannel, late);
      // (the same text as run.started's own message on the run channel: wait for the second one)
      await waitFor("the late copy on the raw listener", async () => raw.messages.filter((m) => m.channel === runChannel && m.message === late).length >= 2);
      const before = raw.messages.length;
      expect(await finishRun(lifecycle, { runId, workflowId, status: "succeeded", output: { n: 1 } }, carriedStep(runId, workflowId))).toBe(true);
      await runEvents.done;
      await waitFor("workflowRuns to get run.finished", async () => workflowRuns.events.some((event) => event.type === "RUN_FINISHED"));

      const stored = await storedRunEvents(stack.deps.db, runId);
      expect(stored.map((event) => `${event.type}:${event.stepId ?? ""}`)).toEqual(["run.queued:", "run.started:", "step.started:start", "step.succeeded:start", "run.finished:"]);
      const wire = (event: RunEvent) => `${event.seq} ${event.type.toUpperCase().replace(".", "_")}`;
      expect(runEvents.events.map((event) => `${event.seq} ${event.type}`)).toEqual(stored.map(wire));
      expect(runEvents.completed()).toBe(true);
      expect(runEvents.error()).toBeNull();
      expect(runEvents.events.at(-2).output).toEqual({ n: 1 });
      expect(workflowRuns.events.map((event) => `${event.seq} ${event.type}`)).toEqual(stored.slice(2).map(wire));
      expect(workflowRuns.error()).toBeNull();

      // The final statement's three events went out as one message on each channel, in seq order.
      await waitFor("the final statement's messages", async () => raw.messages.length >= before + 2);
      const finalMessages = raw.messages.slice(before);
      expect(finalMessages.map((m) => m.channel)).toEqual([runChannel, workflowChannel]);
      for (const { message } of finalMessages) {
        expect(JSON.parse(message).v).toBe(2);
        expect(runEventsOfMessage(message).map((event) => event.seq)).toEqual(stored.slice(2).map((event) => event.seq));
      }
    } finally {
      await client.dispose();
      await raw.close();
    }
  });

  it("R60 rolling deploy: old-form messages (one event each) still reach runEvents, workflowRuns and a waiting webhook", async () => {
    const { runId, workflowId } = await startQueuedRun();
    const runChannel = runEventChannel(stack.deps.env.REDIS_PREFIX, runId);
    const workflowChannel = workflowRunsChannel(stack.deps.env.REDIS_PREFIX, workflowId);
    const client = graphqlWsClient(stack.url, owner.token);
    try {
      const workflowRuns = subscribe(client, WORKFLOW_RUNS, { id: workflowId });
      await waitFor("workflowRuns to subscribe", async () => (await subscribers(workflowChannel)) >= 1);
      const runEvents = subscribe(client, RUN_EVENTS, { runId });
      await waitFor("the replayed run.queued", async () => runEvents.events.length >= 1);
      // A process of the previous release: the state change and its events in one statement, then each
      // event published on its own to both channels, in one MULTI.
      const at = new Date().toISOString();
      const { stored, carried } = await storeRunEventWith(
        stack.deps.db,
        { type: "run.finished", runId, workflowId, stepId: null, status: "canceled", error: "Canceled by the old release", at },
        { write: Prisma.sql`UPDATE "Run" SET "status" = 'canceled'::"RunStatus", "finishedAt" = now() WHERE "id" = ${runId} AND "status" = 'queued'::"RunStatus" RETURNING "id"` },
        { writes: [], events: [{ type: "step.skipped", runId, workflowId, stepId: "start", status: "skipped", error: "Run canceled", at }] },
      );
      const multi = stack.deps.redis.multi();
      for (const event of [...carried, stored!]) multi.publish(runChannel, JSON.stringify(event)).publish(workflowChannel, JSON.stringify(event));
      await multi.exec();
      await runEvents.done;
      await waitFor("workflowRuns to get run.finished", async () => workflowRuns.events.some((event) => event.type === "RUN_FINISHED"));
      const seqs = [carried[0]!.seq, stored!.seq];
      expect(runEvents.events.map((event) => event.type)).toEqual(["RUN_QUEUED", "STEP_SKIPPED", "RUN_FINISHED"]);
      expect(runEvents.events.slice(1).map((event) => event.seq)).toEqual(seqs);
      expect(runEvents.completed()).toBe(true);
      expect(workflowRuns.events.map((event) => `${event.seq} ${event.type} ${event.runId}`)).toEqual([`${seqs[0]} STEP_SKIPPED ${runId}`, `${seqs[1]} RUN_FINISHED ${runId}`]);
    } finally {
      await client.dispose();
    }
  });

  it("R60 rolling deploy: a webhook waiting in output mode answers from an old-form run.finished, and from a batch", async () => {
    const definition = {
      name: "Answers",
      steps: [
        { id: "hook", type: "trigger.webhook", name: "hook", config: { responseMode: "output" }, position: { x: 0, y: 0 } },
        { id: "shape", type: "transform", name: "shape", config: { expression: `{ "n": input.body.n }` }, position: { x: 200, y: 0 } },
      ],
      edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
    };
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, `Webhook batches ${Date.now()}`, definition);
    await publishWorkflow(stack.url, owner.token, workflow.id);
    const { webhookPath } = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { webhookPath } }`, { id: workflow.id }, owner.token)).workflow;
    const workflowChannel = workflowRunsChannel(stack.deps.env.REDIS_PREFIX, workflow.id);
    const known = new Set<string>();
    /** Calls the webhook and, once its run exists, finishes it the way `finish` publishes. */
    const call = async (n: number, finish: (runId: string) => Promise<void>) => {
      const response = fetch(`${stack.url}${webhookPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n }) });
      const runId = await waitFor("the webhook's run", async () => {
        const runs = await stack.deps.db.run.findMany({ where: { workflowId: workflow.id }, select: { id: true } });
        return runs.find((run) => !known.has(run.id))?.id;
      });
      known.add(runId);
      await finish(runId);
      const answer = await response;
      return { status: answer.status, body: await answer.json() };
    };
    const finishedEvent = (runId: string, n: number, seq: number) => ({
      type: "run.finished", runId, workflowId: workflow.id, stepId: null, status: "succeeded", output: { shape: { n } }, error: null, at: new Date().toISOString(), seq,
    });

    // The previous release: run.finished alone in its message.
    expect(await call(7, (runId) => stack.deps.redis.publish(workflowChannel, JSON.stringify(finishedEvent(runId, 7, 1))).then(() => {}))).toEqual({ status: 200, body: { shape: { n: 7 } } });
    // This release: run.finished last in its statement's batch.
    const batch = (runId: string) => ({
      v: 2,
      events: [
        { type: "step.succeeded", runId, workflowId: workflow.id, stepId: "shape", status: "succeeded", output: { n: 8 }, at: new Date().toISOString(), seq: 2 },
        finishedEvent(runId, 8, 3),
      ],
    });
    expect(await call(8, (runId) => stack.deps.redis.publish(workflowChannel, JSON.stringify(batch(runId))).then(() => {}))).toEqual({ status: 200, body: { shape: { n: 8 } } });
  });
});
