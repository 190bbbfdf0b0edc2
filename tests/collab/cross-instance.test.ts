/**
 * Two collab services serving one workflow (docs/collab.md; updates relayed through Redis): clients on either
 * converge, and changes made outside any room — an API edit, a version restore — reach live clients on both.
 * Two stacks share the database and, through the same REDIS_PREFIX, the relay.
 */
import { createStepMap, docMaps, readTextValue, removeStep, WorkflowDefinition } from "@algorythmos/domain";
import { isDeepStrictEqual } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { testEnv } from "../support/env.js";
import { graphql, startTestStack } from "../support/stack.js";
import {
  canonical,
  connectClient,
  createWorkflow,
  docDefinition,
  signUp,
  waitFor,
  waitForStoredDefinition,
  waitSynced,
  type CollabClient,
  type TestUser,
} from "../support/collab.js";

const DEFINITION = WorkflowDefinition.parse({
  name: "Two places",
  steps: [
    { id: "trigger", type: "trigger.manual", name: "Start" },
    { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://example.com" }, position: { x: 200, y: 0 } },
  ],
  edges: [{ id: "e1", source: "trigger", target: "fetch" }],
});

let a: Stack;
let b: Stack;
let user: TestUser;
const clients: CollabClient[] = [];

beforeAll(async () => {
  const shared = { REDIS_PREFIX: testEnv().REDIS_PREFIX };
  [a, b] = await Promise.all([startTestStack({ collab: true, worker: false }, shared), startTestStack({ collab: true, worker: false }, shared)]);
  user = await signUp(a.url, "Owner");
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const open = (stack: Stack, workflowId: string) => {
  const client = connectClient(stack.url, workflowId, user.token);
  clients.push(client);
  return client;
};

const sameDefinition = (...docs: Y.Doc[]) => {
  const reads = docs.map((doc) => JSON.stringify(docDefinition(doc)));
  return reads.every((read) => read === reads[0]);
};

describe("collab across two processes", () => {
  it("a client on A and a client on B converge on concurrent edits, and the stored definition follows", async () => {
    const workflowId = await createWorkflow(a.url, user, DEFINITION);
    const onA = open(a, workflowId);
    const onB = open(b, workflowId);
    await waitSynced(onA, onB);
    expect(a.collab!.rooms.has(workflowId)).toBe(true);
    expect(b.collab!.rooms.has(workflowId)).toBe(true);

    // Concurrent: both edit the same things and different things in the same tick, before hearing of each other.
    for (let i = 0; i < 20; i++) {
      docMaps(onA.doc).steps.set(`a${i}`, createStepMap({ id: `a${i}`, type: "http.request", name: `A ${i}`, config: {}, position: { x: i, y: 0 } }));
      docMaps(onB.doc).steps.set(`b${i}`, createStepMap({ id: `b${i}`, type: "http.request", name: `B ${i}`, config: {}, position: { x: i, y: 1 } }));
      (docMaps(onA.doc).steps.get("fetch")!.get("config") as Y.Map<unknown>).set("url", `https://a.example/${i}`);
      (docMaps(onB.doc).steps.get("fetch")!.get("config") as Y.Map<unknown>).set("method", i % 2 ? "POST" : "PUT");
      docMaps(onA.doc).meta.set("name", `A's name ${i}`);
      docMaps(onB.doc).meta.set("name", `B's name ${i}`);
    }
    await waitFor("A and B to converge", async () => sameDefinition(onA.doc, onB.doc) && docMaps(onA.doc).steps.has("b19") && docMaps(onB.doc).steps.has("a19"));
    const converged = docDefinition(onA.doc);
    expect(converged.steps).toHaveLength(42);
    expect(converged.steps.find((step) => step.id === "fetch")!.config).toEqual({ url: "https://a.example/19", method: "POST" });

    await waitForStoredDefinition(a.url, user.token, workflowId, converged);
    // A client that joins B later loads the same document from PostgreSQL.
    const late = open(b, workflowId);
    await waitSynced(late);
    expect(docDefinition(late.doc)).toEqual(converged);
  });

  it("an API edit (updateWorkflow name) reaches live clients on both processes", async () => {
    const workflowId = await createWorkflow(a.url, user, DEFINITION);
    const onA = open(a, workflowId);
    const onB = open(b, workflowId);
    await waitSynced(onA, onB);
    const renamed = await graphql(
      b.url,
      `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { name } }`,
      { input: { id: workflowId, name: "Renamed by the API" } },
      user.token,
    );
    expect(renamed.errors).toBeUndefined();
    await waitFor("the rename on A's client", async () => readTextValue(docMaps(onA.doc).meta.get("name")) === "Renamed by the API");
    await waitFor("the rename on B's client", async () => readTextValue(docMaps(onB.doc).meta.get("name")) === "Renamed by the API");

    // Live clients keep editing on top of it, and converge.
    docMaps(onA.doc).meta.set("description", "after the API edit");
    await waitFor("B to see A's next edit", async () => docMaps(onB.doc).meta.get("description") === "after the API edit");
    expect(docDefinition(onB.doc)).toEqual(docDefinition(onA.doc));
    await waitForStoredDefinition(a.url, user.token, workflowId, docDefinition(onA.doc));
  });

  it("a version restore (createVersion, edit, restoreVersion) reaches connected clients on both processes", async () => {
    const workflowId = await createWorkflow(a.url, user, DEFINITION);
    const onA = open(a, workflowId);
    const onB = open(b, workflowId);
    await waitSynced(onA, onB);

    const created = await graphql(
      a.url,
      `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id definition } }`,
      { input: { workflowId, label: "before the edit" } },
      user.token,
    );
    expect(created.errors).toBeUndefined();
    const version = created.data.createVersion as { id: string; definition: WorkflowDefinition };
    expect(version.definition).toEqual(canonical(docDefinition(onA.doc)));

    // An edit after the version, acknowledged on both.
    removeStep(onA.doc, "fetch");
    docMaps(onA.doc).steps.set("extra", createStepMap({ id: "extra", type: "delay", name: "Extra", config: { durationMs: 5 }, position: { x: 5, y: 5 } }));
    docMaps(onA.doc).meta.set("name", "Edited after the version");
    await waitFor("B to see the edit", async () => sameDefinition(onA.doc, onB.doc));
    expect(docDefinition(onB.doc)).not.toEqual(version.definition);

    const restored = await graphql(
      b.url,
      `mutation($id: ID!) { restoreVersion(versionId: $id) { name definition } }`,
      { id: version.id },
      user.token,
    );
    expect(restored.errors).toBeUndefined();
    expect(restored.data.restoreVersion.definition).toEqual(version.definition);
    await waitFor("the restore on A's client", async () => isDeepStrictEqual(canonical(docDefinition(onA.doc)), canonical(version.definition)));
    await waitFor("the restore on B's client", async () => isDeepStrictEqual(canonical(docDefinition(onB.doc)), canonical(version.definition)));
    expect(docMaps(onA.doc).steps.has("extra")).toBe(false);
    expect(docMaps(onB.doc).steps.has("fetch")).toBe(true);
    await waitForStoredDefinition(a.url, user.token, workflowId, version.definition);
  });
});

