/**
 * Hostile collab input from members (issue #12 items 8 and 11): presence floods, oversized presence, a document
 * grown past MAX_WORKFLOW_DOC_BYTES, and a member who keeps a socket open after being removed or demoted.
 * Each attempt is counted into the attack suite's table.
 */
import { COLLAB_CLOSE, COLLAB_MAX_PRESENCE_IDS_PER_SOCKET, createStepMap, docMaps, MAX_WORKFLOW_DOC_BYTES } from "@algorythmos/domain";
import * as encoding from "lib0/encoding";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { closeCodeOf, connectClient, createWorkflow, rawSocket, signUp, waitSynced, withPg, type CollabClient, type TestUser } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { graphql, startTestStack, waitFor } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

const DEFINITION = { name: "Abuse", steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }], edges: [] };
let stack: Stack;
let owner: TestUser;
const clients: CollabClient[] = [];
const results = { tried: 0, held: 0, broken: [] as string[] };
const attempt = (name: string, held: boolean) => {
  results.tried++;
  if (held) results.held++;
  else results.broken.push(name);
};

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  owner = await signUp(stack.url, "AbuseOwner");
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(async () => {
  recordAttackClass("hostile collab input from members", results);
  await stack?.close();
});

/** A y-websocket awareness message holding `count` presence entries of `stateBytes` bytes each. */
function awarenessMessage(count: number, firstClientId: number, stateBytes = 20): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, count);
  for (let index = 0; index < count; index++) {
    encoding.writeVarUint(update, firstClientId + index);
    encoding.writeVarUint(update, 1);
    encoding.writeVarString(update, JSON.stringify({ cursor: "x".repeat(stateBytes) }));
  }
  const message = encoding.createEncoder();
  encoding.writeVarUint(message, 1);
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update));
  return encoding.toUint8Array(message);
}

async function member(role: "editor" | "viewer") {
  const user = await signUp(stack.url, `Abuse${role}`);
  const invited = await graphql(stack.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, email: user.email, role } }, owner.token);
  expect(invited.errors).toBeUndefined();
  return user;
}

function open(workflowId: string, user: TestUser) {
  const client = connectClient(stack.url, workflowId, user.token, { maxBackoffTime: 60_000 });
  clients.push(client);
  return client;
}

describe("presence limits", () => {
  it(`S11: one socket sending 8,000 presence entries in a message, or one more than the cap over many, or one 100 KB state, is closed (4400) and the others see at most ${COLLAB_MAX_PRESENCE_IDS_PER_SOCKET}`, async () => {
    const workflowId = await createWorkflow(stack.url, owner, DEFINITION);
    const viewer = await member("viewer");
    const observer = open(workflowId, owner);
    await waitSynced(observer);
    const attacker = await rawSocket(stack.url, workflowId, viewer.token);
    await new Promise((resolve) => setTimeout(resolve, 200));
    attacker.socket.send(awarenessMessage(8_000, 1_000_000)); // one message of many entries
    const code = await closeCodeOf(attacker);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = observer.provider.awareness.getStates().size - 1; // minus the observer itself
    attempt("presence flood in one message", code === COLLAB_CLOSE.MALFORMED && seen <= COLLAB_MAX_PRESENCE_IDS_PER_SOCKET);
    expect(code).toBe(COLLAB_CLOSE.MALFORMED);
    expect(seen).toBeLessThanOrEqual(COLLAB_MAX_PRESENCE_IDS_PER_SOCKET);

    const again = await rawSocket(stack.url, workflowId, viewer.token);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let index = 0; index < 10; index++) again.socket.send(awarenessMessage(1, 2_000_000 + index)); // many messages of one entry
    const codeAgain = await closeCodeOf(again);
    attempt("presence flood over many messages", codeAgain === COLLAB_CLOSE.MALFORMED);
    expect(codeAgain).toBe(COLLAB_CLOSE.MALFORMED);

    const big = await rawSocket(stack.url, workflowId, viewer.token);
    await new Promise((resolve) => setTimeout(resolve, 200));
    big.socket.send(awarenessMessage(1, 3_000_000, 100_000));
    const codeBig = await closeCodeOf(big);
    attempt("one 100 KB presence state", codeBig === COLLAB_CLOSE.MALFORMED);
    expect(codeBig).toBe(COLLAB_CLOSE.MALFORMED);
  });
});

