/**
 * Access to a workflow document (docs/collab.md, "Access"): who may open it, who may change it, and that
 * presence carries the caller's real identity.
 */
import { COLLAB_CLOSE, createStepMap, docMaps, readTextValue, WorkflowDefinition } from "@algorythmos/domain";
import { SignJWT } from "jose";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { graphql, startTestStack } from "../support/stack.js";
import {
  closeCodeOf,
  connectClient,
  createWorkflow,
  docDefinition,
  rawSocket,
  signUp,
  storedDefinition,
  waitFor,
  waitSynced,
  type CollabClient,
  type TestUser,
} from "../support/collab.js";

/** The JWT issuer of packages/platform/src/auth.ts. */
const ISSUER = "algorythmos";

const DEFINITION = WorkflowDefinition.parse({
  name: "Guarded",
  steps: [
    { id: "trigger", type: "trigger.manual", name: "Start" },
    { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://example.com" }, position: { x: 200, y: 0 } },
  ],
  edges: [{ id: "e1", source: "trigger", target: "fetch" }],
});

let stack: Stack;
let owner: TestUser;
let outsider: TestUser;
let viewer: TestUser;
let workflowId: string;
const opened: CollabClient[] = [];

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  [owner, outsider, viewer] = await Promise.all([signUp(stack.url, "Owner"), signUp(stack.url, "Outsider"), signUp(stack.url, "Viewer")]);
  const invited = await graphql(
    stack.url,
    `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`,
    { input: { workspaceId: owner.workspaceId, email: viewer.email, role: "viewer" } },
    owner.token,
  );
  expect(invited.data?.inviteMember.role).toBe("viewer");
  workflowId = await createWorkflow(stack.url, owner, DEFINITION);
});
afterAll(async () => {
  for (const client of opened) client.destroy();
  await stack?.close();
});

const open = (token: string | undefined, id = workflowId) => {
  const client = connectClient(stack.url, id, token);
  opened.push(client);
  return client;
};

/** The document as PostgreSQL holds it with every acknowledged edit (snapshot + update log). */
async function liveStoredDefinition(): Promise<unknown> {
  const result = await graphql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflowId }, owner.token);
  return result.data.workflow.export.definition;
}

