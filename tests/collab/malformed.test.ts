/**
 * Bad input and load (docs/collab.md close codes): a hostile or broken client is closed with a documented code,
 * the document is unchanged, and every other client keeps being served.
 */
import { COLLAB_CLOSE, COLLAB_MAX_MESSAGE_BYTES, createStepMap, docMaps, WorkflowDefinition } from "@algorythmos/domain";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { startTestStack, graphql } from "../support/stack.js";
import { testEnv } from "../support/env.js";
import {
  closeCodeOf,
  connectClient,
  createWorkflow,
  docDefinition,
  freePort,
  rawSocket,
  signUp,
  startCollabProcess,
  storedDefinition,
  waitFor,
  waitSynced,
  type CollabClient,
  type CollabProcess,
  type TestUser,
} from "../support/collab.js";

const DEFINITION = WorkflowDefinition.parse({
  name: "Sturdy",
  steps: [
    { id: "trigger", type: "trigger.manual", name: "Start" },
    { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://example.com" }, position: { x: 200, y: 0 }, notes: "keep me" },
  ],
  edges: [{ id: "e1", source: "trigger", target: "fetch" }],
});

/** A y-websocket sync message (type 0) of the given step carrying `payload`. */
function syncMessage(step: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, step);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

/** A real edit made on a fresh doc with a fixed client id: a step whose notes are rich text. */
function stepUpdate(name = "Injected"): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = 424242;
  docMaps(doc).steps.set("injected", createStepMap({ id: "injected", type: "http.request", name, config: { url: "x" }, position: { x: 1, y: 2 }, notes: "hi" }));
  return Y.encodeStateAsUpdate(doc);
}

/**
 * `stepUpdate()` with one byte changed (found by a seeded fuzz): the parent of the notes paragraph points at a
 * clock of its own client that does not exist. `Y.decodeUpdate` accepts it; `Y.applyUpdate` throws a TypeError
 * (StructStore.findIndexSS), and so does loading any state merged with it.
 */
function undecodableButParsableUpdate(): Uint8Array {
  const update = stepUpdate();
  const hex = Buffer.from(update).toString("hex");
  // The notes paragraph's parent: client 424242, clock 17 (the step's name and URL are Y.Text items before it).
  const at = hex.indexOf("0700b2f2191103097061726167726170680700");
  if (at === -1) throw new Error("stepUpdate() encoding changed; regenerate the corrupt update");
  const bytes = new Uint8Array(update);
  bytes[at / 2 + 5] = 0x28; // the parent's clock: 17 → 40
  Y.decodeUpdate(bytes); // must decode…
  let applies = true;
  try {
    Y.applyUpdate(new Y.Doc(), bytes);
  } catch {
    applies = false;
  }
  if (applies) throw new Error("the corrupt update applies; regenerate it"); // …and must not apply
  return bytes;
}

let stack: Stack;
let owner: TestUser;
const opened: CollabClient[] = [];

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  owner = await signUp(stack.url, "Owner");
});
afterAll(async () => {
  for (const client of opened) client.destroy();
  await stack?.close();
});

const liveDefinition = async (url: string, workflowId: string) =>
  (await graphql(url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflowId }, owner.token)).data.workflow.export.definition;

/**
 * Opens a workflow with two well-behaved clients, lets `attack` do its worst on a raw socket, then checks: the
 * attacker was closed with `expected`, the document is unchanged (clients, live log, materialised row), and
 * the two clients are still served (an edit by one reaches the other, and a third that joins now).
 */
async function expectRejected(url: string, expected: number, attack: (socket: Awaited<ReturnType<typeof rawSocket>>) => void | Promise<void>) {
  const workflowId = await createWorkflow(url, owner, DEFINITION);
  const a = connectClient(url, workflowId, owner.token);
  const b = connectClient(url, workflowId, owner.token);
  opened.push(a, b);
  await waitSynced(a, b);
  const before = docDefinition(a.doc);
  const storedBefore = await storedDefinition(url, owner.token, workflowId);

  const attacker = await rawSocket(url, workflowId, owner.token);
  await waitFor("the attacker to be admitted (sync step 1)", async () => attacker.messages.length > 0 || attacker.socket.readyState > 1);
  await attack(attacker);
  expect(await closeCodeOf(attacker)).toBe(expected);

  expect(docDefinition(a.doc)).toEqual(before);
  expect(docDefinition(b.doc)).toEqual(before);
  expect(await liveDefinition(url, workflowId)).toEqual(JSON.parse(JSON.stringify(before)));
  expect(await storedDefinition(url, owner.token, workflowId)).toEqual(storedBefore);

  docMaps(a.doc).meta.set("description", "still served");
  await waitFor("b to see a's edit after the attack", async () => docMaps(b.doc).meta.get("description") === "still served");
  const c = connectClient(url, workflowId, owner.token);
  opened.push(c);
  await waitSynced(c);
  expect(docDefinition(c.doc)).toEqual({ ...before, description: "still served" });
  docMaps(c.doc).meta.set("name", "Sturdy still");
  await waitFor("a to see c's edit", async () => docMaps(a.doc).meta.get("name") === "Sturdy still");
  for (const client of [a, b, c]) client.destroy();
}

