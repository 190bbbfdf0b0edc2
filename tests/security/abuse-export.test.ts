/**
 * One query must not stall the server (issue 12, item 11; docs/security.md "Query cost"): a viewer asked for
 * 15 aliases of `workflow { export }` on a 5 MB document and every alias decoded the whole Y.Doc (5.4 s,
 * /healthz 3.4 s). Now the document is decoded once per request, expensive fields have a price the query-cost
 * budget counts (so such a query is refused before it reads anything), API writes cannot make a document
 * larger than MAX_WORKFLOW_DOC_BYTES (PAYLOAD_TOO_LARGE), and /healthz stays responsive meanwhile.
 */
import { applyDefinitionToDoc, MAX_WORKFLOW_DOC_BYTES, WorkflowDefinition } from "@algorythmos/domain";
import { changeWorkflowDoc, loadWorkflowDoc } from "@algorythmos/platform";
import * as Y from "yjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { EXPENSIVE_FIELD_COST } from "../../server/graphql/cost.js";
import { QUERY_LIMITS } from "../../server/graphql/yoga.js";
import { codeOf, createWorkflow, gql, invite, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let owner: Account;
let viewer: Account;
/** A workflow whose document collab edits grew to ~5 MB (500 steps with 10 KB of config each). */
let bigWorkflowId: string;
let bigDocBytes: number;

const bigDefinition = (name: string, steps: number, bytesPerStep: number) =>
  WorkflowDefinition.parse({
    name,
    steps: [
      { id: "start", type: "trigger.manual", name: "Start" },
      ...Array.from({ length: steps - 1 }, (_, i) => ({
        id: `s${i}`,
        type: "http.request",
        name: `Step ${i}`,
        config: { method: "GET", url: "http://127.0.0.1:9/", note: `${i}`.padEnd(bytesPerStep, "x") },
        position: { x: i, y: 0 },
      })),
    ],
  });

/** Appends an edit to a stored document below the API (as collab does), bypassing the API's checks. */
const growDoc = (workflowId: string, definition: WorkflowDefinition) =>
  changeWorkflowDoc(stack.deps.db, stack.deps.redis, stack.deps.env.REDIS_PREFIX, workflowId, (doc) => applyDefinitionToDoc(doc, definition, "collab"));

async function docBytes(workflowId: string): Promise<number> {
  const doc = (await loadWorkflowDoc(stack.deps.db, workflowId))!;
  try {
    return Y.encodeStateAsUpdate(doc).byteLength;
  } finally {
    doc.destroy();
  }
}

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  [owner, viewer] = await Promise.all([signUp(stack.url, "BigOwner"), signUp(stack.url, "BigViewer")]);
  await invite(stack.url, owner, owner.workspaceId, viewer, "viewer");
  const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Big");
  bigWorkflowId = workflow.id;
  // Grown the way collab grows a document: an update appended to its log (no API write could send this much).
  await growDoc(bigWorkflowId, bigDefinition("Big", 500, 10_000));
  bigDocBytes = await docBytes(bigWorkflowId);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const exportAliases = (count: number) => `query($id: ID!) { ${Array.from({ length: count }, (_, i) => `e${i}: workflow(id: $id) { export }`).join(" ")} }`;

/**
 * Counts how often the server reads a document's update log (the first step of every load and decode) while
 * `work` runs: the server's own client is wrapped by a Prisma query extension that counts and passes through.
 */
async function countingDocumentLoads<T>(work: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const original = stack.deps.db;
  let reads = 0;
  stack.deps.db = original.$extends({
    query: {
      workflowUpdate: {
        findMany({ args, query }) {
          if ((args.where as { workflowId?: unknown } | undefined)?.workflowId === bigWorkflowId) reads++;
          return query(args);
        },
      },
    },
  }) as unknown as typeof original;
  try {
    return { result: await work(), reads };
  } finally {
    stack.deps.db = original;
  }
}

/** Runs `work` while polling /healthz every 20 ms; returns how long `work` took and the slowest /healthz answer. */
async function withHealthProbe<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; slowestHealthMs: number }> {
  let running = true;
  let slowest = 0;
  const probe = (async () => {
    for (let i = 0; running && i < 2_000; i++) {
      const started = performance.now();
      const response = await fetch(`${stack.url}/healthz`);
      await response.text();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  running = false;
  await probe;
  return { result, ms, slowestHealthMs: slowest };
}

describe("one query cannot stall the server", () => {
  it("the fixture: a ~5 MB document that a viewer can export (the control)", async () => {
    expect(bigDocBytes).toBeGreaterThan(5_000_000);
    const single = ok(await gql(stack.url, exportAliases(1), { id: bigWorkflowId }, viewer.token));
    expect(single.e0.export.definition.steps).toHaveLength(500);
  });

  it("15 aliases of workflow { export } are refused by the cost budget before anything is read; /healthz stays fast", async () => {
    const { result, ms, slowestHealthMs } = await withHealthProbe(() => gql(stack.url, exportAliases(15), { id: bigWorkflowId }, viewer.token));
    console.info(`15-alias export on a ${(bigDocBytes / 1e6).toFixed(1)} MB doc: ${ms.toFixed(0)} ms, slowest /healthz ${slowestHealthMs.toFixed(0)} ms`);
    expect(result.errors?.[0]?.message).toMatch(/cost/i);
    expect(result.data ?? null).toBeNull();
    expect(ms).toBeLessThan(500);
    expect(slowestHealthMs).toBeLessThan(500);
  });

  it("exports through a connection are priced per page item: without `first` at the default page of 20, with a variable at 100", async () => {
    const list = (first: string) =>
      `query($ws: ID!${first.includes("$n") ? ", $n: Int" : ""}) { workflows(workspaceId: $ws${first}) { edges { node { id export } } } }`;
    for (const first of ["", ", first: $n", ", first: 20"]) {
      const result = await gql(stack.url, list(first), { ws: owner.workspaceId, ...(first.includes("$n") && { n: 2 }) }, viewer.token);
      expect(result.errors?.[0]?.message, first || "no first").toMatch(/cost/i);
      expect(result.data ?? null).toBeNull();
    }
    // Two items are within the budget (the control).
    expect(codeOf(await gql(stack.url, list(", first: 2"), { ws: owner.workspaceId }, viewer.token))).toBe("OK");
  });

  it("four copies of that query in parallel: all refused, /healthz stays fast", async () => {
    const { result, slowestHealthMs } = await withHealthProbe(() =>
      Promise.all(Array.from({ length: 4 }, () => gql(stack.url, exportAliases(15), { id: bigWorkflowId }, viewer.token))),
    );
    console.info(`4 × 15-alias export: slowest /healthz ${slowestHealthMs.toFixed(0)} ms`);
    for (const one of result) expect(one.errors?.[0]?.message).toMatch(/cost/i);
    expect(slowestHealthMs).toBeLessThan(500);
  });

  it("the most exports the budget allows, of one workflow, read and decode it once", async () => {
    const allowed = Math.floor(QUERY_LIMITS.maxCost / EXPENSIVE_FIELD_COST["Workflow.export"]!) - 1;
    expect(allowed).toBeGreaterThanOrEqual(2);
    const { result, reads } = await countingDocumentLoads(() => gql(stack.url, exportAliases(allowed), { id: bigWorkflowId }, viewer.token));
    expect(codeOf(result), JSON.stringify(result.errors)).toBe("OK");
    expect(Object.keys(result.data)).toHaveLength(allowed);
    expect(reads).toBe(1);
    // The control for the counter: a single export reads once too.
    expect((await countingDocumentLoads(() => gql(stack.url, exportAliases(1), { id: bigWorkflowId }, viewer.token))).reads).toBe(1);

    // Figures, reported rather than asserted: one decode of a document this size holds the event loop.
    const { ms, slowestHealthMs } = await withHealthProbe(() => gql(stack.url, exportAliases(allowed), { id: bigWorkflowId }, viewer.token));
    console.info(`${allowed}-alias export of a ${(bigDocBytes / 1e6).toFixed(1)} MB doc: ${ms.toFixed(0)} ms; slowest /healthz meanwhile ${slowestHealthMs.toFixed(0)} ms`);
  });
});

describe("API writes cannot make a document larger than MAX_WORKFLOW_DOC_BYTES", () => {
  it("duplicating the 5 MB document is PAYLOAD_TOO_LARGE, and no copy is stored", async () => {
    const before = await stack.deps.db.workflow.count({ where: { workspaceId: owner.workspaceId } });
    const result = await gql(stack.url, `mutation($id: ID!) { duplicateWorkflow(id: $id) { id } }`, { id: bigWorkflowId }, owner.token);
    expect(codeOf(result)).toBe("PAYLOAD_TOO_LARGE");
    expect(result.errors![0]!.message).toContain(String(MAX_WORKFLOW_DOC_BYTES));
    expect(await stack.deps.db.workflow.count({ where: { workspaceId: owner.workspaceId } })).toBe(before);
  });

  it("an update that grows a document past the cap is PAYLOAD_TOO_LARGE (REST 413) and changes nothing; one that shrinks it is allowed", async () => {
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Growing");
    // ~1.9 MB that the definition does not show (as a client could leave behind), then API writes of < 1 MB each.
    await changeWorkflowDoc(stack.deps.db, stack.deps.redis, stack.deps.env.REDIS_PREFIX, workflow.id, (doc) =>
      doc.getMap("bulk").set("left-by-a-client", "x".repeat(1_900_000)),
    );
    expect(await docBytes(workflow.id)).toBeLessThan(MAX_WORKFLOW_DOC_BYTES);

    const grown = bigDefinition("Growing", 40, 10_000);
    const update = (definition: unknown) =>
      gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id: workflow.id, definition } }, owner.token);
    const refused = await update(grown);
    expect(codeOf(refused)).toBe("PAYLOAD_TOO_LARGE");
    expect(refused.errors![0]!.message).toContain(String(MAX_WORKFLOW_DOC_BYTES));
    const restRefused = await rest(stack.url, "PATCH", `/api/workflows/${workflow.id}`, { token: owner.token, json: { definition: grown } });
    expect(restRefused.status).toBe(413);
    expect(restRefused.body).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    const stored = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflow.id }, owner.token));
    expect(stored.workflow.export.definition.steps.length).toBeLessThan(40);

    // Past the cap already (grown below the API), a write that makes it smaller still goes through.
    await growDoc(workflow.id, bigDefinition("Growing", 30, 10_000));
    expect(await docBytes(workflow.id)).toBeGreaterThan(MAX_WORKFLOW_DOC_BYTES);
    const shrunk = await update(bigDefinition("Growing", 5, 10_000));
    expect(codeOf(shrunk), JSON.stringify(shrunk.errors)).toBe("OK");
  });
});