describe("collab access: close codes", () => {
  it("no token: closed with 4401 before any message", async () => {
    const socket = await rawSocket(stack.url, workflowId);
    expect(await closeCodeOf(socket)).toBe(COLLAB_CLOSE.UNAUTHENTICATED);
    expect(socket.messages).toEqual([]);
  });

  it("a token that is not a token: 4401", async () => {
    const socket = await rawSocket(stack.url, workflowId, "not-a-token");
    expect(await closeCodeOf(socket)).toBe(4401);
    expect(socket.messages).toEqual([]);
  });

  const jwt = (secret: string, expiresAt: number | string) =>
    // A real session id: access tokens must name their session (docs/security.md, "Sessions and tokens").
    new SignJWT({ sid: JSON.parse(Buffer.from(owner.token.split(".")[1]!, "base64url").toString()).sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(owner.userId)
      .setIssuer(ISSUER)
      .setIssuedAt(typeof expiresAt === "number" ? expiresAt - 3600 : undefined)
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(secret));

  it("a JWT for a real member signed with another secret: 4401 (the same JWT with the right secret opens)", async () => {
    const control = await rawSocket(stack.url, workflowId, await jwt(stack.deps.env.JWT_SECRET, "1h"));
    await waitFor("the sync step 1 for a valid token", async () => control.messages.length > 0);
    control.socket.close();

    const socket = await rawSocket(stack.url, workflowId, await jwt("another-secret-another-secret-0123456789", "1h"));
    expect(await closeCodeOf(socket)).toBe(4401);
    expect(socket.messages).toEqual([]);
  });

  it("an expired JWT: 4401", async () => {
    const socket = await rawSocket(stack.url, workflowId, await jwt(stack.deps.env.JWT_SECRET, Math.floor(Date.now() / 1000) - 60));
    expect(await closeCodeOf(socket)).toBe(4401);
    expect(socket.messages).toEqual([]);
  });

  it("the y-websocket client with no token stops at 4401 and its document stays empty", async () => {
    const client = open(undefined);
    await waitFor("the 4401 close", async () => client.closeCodes.includes(4401));
    expect(client.remoteUpdates).toBe(0);
    expect(docMaps(client.doc).steps.size).toBe(0);
  });

  it("an outsider (member of another workspace) gets 4404 and no document data", async () => {
    const socket = await rawSocket(stack.url, workflowId, outsider.token);
    expect(await closeCodeOf(socket)).toBe(COLLAB_CLOSE.NOT_FOUND);
    // Not a single message: no sync step 1 (which carries the state vector), no update, no awareness.
    expect(socket.messages).toEqual([]);

    const client = open(outsider.token);
    await waitFor("the 4404 close", async () => client.closeCodes.includes(4404));
    expect(client.remoteUpdates).toBe(0);
    expect(docMaps(client.doc).meta.size).toBe(0);
    expect(docMaps(client.doc).steps.size).toBe(0);
    expect(client.provider.synced).toBe(false);
  });

  it("an unknown workflow: 4404, like a workflow the caller cannot see", async () => {
    const socket = await rawSocket(stack.url, "wf_does_not_exist", owner.token);
    expect(await closeCodeOf(socket)).toBe(4404);
    expect(socket.messages).toEqual([]);
  });

  it("an outsider's edits sent before the refusal never reach the document", async () => {
    const before = await liveStoredDefinition();
    const client = open(outsider.token);
    docMaps(client.doc).meta.set("name", "Outsider was here");
    docMaps(client.doc).steps.set("evil", createStepMap({ id: "evil", type: "http.request", name: "Evil", config: {}, position: { x: 0, y: 0 } }));
    await waitFor("the 4404 close", async () => client.closeCodes.includes(4404));
    expect(await liveStoredDefinition()).toEqual(before);
  });
});

describe("collab access: viewers are read-only", () => {
  it("a viewer gets the document, but their edits are never applied for anyone, nor stored", async () => {
    const writer = open(owner.token);
    const reader = open(viewer.token);
    const observer = open(owner.token);
    await waitSynced(writer, reader, observer);
    expect(docDefinition(reader.doc).name).toBe("Guarded");
    const before = await liveStoredDefinition();

    // The viewer edits, then announces itself on the same socket: once the observer sees that presence, the
    // server has handled the edits that were sent before it.
    docMaps(reader.doc).meta.set("name", "Viewer rename");
    docMaps(reader.doc).steps.set("viewer_step", createStepMap({ id: "viewer_step", type: "http.request", name: "Mine", config: {}, position: { x: 1, y: 1 } }));
    reader.provider.awareness.setLocalStateField("marker", "viewer-edited");
    await waitFor("the viewer's presence after its edits", async () =>
      [...observer.provider.awareness.getStates().values()].some((state) => state.marker === "viewer-edited"),
    );
    // A writer's edit after that goes through, and reaches the viewer too.
    docMaps(writer.doc).meta.set("description", "writer was here");
    await waitFor("the writer's edit to reach the observer", async () => docMaps(observer.doc).meta.get("description") === "writer was here");
    await waitFor("the writer's edit to reach the viewer", async () => docMaps(reader.doc).meta.get("description") === "writer was here");

    expect(readTextValue(docMaps(observer.doc).meta.get("name"))).toBe("Guarded");
    expect(docMaps(observer.doc).steps.has("viewer_step")).toBe(false);
    expect(docMaps(writer.doc).steps.has("viewer_step")).toBe(false);
    const after = (await liveStoredDefinition()) as WorkflowDefinition;
    expect(after).toEqual({ ...(before as WorkflowDefinition), description: "writer was here" });
    await waitFor("the materialised definition to take the writer's edit", async () => (await storedDefinition(stack.url, owner.token, workflowId)).description === "writer was here");
    const stored = await storedDefinition(stack.url, owner.token, workflowId);
    expect(stored.name).toBe("Guarded");
    expect(stored.steps.map((step) => step.id)).not.toContain("viewer_step");

    // A client that joins now loads what the database holds: no trace of the viewer's edits.
    const late = open(owner.token);
    await waitSynced(late);
    expect(readTextValue(docMaps(late.doc).meta.get("name"))).toBe("Guarded");
    expect(docMaps(late.doc).steps.has("viewer_step")).toBe(false);
  });
});

describe("collab access: presence", () => {
  it("awareness is stamped with the sender's real user id and name, whatever it claims", async () => {
    const mallory = await signUp(stack.url, "Eve");
    const invited = await graphql(
      stack.url,
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`,
      { input: { workspaceId: owner.workspaceId, email: mallory.email, role: "editor" } },
      owner.token,
    );
    expect(invited.errors).toBeUndefined();
    const watcher = open(owner.token);
    const spoofer = open(mallory.token);
    await waitSynced(watcher, spoofer);
    spoofer.provider.awareness.setLocalState({ user: { id: "someone-else", name: "Mallory", color: "#f00" }, selectedStep: "fetch" });

    const seen = await waitFor("the spoofer's presence", async () => {
      const state = watcher.provider.awareness.getStates().get(spoofer.doc.clientID);
      return state?.selectedStep === "fetch" ? state : null;
    });
    expect(seen.user).toEqual({ id: mallory.userId, name: "Eve", color: "#f00" });
    expect([...watcher.provider.awareness.getStates().values()].some((state) => state.user?.id === "someone-else" || state.user?.name === "Mallory")).toBe(false);
  });

  it("a client cannot take over another connection's presence (its awareness client id)", async () => {
    const mallory = await signUp(stack.url, "Mallet");
    await graphql(
      stack.url,
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`,
      { input: { workspaceId: owner.workspaceId, email: mallory.email, role: "editor" } },
      owner.token,
    );
    const victim = open(owner.token);
    const watcher = open(owner.token);
    await waitSynced(victim, watcher);
    victim.provider.awareness.setLocalState({ selectedStep: "trigger" });
    await waitFor("the victim's presence", async () => watcher.provider.awareness.getStates().get(victim.doc.clientID)?.selectedStep === "trigger");

    const attacker = await rawSocket(stack.url, workflowId, mallory.token);
    await waitFor("the attacker to be admitted", async () => attacker.messages.length > 0);
    const awarenessMessage = (clientId: number, clock: number, state: unknown) => {
      const update = encoding.createEncoder();
      encoding.writeVarUint(update, 1);
      encoding.writeVarUint(update, clientId);
      encoding.writeVarUint(update, clock);
      encoding.writeVarString(update, JSON.stringify(state));
      const message = encoding.createEncoder();
      encoding.writeVarUint(message, 1);
      encoding.writeVarUint8Array(message, encoding.toUint8Array(update));
      return encoding.toUint8Array(message);
    };
    // Overwrite the victim's entry with a newer clock, then announce itself (a barrier on the same socket).
    attacker.socket.send(awarenessMessage(victim.doc.clientID, 1000, { selectedStep: "fetch", user: { id: owner.userId, name: "Owner" } }));
    attacker.socket.send(awarenessMessage(987654, 1, { marker: "attacker-done" }));
    await waitFor("the attacker's own presence", async () =>
      [...watcher.provider.awareness.getStates().values()].some((state) => state.marker === "attacker-done"),
    );
    const seen = watcher.provider.awareness.getStates().get(victim.doc.clientID);
    expect({ selectedStep: seen?.selectedStep, userId: seen?.user?.id }).toEqual({ selectedStep: "trigger", userId: owner.userId });
    attacker.socket.close();
  });
});
