/**
 * Collab processes never stay apart (issue #11, docs/collab.md C7–C10): the relay is a fast path; the
 * ordered log in PostgreSQL is the truth. A room that misses relayed updates — dropped on purpose, or lost
 * to a Redis outage — reads them from the log: at once when a seq gap or a parked (pending) Yjs struct shows
 * the loss, and on the periodic anti-entropy pass when nothing announced it. No client reconnects.
 */
import { createStepMap, docMaps } from "@algorythmos/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { connectClient, createWorkflow, freePort, signUp, startCollabProcess, waitSynced, withPg, type CollabClient, type TestUser } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { startPrivateRedis, type PrivateRedis } from "../support/private-redis.js";
import { startTestStack, waitFor } from "../support/stack.js";

const DEFINITION = { name: "Repair", steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }], edges: [] };
const clients: CollabClient[] = [];
const stacks: Stack[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const stack of stacks.splice(0)) await stack.close();
});

async function twoProcesses(overridesA: Record<string, string>, overridesB: Record<string, string>, shared: Record<string, string> = {}) {
  const prefix = { REDIS_PREFIX: testEnv().REDIS_PREFIX, ...shared };
  const [a, b] = await Promise.all([
    startTestStack({ collab: true, worker: false }, { ...prefix, ...overridesA }),
    startTestStack({ collab: true, worker: false }, { ...prefix, ...overridesB }),
  ]);
  stacks.push(a, b);
  return { a, b };
}

function open(stack: Stack, workflowId: string, user: TestUser) {
  const client = connectClient(stack.url, workflowId, user.token);
  clients.push(client);
  return client;
}

/** Adds `count` steps named `<tag><i>` to a client's document, one transaction (one update) each. */
function addSteps(client: CollabClient, tag: string, count: number, from = 0) {
  for (let i = from; i < from + count; i++) {
    docMaps(client.doc).steps.set(`${tag}${i}`, createStepMap({ id: `${tag}${i}`, type: "transform", name: `${tag} ${i}`, config: {}, position: { x: i, y: 0 } }));
  }
}

const stepIds = (doc: Y.Doc) => [...docMaps(doc).steps.keys()].sort();
const pending = (doc: Y.Doc) => doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
const sameState = (docs: Y.Doc[]) => {
  const vectors = docs.map((doc) => Buffer.from(Y.encodeStateVector(doc)).toString("base64"));
  return vectors.every((vector) => vector === vectors[0]) && docs.every((doc) => !pending(doc));
};

/** Every room of both processes and every client hold the same document, containing `expected` steps. */
async function converged(stacksToCheck: Stack[], workflowId: string, docs: Y.Doc[], expected: string[], timeoutMs: number) {
  const started = Date.now();
  await waitFor(
    "every process and client to hold the same document",
    async () => {
      const rooms = await Promise.all(stacksToCheck.map((stack) => stack.collab!.rooms.get(workflowId)));
      const all = [...rooms.map((room) => room!.doc), ...docs];
      return sameState(all) && all.every((doc) => expected.every((id) => docMaps(doc).steps.has(id)));
    },
    timeoutMs,
  );
  return Date.now() - started;
}

let user: TestUser;
let stack0: Stack;
beforeAll(async () => {
  stack0 = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack0.url, "Repairer");
});
afterAll(async () => {
  await stack0?.close();
});

