/**
 * Seeded random concurrency over real websockets (issue 4, "Tests"): N y-websocket clients edit one workflow
 * at once through the domain helpers — add, move, connect, delete, rename, notes, config — while one of them
 * goes offline, keeps editing, and comes back. Every client must converge to the same definition, and once
 * edits settle PostgreSQL must hold that definition. A seed that ever failed goes into REGRESSION_SEEDS.
 */
import { createStepMap, docFromDefinition, docMaps, removeStep, STEP_TYPE_NAMES, WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { int, mulberry32, pick, type Rng } from "../support/random.js";
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

/** Seeds that once failed; they run on every test run, before the fresh ones. */
const REGRESSION_SEEDS: number[] = [];
const FRESH_SEEDS = [1, 2, 3, 20261124, 424242];

const CLIENTS = 4;
const ROUNDS = 60;

const BASE = WorkflowDefinition.parse({
  name: "Converge",
  steps: [
    { id: "trigger", type: "trigger.manual", name: "Start" },
    { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://example.com" }, position: { x: 200, y: 0 } },
    { id: "check", type: "condition", name: "Check", config: { expression: "true" }, position: { x: 400, y: 0 }, notes: "first line" },
  ],
  edges: [
    { id: "e1", source: "trigger", target: "fetch" },
    { id: "e2", source: "fetch", target: "check" },
  ],
});

/** One random edit, made the way the studio makes it: directly on the client's Y.Doc through the domain helpers. */
function randomEdit(rng: Rng, doc: Y.Doc, client: number, counter: { n: number }) {
  const { meta, steps, edges } = docMaps(doc);
  const stepIds = [...steps.keys()].sort();
  const stepId = pick(rng, stepIds);
  const step = stepId === undefined ? undefined : steps.get(stepId);
  switch (int(rng, 9)) {
    case 0: {
      // A small shared id pool makes concurrent adds of the same step id happen.
      const id = rng() < 0.25 ? `shared${int(rng, 3)}` : `c${client}_${counter.n++}`;
      const type = pick(rng, STEP_TYPE_NAMES)!;
      const notes = rng() < 0.3 ? `added by ${client}` : undefined;
      steps.set(id, createStepMap({ id, type, name: `${type} ${id}`, config: {}, position: { x: int(rng, 800), y: int(rng, 800) }, ...(notes && { notes }) }));
      return;
    }
    case 1: {
      const position = step?.get("position");
      if (position instanceof Y.Map) doc.transact(() => (position.set("x", int(rng, 1000)), position.set("y", int(rng, 1000))));
      return;
    }
    case 2: {
      const source = pick(rng, stepIds);
      const target = pick(rng, stepIds);
      if (source === undefined || target === undefined) return;
      const edge = new Y.Map<unknown>();
      edge.set("source", source);
      edge.set("target", target);
      if (rng() < 0.3) edge.set("label", rng() < 0.5 ? "true" : "false");
      edges.set(`edge_${client}_${counter.n++}`, edge);
      return;
    }
    case 3:
      if (stepId !== undefined && rng() < 0.7) removeStep(doc, stepId);
      return;
    case 4:
      if (step instanceof Y.Map) step.set("name", `renamed by ${client} #${counter.n++}`);
      return;
    case 5: {
      // Rich-text notes: append a paragraph, or type into an existing one.
      const notes = step?.get("notes");
      if (!(notes instanceof Y.XmlFragment)) return;
      const paragraphs = notes.toArray().filter((node): node is Y.XmlElement => node instanceof Y.XmlElement);
      const existing = pick(rng, paragraphs);
      const text = existing?.toArray().find((node): node is Y.XmlText => node instanceof Y.XmlText);
      if (text && rng() < 0.6) {
        text.insert(int(rng, text.length + 1), `<${client}>`);
      } else {
        const paragraph = new Y.XmlElement("paragraph");
        paragraph.insert(0, [new Y.XmlText(`note ${client}.${counter.n++}`)]);
        notes.insert(int(rng, notes.length + 1), [paragraph]);
      }
      return;
    }
    case 6: {
      const config = step?.get("config");
      if (!(config instanceof Y.Map)) return;
      const key = pick(rng, ["url", "method", "expression", "durationMs", "headers"])!;
      if (rng() < 0.2) config.delete(key);
      else config.set(key, key === "durationMs" ? int(rng, 10_000) : key === "headers" ? { n: String(counter.n++) } : `v${client}-${counter.n++}`);
      return;
    }
    case 7: {
      const edgeId = pick(rng, [...edges.keys()].sort());
      if (edgeId !== undefined) edges.delete(edgeId);
      return;
    }
    default:
      if (rng() < 0.5) meta.set("name", `Converge ${client}.${counter.n++}`);
      else meta.set("description", `described by ${client}`);
  }
}

let stack: Stack;
let owner: TestUser;
let editor: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  owner = await signUp(stack.url, "Owner");
  editor = await signUp(stack.url, "Editor");
  const invited = await graphql(
    stack.url,
    `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`,
    { input: { workspaceId: owner.workspaceId, email: editor.email, role: "editor" } },
    owner.token,
  );
  if (!invited.data) throw new Error(JSON.stringify(invited.errors));
});
afterAll(async () => {
  await stack?.close();
});

