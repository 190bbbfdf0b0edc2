/**
 * Presence fan-out (collab/room.ts `broadcastAwareness`): the stock y-websocket client echoes every awareness
 * message it receives, so a server that forwards each presence change on its own costs members² messages per
 * round of changes — 200 members renewing their presence (every 15 s) were 40,000 messages out and 40,000
 * echoes back, and edits in the room stalled for seconds behind them (the bench's Yjs 1 × 200 case). Changes
 * that arrive within AWARENESS_BROADCAST_MS of the last broadcast go out together, so a burst is a few
 * messages, and every change still arrives.
 */
import * as decoding from "lib0/decoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { connectClient, createWorkflow, rawSocket, signUp, waitFor, waitSynced, type CollabClient, type TestUser } from "../support/collab.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let owner: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  owner = await signUp(stack.url, "PresenceBatching");
});
afterAll(async () => {
  await stack?.close();
});

/** The JSON states of an awareness message (type 1), or null for any other message. */
function awarenessStates(message: Uint8Array): unknown[] | null {
  const decoder = decoding.createDecoder(message);
  if (decoding.readVarUint(decoder) !== 1) return null;
  const update = decoding.createDecoder(decoding.readVarUint8Array(decoder));
  const count = decoding.readVarUint(update);
  const states: unknown[] = [];
  for (let index = 0; index < count; index++) {
    decoding.readVarUint(update); // client id
    decoding.readVarUint(update); // clock
    states.push(JSON.parse(decoding.readVarString(update)));
  }
  return states;
}

describe("presence fan-out", () => {
  it("a burst of presence changes from 20 members reaches a watcher in a few messages, every change included", async () => {
    const workflowId = await createWorkflow(stack.url, owner, { name: "Burst", steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }], edges: [] });
    const watcher = await rawSocket(stack.url, workflowId, owner.token);
    const members: CollabClient[] = Array.from({ length: 20 }, () => connectClient(stack.url, workflowId, owner.token));
    try {
      await waitSynced(...members);
      // Let the joins' own presence messages settle before the burst.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const from = watcher.messages.length;
      members.forEach((member, index) => member.provider.awareness.setLocalStateField("marker", `burst-${index}`));

      const markersSeen = () => {
        const seen = new Set<string>();
        for (const message of watcher.messages.slice(from)) {
          for (const state of awarenessStates(message) ?? []) {
            const marker = (state as { marker?: unknown } | null)?.marker;
            if (typeof marker === "string" && marker.startsWith("burst-")) seen.add(marker);
          }
        }
        return seen;
      };
      await waitFor("every member's change at the watcher", async () => markersSeen().size === members.length);
      const presenceMessages = watcher.messages.slice(from).filter((message) => awarenessStates(message) !== null).length;
      // One message per change would be 20 (and 20 × 20 echoes towards the server).
      expect(presenceMessages).toBeLessThanOrEqual(members.length / 2);
    } finally {
      for (const member of members) member.destroy();
      watcher.socket.close();
    }
  });
});