describe("collab malformed input", () => {
  it("garbage bytes: 4400", async () => {
    await expectRejected(stack.url, COLLAB_CLOSE.MALFORMED, ({ socket }) => socket.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])));
  });

  it("a truncated sync update (length prefix longer than the message): 4400, and none of it is applied", async () => {
    const message = syncMessage(syncProtocol.messageYjsUpdate, stepUpdate());
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(message.subarray(0, Math.floor(message.length / 2))));
  });

  it("an empty message: 4400", async () => {
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(Buffer.alloc(0)));
  });

  it("an unknown message type: 4400", async () => {
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(Buffer.from([7, 1, 2, 3])));
  });

  it("an unknown sync step: 4400", async () => {
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(syncMessage(9, stepUpdate())));
  });

  it("a sync update whose Yjs bytes are cut short (framing intact): 4400", async () => {
    const update = stepUpdate();
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(syncMessage(syncProtocol.messageYjsUpdate, update.subarray(0, update.length - 20))));
  });

  it("a sync step 2 of random bytes: 4400", async () => {
    const bytes = new Uint8Array(64);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(syncMessage(syncProtocol.messageYjsSyncStep2, bytes)));
  });

  it("a malformed awareness update: 4400", async () => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint8Array(encoder, new Uint8Array([1, 5, 1, 3, 0x7b, 0x7b, 0x7b])); // one client, JSON "{{{"
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(encoding.toUint8Array(encoder)));
  });

  it("a message over COLLAB_MAX_MESSAGE_BYTES (512 KiB): 4413 (even a well-formed edit)", async () => {
    const message = syncMessage(syncProtocol.messageYjsUpdate, stepUpdate("x".repeat(COLLAB_MAX_MESSAGE_BYTES + 100)));
    expect(message.byteLength).toBeGreaterThan(COLLAB_MAX_MESSAGE_BYTES);
    await expectRejected(stack.url, COLLAB_CLOSE.TOO_LARGE, ({ socket }) => socket.send(message));
  });

  it("a flood of 2,000 awareness queries at once: 4429", async () => {
    await expectRejected(stack.url, COLLAB_CLOSE.RATE_LIMITED, ({ socket }) => {
      for (let i = 0; i < 2000; i++) socket.send(Buffer.from([3]));
    });
  });

  it("a flood of 2,000 real edits at once: 4429, and the flood does not reach the document", async () => {
    const updates = Array.from({ length: 2000 }, (_, i) => {
      const doc = new Y.Doc();
      doc.clientID = 900_000 + i;
      docMaps(doc).meta.set("name", `flood ${i}`);
      return syncMessage(syncProtocol.messageYjsUpdate, Y.encodeStateAsUpdate(doc));
    });
    // Edits within the burst allowance are legitimate and may be applied, so the document is not "unchanged"
    // here: this case checks the close code, that nothing past the limit is applied, and that others are served.
    const workflowId = await createWorkflow(stack.url, owner, DEFINITION);
    const a = connectClient(stack.url, workflowId, owner.token);
    const b = connectClient(stack.url, workflowId, owner.token);
    opened.push(a, b);
    await waitSynced(a, b);
    const attacker = await rawSocket(stack.url, workflowId, owner.token);
    for (const update of updates) attacker.socket.send(update);
    expect(await closeCodeOf(attacker)).toBe(COLLAB_CLOSE.RATE_LIMITED);
    expect(docMaps(a.doc).meta.get("name")).not.toBe("flood 1999");
    docMaps(a.doc).meta.set("description", "after the flood");
    await waitFor("b to see a's edit after the flood", async () => docMaps(b.doc).meta.get("description") === "after the flood");
  });

  it("a sync update Yjs can decode but not apply: 4400, and the stored document stays loadable", async () => {
    const bad = undecodableButParsableUpdate();
    await expectRejected(stack.url, 4400, ({ socket }) => socket.send(syncMessage(syncProtocol.messageYjsUpdate, bad)));
  });
});

describe("collab malformed input against the real collab process", () => {
  let collab: CollabProcess | undefined;
  let api: Stack | undefined;

  afterAll(async () => {
    await collab?.stop("SIGKILL").catch(() => {});
    await api?.close();
  });

  it("an update Yjs can decode but not apply neither crashes the process nor bricks the document", async () => {
    const env = testEnv();
    api = await startTestStack({ collab: false, worker: false }, { REDIS_PREFIX: env.REDIS_PREFIX });
    collab = await startCollabProcess(env, await freePort());
    const user = await signUp(api.url, "Owner");
    const workflowId = await createWorkflow(api.url, user, DEFINITION);
    const a = connectClient(collab.url, workflowId, user.token);
    opened.push(a);
    await waitSynced(a);

    const expected = JSON.parse(JSON.stringify(docDefinition(a.doc)));
    const attacker = await rawSocket(collab.url, workflowId, user.token);
    attacker.socket.send(syncMessage(syncProtocol.messageYjsUpdate, undecodableButParsableUpdate()));
    const code = await closeCodeOf(attacker);
    const alive = await fetch(`${collab.url}/healthz`).then((response) => response.status === 200, () => false);
    const crashOutput = alive ? "" : collab.output.join("").slice(-600);
    a.destroy();
    if (alive) {
      await waitFor("the room to be released", async () => ((await (await fetch(`${collab!.url}/healthz`)).json()) as { rooms: number }).rooms === 0);
    } else {
      // Whatever happened to the process, the document must still load from PostgreSQL after a restart.
      collab = await startCollabProcess(env, Number(new URL(collab.url).port));
    }
    const fresh = connectClient(collab.url, workflowId, user.token);
    opened.push(fresh);
    await waitFor("the fresh client to load the document or be refused", async () => fresh.provider.synced || fresh.closeCodes.length > 0);
    expect({
      attackerCloseCode: code,
      processSurvived: alive,
      crashOutput,
      freshClientCloseCodes: fresh.closeCodes,
      freshClientSynced: fresh.provider.synced,
    }).toEqual({ attackerCloseCode: COLLAB_CLOSE.MALFORMED, processSurvived: true, crashOutput: "", freshClientCloseCodes: [], freshClientSynced: true });
    expect(docDefinition(fresh.doc)).toEqual(expected);
  });
});