async function runSeed(seed: number) {
  const rng = mulberry32(seed);
  const workflowId = await createWorkflow(stack.url, owner, BASE);
  const clients: CollabClient[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const doc = new Y.Doc();
      doc.clientID = seed * 16 + i + 1; // fixed ids: conflicts resolve the same way on every replay
      clients.push(connectClient(stack.url, workflowId, i % 2 === 0 ? owner.token : editor.token, { doc }));
    }
    await waitSynced(...clients);
    const initial = docDefinition(docFromDefinition(BASE));
    for (const client of clients) expect(docDefinition(client.doc)).toEqual(initial);

    const counter = { n: 0 };
    const offlineClient = int(rng, CLIENTS);
    const offlineFrom = 5 + int(rng, 20);
    const offlineUntil = offlineFrom + 10 + int(rng, 25);
    for (let round = 0; round < ROUNDS; round++) {
      if (round === offlineFrom) clients[offlineClient]!.provider.disconnect();
      if (round === offlineUntil) clients[offlineClient]!.provider.connect();
      // While offline, the client keeps editing every round (and the others are editing too).
      if (round >= offlineFrom && round < offlineUntil) randomEdit(rng, clients[offlineClient]!.doc, offlineClient, counter);
      // Several clients edit in one tick: their updates cross on the wire.
      const burst = 1 + int(rng, CLIENTS);
      for (let k = 0; k < burst; k++) {
        const client = int(rng, CLIENTS);
        randomEdit(rng, clients[client]!.doc, client, counter);
      }
      if (rng() < 0.5) await new Promise((resolve) => setTimeout(resolve, int(rng, 15)));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    clients[offlineClient]!.provider.connect();
    await waitSynced(...clients);

    let reads: string[] = [];
    try {
      await waitFor("every client to converge", async () => {
        reads = clients.map((client) => JSON.stringify(docDefinition(client.doc)));
        const vectors = clients.map((client) => Buffer.from(Y.encodeStateVector(client.doc)).toString("hex"));
        return reads.every((read) => read === reads[0]) && vectors.every((vector) => vector === vectors[0]);
      });
    } catch (error) {
      throw new Error(`seed ${seed}: ${(error as Error).message}\n${reads.map((read, i) => `client ${i}: ${read}`).join("\n")}`);
    }
    const converged = docDefinition(clients[0]!.doc);
    expect(converged).not.toEqual(initial); // the edits did something

    // Every acknowledged edit is in PostgreSQL: the live export, and (after edits settle) the stored definition.
    await waitForStoredDefinition(stack.url, owner.token, workflowId, converged);
    const exported = await graphql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflowId }, owner.token);
    expect(canonical(exported.data.workflow.export.definition)).toEqual(canonical(converged));

    // A fresh client loading the document now sees the same thing.
    const late = connectClient(stack.url, workflowId, editor.token);
    clients.push(late);
    await waitSynced(late);
    expect(docDefinition(late.doc)).toEqual(converged);
  } finally {
    for (const client of clients) client.destroy();
  }
}

describe("collab convergence (seeded random concurrency)", () => {
  for (const seed of [...REGRESSION_SEEDS, ...FRESH_SEEDS]) {
    it(`seed ${seed}: ${CLIENTS} clients (one offline for a while) converge, and PostgreSQL stores the converged definition`, async () => {
      await runSeed(seed);
    });
  }
});