describe("collab repair from the ordered log", () => {
  it("C9: every relay publish of A is dropped — B's room and clients still get A's edits within 5 s (anti-entropy)", async () => {
    const { a, b } = await twoProcesses({ COLLAB_RELAY_DROP_RATE: "1" }, {});
    const workflowId = await createWorkflow(stack0.url, user, DEFINITION);
    const onA = open(a, workflowId, user);
    const onB = open(b, workflowId, user);
    await waitSynced(onA, onB);
    addSteps(onA, "a", 30);
    addSteps(onB, "b", 30);
    const expected = [...Array.from({ length: 30 }, (_, i) => `a${i}`), ...Array.from({ length: 30 }, (_, i) => `b${i}`)];
    const took = await converged([a, b], workflowId, [onA.doc, onB.doc], expected, 5_000);
    console.log(`C9 divergence with every publish of A dropped: ${took} ms`);
    expect(onA.closeCodes).toEqual([]);
    expect(onB.closeCodes).toEqual([]);
  });

  it("C7 C8: half of A's relay messages are lost — B fills each seq gap from the log (no anti-entropy pass needed), nothing stays pending", async () => {
    // B's anti-entropy is off for the test (a pass every 10 minutes): only the gap detection can repair.
    const { a, b } = await twoProcesses({ COLLAB_RELAY_DROP_RATE: "0.5" }, { COLLAB_ANTI_ENTROPY_MS: "600000" });
    const workflowId = await createWorkflow(stack0.url, user, DEFINITION);
    const onA = open(a, workflowId, user);
    const onB = open(b, workflowId, user);
    await waitSynced(onA, onB);
    // Steps added and then renamed: the renames depend on the inserts, so a lost insert parks the rename.
    for (let round = 0; round < 20; round++) {
      addSteps(onA, "a", 1, round);
      await new Promise((resolve) => setTimeout(resolve, 20));
      docMaps(onA.doc).steps.get(`a${round}`)!.set("type", "delay");
    }
    // The last message of a burst can be the lost one: B only hears of a gap from a later message. So A keeps making
    // one more edit (each a relay message, each lost with p = 0.5) until one of them reaches B's room; bounded.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const roomB = async () => (await b.collab!.rooms.get(workflowId))!.doc;
    for (let tail = 0; tail < 20; tail++) {
      addSteps(onA, "tail", 1, tail);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const docB = await roomB();
      if ([...docMaps(docB).steps.keys()].some((id) => id.startsWith("tail"))) break;
    }
    const expected = Array.from({ length: 20 }, (_, i) => `a${i}`);
    const took = await converged([a, b], workflowId, [onA.doc, onB.doc], expected, 5_000);
    console.log(`C7 divergence with half of A's publishes dropped (gap fill only): ${took} ms`);
    expect(docMaps(onB.doc).steps.get("a19")!.get("type")).toBe("delay");
  });

  for (const empty of [false, true]) {
    it(`C9 C10: Redis is killed (-9) while clients on two processes edit, and comes back ${empty ? "EMPTY" : "with its AOF"} — all converge within 5 s of Redis being back, no client reconnects`, async () => {
      const redis: PrivateRedis = await startPrivateRedis();
      try {
        const { a, b } = await twoProcesses({}, {}, { REDIS_URL: redis.url });
        const workflowId = await createWorkflow(stack0.url, user, DEFINITION);
        const onA = [open(a, workflowId, user), open(a, workflowId, user)];
        const onB = [open(b, workflowId, user), open(b, workflowId, user)];
        await waitSynced(...onA, ...onB);
        addSteps(onA[0]!, "before", 5);
        await waitFor("the first edits everywhere", async () => onB.every((client) => docMaps(client.doc).steps.has("before4")));

        await redis.kill();
        // Edits on both sides while the relay is down: each side's clients see their own process's edits.
        addSteps(onA[0]!, "a0-", 10);
        addSteps(onA[1]!, "a1-", 10);
        addSteps(onB[0]!, "b0-", 10);
        addSteps(onB[1]!, "b1-", 10);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await redis.start({ empty });
        const backAt = Date.now();

        const expected = ["a0-", "a1-", "b0-", "b1-"].flatMap((tag) => Array.from({ length: 10 }, (_, i) => `${tag}${i}`));
        await converged([a, b], workflowId, [...onA, ...onB].map((client) => client.doc), expected, 5_000);
        const divergence = Date.now() - backAt;
        console.log(`C10 Redis ${empty ? "restarted empty" : "restarted with AOF"}: converged ${divergence} ms after Redis was back`);
        expect(divergence).toBeLessThan(5_000);
        // No client had to reconnect: the collab sockets never depended on Redis.
        for (const client of [...onA, ...onB]) expect(client.closeCodes).toEqual([]);
        // After the outage the relay works again: a new edit reaches the other process quickly.
        addSteps(onB[0]!, "after", 1);
        await waitFor("an edit after the outage on A", async () => docMaps(onA[0]!.doc).steps.has("after0"), 5_000);
        expect(stepIds(onA[0]!.doc)).toEqual(stepIds(onB[1]!.doc));
      } finally {
        for (const client of clients.splice(0)) client.destroy();
        for (const stack of stacks.splice(0)) await stack.close().catch(() => {});
        await redis.stop();
      }
    }, 60_000);
  }
});

describe("collab process shutdown and crash", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`C10: ${signal} to one of two real collab processes while clients on both edit — every stored edit reaches the other process's clients within 5 s, none reconnects there`, async () => {
      const env = testEnv();
      const [a, b] = await Promise.all([startCollabProcess(env, await freePort()), startCollabProcess(env, await freePort())]);
      try {
        const workflowId = await createWorkflow(stack0.url, user, DEFINITION);
        const onA = [connectClient(a.url, workflowId, user.token, { maxBackoffTime: 60_000 }), connectClient(a.url, workflowId, user.token, { maxBackoffTime: 60_000 })];
        const onB = [connectClient(b.url, workflowId, user.token), connectClient(b.url, workflowId, user.token)];
        clients.push(...onA, ...onB);
        await waitSynced(...onA, ...onB);
        // A's clients type steadily; the signal lands in the middle of it.
        let typed = 0;
        const typing = setInterval(() => {
          for (const [index, client] of onA.entries()) addSteps(client, `a${index}-`, 1, typed);
          typed++;
        }, 10);
        await new Promise((resolve) => setTimeout(resolve, 300));
        a.child.kill(signal);
        await a.exited;
        const goneAt = Date.now();
        clearInterval(typing);
        for (const client of onA) client.provider.disconnect(); // A is gone: its clients would reconnect elsewhere

        // What A stored is what B's clients must get (an edit A never stored was never acknowledged).
        const stored = await withPg(env.DATABASE_URL, async (db) => {
          const rows = await db.query<{ update: Buffer }>(`SELECT update FROM "WorkflowUpdate" WHERE "workflowId" = $1 ORDER BY seq`, [workflowId]);
          const snapshot = await db.query<{ yjsState: Buffer }>(`SELECT "yjsState" FROM "Workflow" WHERE id = $1`, [workflowId]);
          const doc = new Y.Doc();
          for (const part of [snapshot.rows[0]!.yjsState, ...rows.rows.map((row) => row.update)]) Y.applyUpdate(doc, new Uint8Array(part));
          return stepIds(doc);
        });
        const fromA = stored.filter((id) => id.startsWith("a"));
        expect(fromA.length).toBeGreaterThan(0);
        await waitFor("B's clients to hold every edit A stored", async () => onB.every((client) => fromA.every((id) => docMaps(client.doc).steps.has(id))), 5_000);
        console.log(`C10 collab ${signal}: ${fromA.length} steps stored by A, all on B's clients ${Date.now() - goneAt} ms after A exited`);
        for (const client of onB) expect(client.closeCodes).toEqual([]);
        if (signal === "SIGTERM") expect(await a.exited).toBe(0);
      } finally {
        a.child.kill("SIGKILL");
        b.child.kill("SIGKILL");
      }
    }, 60_000);
  }
});
