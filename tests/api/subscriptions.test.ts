/**
 * Live run events through Redis: an event published on server instance A reaches a subscriber on instance B
 * (same REDIS_PREFIX), over graphql-ws and over SSE; subscriptions are authorised when they start.
 *
 * Readiness without timing: runEvents replays stored events only after its Redis SUBSCRIBE is confirmed, so
 * the first (replayed) event proves B is listening before A publishes; for workflowRuns (no replay) we wait
 * until Redis reports a subscriber on the channel.
 */
import { publishRunEvent, workflowRunsChannel } from "@algorythmos/platform";
import type { RunEvent } from "@algorythmos/domain";
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, gql, invite, ok, signUp, sseEvents, startSibling, type Account } from "../support/api.js";
import { graphqlWsClient, startTestStack, waitFor } from "../support/stack.js";

let a: Stack;
let b: Stack;
let owner: Account;
let viewer: Account;
let outsider: Account;

beforeAll(async () => {
  a = await startTestStack({ collab: false, worker: false });
  b = await startSibling(a);
  [owner, viewer, outsider] = await Promise.all([signUp(a.url, "SubOwner"), signUp(a.url, "SubViewer"), signUp(a.url, "SubOutsider")]);
  await invite(a.url, owner, owner.workspaceId, viewer, "viewer");
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { seq type runId workflowId stepId status at output error } }`;

/** A queued run started on A (its run.queued event is stored and published by A). */
async function startRunOnA(): Promise<{ runId: string; workflowId: string }> {
  const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Live ${Date.now()}`);
  const run = ok(await gql(a.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, owner.token)).startRun;
  return { runId: run.id, workflowId: workflow.id };
}

/** Publishes from instance A, as a worker attached to A would. */
function publishOnA(event: Omit<RunEvent, "seq">) {
  return publishRunEvent(a.deps.db, a.deps.redis, a.deps.env.REDIS_PREFIX, event);
}

function subscribe(client: Client, query: string, variables: Record<string, unknown>) {
  const events: any[] = [];
  let error: unknown = null;
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
      complete: resolve,
    });
  });
  return { events, done, error: () => error };
}

/** graphql-ws reports errors as a list of GraphQL errors, or as a close event. */
function codesOf(error: unknown): string[] {
  if (Array.isArray(error)) return error.map((e) => e?.extensions?.code);
  if (error && typeof error === "object" && "code" in error) return [`close ${(error as { code: number }).code}: ${(error as { reason?: string }).reason ?? ""}`];
  return [String(error)];
}

