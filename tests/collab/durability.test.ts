/**
 * No acknowledged edit is lost (docs/collab.md, "Durability: append, then compact"), with the real
 * `collab/main.ts` as a child process: SIGKILL right after edits were acknowledged loses nothing; SIGTERM
 * flushes, compacts the update log into Workflow.yjsState and exits 0.
 *
 * "Acknowledged" here: a second client on the same process has received the edit — the service broadcasts an
 * update only after appending it to WorkflowUpdate.
 */
import { createStepMap, definitionFromDoc, docMaps, WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Env } from "@algorythmos/platform";
import type { Stack } from "../../scripts/stack.js";
import { testEnv } from "../support/env.js";
import { startTestStack } from "../support/stack.js";
import {
  canonical,
  connectClient,
  countUpdateRows,
  createWorkflow,
  docDefinition,
  freePort,
  signUp,
  startCollabProcess,
  storedDefinition,
  storedSnapshotDoc,
  waitFor,
  waitSynced,
  type CollabClient,
  type CollabProcess,
  type TestUser,
} from "../support/collab.js";

const DEFINITION = WorkflowDefinition.parse({
  name: "Durable",
  steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }],
});

let env: Env;
let api: Stack;
let user: TestUser;
let port: number;
const processes: CollabProcess[] = [];
const clients: CollabClient[] = [];

beforeAll(async () => {
  env = testEnv();
  api = await startTestStack({ collab: false, worker: false }, { REDIS_PREFIX: env.REDIS_PREFIX });
  user = await signUp(api.url, "Owner");
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const proc of processes.splice(0)) await proc.stop("SIGKILL").catch(() => {});
});
afterAll(async () => {
  await api?.close();
});

async function startCollab(onPort = port) {
  const started = await startCollabProcess(env, onPort);
  processes.push(started);
  return started;
}
const open = (url: string, workflowId: string, doc?: Y.Doc) => {
  const client = connectClient(url, workflowId, user.token, { doc });
  clients.push(client);
  return client;
};

/** `count` edits of every kind on `doc`, numbered from `from`: steps with notes and config, an edge, a rename. */
function edit(doc: Y.Doc, from: number, count: number) {
  const { meta, steps, edges } = docMaps(doc);
  for (let i = from; i < from + count; i++) {
    const id = `s${i}`;
    switch (i % 4) {
      case 0:
        steps.set(id, createStepMap({ id, type: "http.request", name: `Step ${i}`, config: { method: "GET", url: `https://example.com/${i}` }, position: { x: i, y: 0 }, notes: `note ${i}` }));
        break;
      case 1: {
        steps.set(id, createStepMap({ id, type: "delay", name: `Wait ${i}`, config: {}, position: { x: i, y: 100 } }));
        const edge = new Y.Map<unknown>();
        edge.set("source", "trigger");
        edge.set("target", id);
        edges.set(`edge${i}`, edge);
        break;
      }
      case 2: {
        const notes = (steps.get(`s${i - 2}`)?.get("notes") ?? null) as Y.XmlFragment | null;
        const paragraph = new Y.XmlElement("paragraph");
        paragraph.insert(0, [new Y.XmlText(`more ${i}`)]);
        notes?.push([paragraph]);
        (steps.get(`s${i - 1}`)?.get("config") as Y.Map<unknown> | undefined)?.set("durationMs", i);
        break;
      }
      default:
        meta.set("name", `Durable ${i}`);
    }
  }
}

/** Waits until `observer` holds exactly what `writer` holds (so every edit was appended before it was echoed). */
async function acknowledged(writer: CollabClient, observer: CollabClient) {
  const expected = JSON.stringify(docDefinition(writer.doc));
  await waitFor("the observer to receive every edit", async () => JSON.stringify(docDefinition(observer.doc)) === expected);
  expect(Buffer.from(Y.encodeStateVector(observer.doc))).toEqual(Buffer.from(Y.encodeStateVector(writer.doc)));
}

