/**
 * C4 and the stock y-websocket client: every client echoes each awareness change it sees, removals of
 * departed clients included (y-websocket's awareness handler sends `added + updated + removed`, whatever the
 * origin). When the echo of a removal arrives after the departed socket's close was handled, nobody holds
 * that id any more. Such echoes are no claim on the id: a member who stays while more than
 * COLLAB_MAX_PRESENCE_IDS_PER_SOCKET others leave keeps their socket. (It was closed with 4400 once it had
 * echoed the fourth removal — in the bench, every member of a 200-client room as the room emptied.)
 */
import { COLLAB_MAX_PRESENCE_IDS_PER_SOCKET } from "@algorythmos/domain";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { connectClient, createWorkflow, rawSocket, signUp, waitFor, waitSynced, type TestUser } from "../support/collab.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let owner: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  owner = await signUp(stack.url, "PresenceEcho");
});
afterAll(async () => {
  await stack?.close();
});

/** An awareness message as y-websocket encodes a removal: per client its id, its next clock and `null`. */
function removals(clientIds: number[]): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, clientIds.length);
  for (const clientId of clientIds) {
    encoding.writeVarUint(update, clientId);
    encoding.writeVarUint(update, 2);
    encoding.writeVarString(update, "null");
  }
  const message = encoding.createEncoder();
  encoding.writeVarUint(message, 1);
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update));
  return encoding.toUint8Array(message);
}

describe("C4: presence echoes", () => {
  it(`a socket echoing the removals of ${COLLAB_MAX_PRESENCE_IDS_PER_SOCKET + 4} departed clients stays open, and others' presence still reaches it`, async () => {
    const workflowId = await createWorkflow(stack.url, owner, { name: "Echo", steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }], edges: [] });
    const stayer = await rawSocket(stack.url, workflowId, owner.token);
    let closed = false;
    void stayer.closed.then(() => (closed = true));
    await waitFor("the stayer joined", async () => stayer.messages.length > 0);
    const departed = Array.from({ length: COLLAB_MAX_PRESENCE_IDS_PER_SOCKET + 4 }, (_, index) => 7_000_000 + index);
    for (const id of departed) stayer.socket.send(removals([id])); // one echo per departure, as they come
    stayer.socket.send(removals(departed)); // and all at once

    const visitor = connectClient(stack.url, workflowId, owner.token);
    try {
      await waitSynced(visitor);
      const before = stayer.messages.length;
      visitor.provider.awareness.setLocalStateField("cursor", { x: 1, y: 2 });
      await waitFor("the visitor's presence at the stayer", async () => stayer.messages.length > before);
      expect(closed).toBe(false);
      expect(visitor.closeCodes).toEqual([]);
    } finally {
      visitor.destroy();
      stayer.socket.close();
    }
  });
});