describe("document size", () => {
  it(`S11: an editor growing the document past ${MAX_WORKFLOW_DOC_BYTES} bytes gets ${COLLAB_CLOSE.DOCUMENT_TOO_LARGE}; what is stored stays under the cap`, async () => {
    const workflowId = await createWorkflow(stack.url, owner, DEFINITION);
    const editor = open(workflowId, owner);
    await waitSynced(editor);
    // 400 KB a step: six of them pass the cap. Each is its own message (under COLLAB_MAX_MESSAGE_BYTES).
    for (let index = 0; index < 7; index++) {
      const step = createStepMap({ id: `big${index}`, type: "transform", name: `Big ${index}`, config: {}, position: { x: index, y: 0 } });
      docMaps(editor.doc).steps.set(`big${index}`, step);
      step.set("padding", "p".repeat(400_000));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await waitFor("the close code", async () => editor.closeCodes.length > 0, 10_000);
    editor.destroy();
    const stored = await withPg(testEnv().DATABASE_URL, async (client) => {
      const row = await client.query<{ yjsState: Buffer }>(`SELECT "yjsState" FROM "Workflow" WHERE id = $1`, [workflowId]);
      const updates = await client.query<{ update: Buffer }>(`SELECT update FROM "WorkflowUpdate" WHERE "workflowId" = $1`, [workflowId]);
      return Y.mergeUpdates([row.rows[0]!.yjsState, ...updates.rows.map((r) => r.update)].map((b) => new Uint8Array(b))).byteLength;
    });
    attempt("document grown past the cap", editor.closeCodes[0] === COLLAB_CLOSE.DOCUMENT_TOO_LARGE && stored <= MAX_WORKFLOW_DOC_BYTES);
    expect(editor.closeCodes[0]).toBe(COLLAB_CLOSE.DOCUMENT_TOO_LARGE);
    expect(stored).toBeLessThanOrEqual(MAX_WORKFLOW_DOC_BYTES);
  }, 60_000);
});

describe("membership changes reach open collab sockets", () => {
  it("S8: a removed editor's open socket is closed (4404) within 1 s, and an edit sent after the removal is never stored", async () => {
    const workflowId = await createWorkflow(stack.url, owner, DEFINITION);
    const editor = await member("editor");
    const client = open(workflowId, editor);
    await waitSynced(client);
    const removed = await graphql(stack.url, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, userId: editor.userId } }, owner.token);
    expect(removed.errors).toBeUndefined();
    const removedAt = Date.now();
    docMaps(client.doc).meta.set("description", "EDIT-AFTER-REMOVAL");
    await waitFor("the removed editor's socket to close", async () => client.closeCodes.length > 0, 5_000);
    const took = Date.now() - removedAt;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stored = await withPg(testEnv().DATABASE_URL, async (db) => {
      const updates = await db.query<{ update: Buffer }>(`SELECT update FROM "WorkflowUpdate" WHERE "workflowId" = $1`, [workflowId]);
      return updates.rows.some((row) => Buffer.from(row.update).includes("EDIT-AFTER-REMOVAL"));
    });
    attempt("edit after removal", client.closeCodes[0] === COLLAB_CLOSE.NOT_FOUND && took < 1_000 && !stored);
    expect(client.closeCodes[0]).toBe(COLLAB_CLOSE.NOT_FOUND);
    expect(took).toBeLessThan(1_000);
    expect(stored).toBe(false);
  });

  it("S8: an editor demoted to viewer keeps reading, but edits after the demotion are not applied for anyone", async () => {
    const workflowId = await createWorkflow(stack.url, owner, DEFINITION);
    const editor = await member("editor");
    const client = open(workflowId, editor);
    const observer = open(workflowId, owner);
    await waitSynced(client, observer);
    docMaps(client.doc).steps.set("before", createStepMap({ id: "before", type: "transform", name: "Before", config: {}, position: { x: 0, y: 0 } }));
    await waitFor("the editor's edit to reach the owner", async () => docMaps(observer.doc).steps.has("before"));
    const demoted = await graphql(stack.url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, email: editor.email, role: "viewer" } }, owner.token);
    expect(demoted.data?.inviteMember.role).toBe("viewer");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    docMaps(client.doc).steps.set("after", createStepMap({ id: "after", type: "transform", name: "After", config: {}, position: { x: 1, y: 0 } }));
    docMaps(observer.doc).meta.set("description", "owner still edits");
    await waitFor("the owner's edit to reach the demoted member", async () => docMaps(client.doc).meta.get("description") !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = !docMaps(observer.doc).steps.has("after") && client.closeCodes.length === 0;
    attempt("edit after demotion", held);
    expect(docMaps(observer.doc).steps.has("after")).toBe(false);
    expect(client.closeCodes).toEqual([]);
  });
});