describe("runEvents across instances", () => {
  it("graphql-ws on B receives events A publishes, in order, and completes after run.finished", async () => {
    const { runId, workflowId } = await startRunOnA();
    const client = graphqlWsClient(b.url, owner.token);
    try {
      const sub = subscribe(client, RUN_EVENTS, { runId });
      await waitFor("the replayed run.queued on B", async () => sub.events.length >= 1);
      expect(sub.events[0]).toMatchObject({ type: "RUN_QUEUED", runId, workflowId, status: "queued" });

      const at = new Date().toISOString();
      await publishOnA({ type: "run.started", runId, workflowId, stepId: null, status: "running", at });
      await publishOnA({ type: "step.succeeded", runId, workflowId, stepId: "trigger", status: "succeeded", at, output: { hello: "from A" } });
      await publishOnA({ type: "run.finished", runId, workflowId, stepId: null, status: "succeeded", at, output: { done: true } });
      await sub.done;

      expect(sub.error()).toBeNull();
      expect(sub.events.map((event) => event.type)).toEqual(["RUN_QUEUED", "RUN_STARTED", "STEP_SUCCEEDED", "RUN_FINISHED"]);
      expect(sub.events[2]).toMatchObject({ stepId: "trigger", output: { hello: "from A" } });
      const seqs = sub.events.map((event) => event.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      await client.dispose();
    }
  });

  it("a late subscriber on B replays the whole run from the store and completes", async () => {
    const { runId, workflowId } = await startRunOnA();
    const at = new Date().toISOString();
    await publishOnA({ type: "run.started", runId, workflowId, stepId: null, status: "running", at });
    await publishOnA({ type: "run.finished", runId, workflowId, stepId: null, status: "failed", at, error: "boom" });
    const client = graphqlWsClient(b.url, viewer.token);
    try {
      const sub = subscribe(client, RUN_EVENTS, { runId });
      await sub.done;
      expect(sub.error()).toBeNull();
      expect(sub.events.map((event) => event.type)).toEqual(["RUN_QUEUED", "RUN_STARTED", "RUN_FINISHED"]);
      expect(sub.events[2]).toMatchObject({ status: "failed", error: "boom" });
    } finally {
      await client.dispose();
    }
  });

  it("SSE (POST /graphql, accept: text/event-stream) on B receives events A publishes", async () => {
    const { runId, workflowId } = await startRunOnA();
    const response = await fetch(`${b.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ query: RUN_EVENTS, variables: { runId } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);

    const received: any[] = [];
    let completed = false;
    for await (const { event, data } of sseEvents(response)) {
      if (event === "complete") {
        completed = true;
        break;
      }
      if (event !== "next") continue;
      expect(data.errors).toBeUndefined();
      received.push(data.data.runEvents);
      if (received.length === 1) {
        // B is subscribed (the replay came after SUBSCRIBE): publish the rest from A.
        const at = new Date().toISOString();
        await publishOnA({ type: "step.started", runId, workflowId, stepId: "trigger", status: "running", at });
        await publishOnA({ type: "run.finished", runId, workflowId, stepId: null, status: "succeeded", at });
      }
    }
    expect(received.map((event) => event.type)).toEqual(["RUN_QUEUED", "STEP_STARTED", "RUN_FINISHED"]);
    expect(completed).toBe(true);
  });

  it("workflowRuns(workflowId) on B receives live events of a run started on A", async () => {
    const workflow = await createWorkflow(a.url, owner.token, owner.workspaceId, `Watched ${Date.now()}`);
    const client = graphqlWsClient(b.url, viewer.token);
    try {
      const sub = subscribe(client, `subscription($id: ID!) { workflowRuns(workflowId: $id) { type runId workflowId status } }`, { id: workflow.id });
      const channel = workflowRunsChannel(a.deps.env.REDIS_PREFIX, workflow.id);
      await waitFor("B to subscribe to the workflow's channel", async () => {
        const [, count] = (await a.deps.redis.pubsub("NUMSUB", channel)) as [string, number];
        return Number(count) >= 1;
      });
      const run = ok(await gql(a.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, owner.token)).startRun;
      await waitFor("the run.queued event on B", async () => sub.events.length >= 1);
      expect(sub.events[0]).toMatchObject({ type: "RUN_QUEUED", runId: run.id, workflowId: workflow.id, status: "queued" });
      expect(sub.error()).toBeNull();
    } finally {
      await client.dispose();
    }
  });
});

describe("subscriptions are authorised when they start", () => {
  it("an outsider's runEvents(runId) over graphql-ws is NOT_FOUND and receives nothing", async () => {
    const { runId } = await startRunOnA();
    const client = graphqlWsClient(b.url, outsider.token);
    try {
      const sub = subscribe(client, RUN_EVENTS, { runId });
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(codesOf(sub.error())).toEqual(["NOT_FOUND"]);
    } finally {
      await client.dispose();
    }
  });

  it("an outsider's runEvents(runId) over SSE is NOT_FOUND and receives nothing", async () => {
    const { runId } = await startRunOnA();
    const response = await fetch(`${b.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${outsider.token}` },
      body: JSON.stringify({ query: RUN_EVENTS, variables: { runId } }),
    });
    const messages: any[] = [];
    for await (const { event, data } of sseEvents(response)) {
      if (event === "complete") break;
      if (event === "next") messages.push(data);
    }
    expect(messages.flatMap((message) => (message.data?.runEvents ? [message.data.runEvents] : []))).toEqual([]);
    expect(messages.flatMap((message) => message.errors ?? []).map((error: any) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
  });

  it("an outsider's workflowRuns(workflowId) is NOT_FOUND", async () => {
    const { workflowId } = await startRunOnA();
    const client = graphqlWsClient(b.url, outsider.token);
    try {
      const sub = subscribe(client, `subscription($id: ID!) { workflowRuns(workflowId: $id) { type } }`, { id: workflowId });
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(codesOf(sub.error())).toEqual(["NOT_FOUND"]);
    } finally {
      await client.dispose();
    }
  });

  it("an anonymous runEvents subscription is UNAUTHENTICATED", async () => {
    const { runId } = await startRunOnA();
    const client = graphqlWsClient(b.url, undefined as never);
    try {
      const sub = subscribe(client, RUN_EVENTS, { runId });
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(codesOf(sub.error())).toEqual(["UNAUTHENTICATED"]);
    } finally {
      await client.dispose();
    }
  });

  it("a forged token cannot open a graphql-ws subscription", async () => {
    const { runId } = await startRunOnA();
    const client = graphqlWsClient(b.url, `${owner.token.slice(0, -4)}AAAA`);
    try {
      const sub = subscribe(client, RUN_EVENTS, { runId });
      await sub.done;
      expect(sub.events).toEqual([]);
      // Refused as the caller's fault (UNAUTHENTICATED, or graphql-ws's 4401/4403 close), never as a server error (4500).
      const codes = codesOf(sub.error());
      expect(codes.length === 1 && (codes[0] === "UNAUTHENTICATED" || /^close 440[13]:/.test(codes[0]!)), `got ${codes.join(", ")}`).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});