describe("collab durability with the real process", () => {
  beforeAll(async () => {
    port = await freePort();
  });

  it("SIGKILL right after edits were acknowledged: a fresh client of the restarted process has every edit", async () => {
    const workflowId = await createWorkflow(api.url, user, DEFINITION);
    const first = await startCollab();
    const writer = open(first.url, workflowId);
    const observer = open(first.url, workflowId);
    await waitSynced(writer, observer);
    edit(writer.doc, 0, 40);
    await acknowledged(writer, observer);
    const expected = docDefinition(writer.doc);

    expect(await first.stop("SIGKILL")).toBe("SIGKILL");
    // The old clients must not re-send their copies to the new process: what it serves comes from PostgreSQL only.
    writer.destroy();
    observer.destroy();
    // Nothing was compacted (no client left, under 500 updates): the edits live in the update log.
    expect(await countUpdateRows(env.DATABASE_URL, workflowId)).toBeGreaterThan(0);

    const second = await startCollab();
    const fresh = open(second.url, workflowId, new Y.Doc());
    await waitSynced(fresh);
    expect(docDefinition(fresh.doc)).toEqual(expected);
    expect(docMaps(fresh.doc).steps.size).toBe(21);
  });

  it("SIGKILL after a compaction and more edits: nothing from before or after the compaction is lost", async () => {
    const workflowId = await createWorkflow(api.url, user, DEFINITION);
    const first = await startCollab();
    const writer = open(first.url, workflowId);
    const observer = open(first.url, workflowId);
    await waitSynced(writer, observer);
    // 560 single-edit updates in batches (under the per-client burst), so the 500-update compaction runs midway.
    for (let from = 0; from < 560; from += 80) {
      edit(writer.doc, from, 80);
      await acknowledged(writer, observer);
    }
    const expected = docDefinition(writer.doc);
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");
    writer.destroy();
    observer.destroy();

    const second = await startCollab();
    const fresh = open(second.url, workflowId, new Y.Doc());
    await waitSynced(fresh);
    expect(docDefinition(fresh.doc)).toEqual(expected);
  }, 90_000); // ~800 appended updates plus two process starts: a budget, not an assertion

  it("SIGKILL twice, with edits in between: both rounds survive", async () => {
    const workflowId = await createWorkflow(api.url, user, DEFINITION);
    let expected: WorkflowDefinition | null = null;
    for (let round = 0; round < 2; round++) {
      const proc = await startCollab();
      const writer = open(proc.url, workflowId);
      const observer = open(proc.url, workflowId);
      await waitSynced(writer, observer);
      if (expected) expect(docDefinition(writer.doc)).toEqual(expected);
      edit(writer.doc, round * 100, 12);
      await acknowledged(writer, observer);
      expected = docDefinition(writer.doc);
      expect(await proc.stop("SIGKILL")).toBe("SIGKILL");
      writer.destroy();
      observer.destroy();
    }
    const last = await startCollab();
    const fresh = open(last.url, workflowId, new Y.Doc());
    await waitSynced(fresh);
    expect(docDefinition(fresh.doc)).toEqual(expected);
    expect(docMaps(fresh.doc).steps.has("s0")).toBe(true);
    expect(docMaps(fresh.doc).steps.has("s100")).toBe(true);
  });

  it("SIGTERM with clients connected: exits 0, the log is compacted into Workflow.yjsState, the definition is stored", async () => {
    const workflowId = await createWorkflow(api.url, user, DEFINITION);
    const proc = await startCollab();
    const writer = open(proc.url, workflowId);
    const observer = open(proc.url, workflowId);
    await waitSynced(writer, observer);
    edit(writer.doc, 0, 30);
    await acknowledged(writer, observer);
    const expected = docDefinition(writer.doc);
    expect(await countUpdateRows(env.DATABASE_URL, workflowId)).toBeGreaterThan(0);

    expect(await proc.stop("SIGTERM")).toBe(0);
    writer.destroy();
    observer.destroy();

    expect(await countUpdateRows(env.DATABASE_URL, workflowId)).toBe(0);
    const snapshot = await storedSnapshotDoc(env.DATABASE_URL, workflowId);
    expect(definitionFromDoc(snapshot).definition).toEqual(expected);
    expect(await storedDefinition(api.url, user.token, workflowId)).toEqual(canonical(expected));
  });
});
