/**
 * Step keys renamed at the same time (docs/ydoc-layout.md L12), with two real y-websocket clients on the real collab
 * server: both rename while they cannot see each other, then reconnect. Whatever the order the updates meet in,
 * both documents and the stored definition end alike, with unique keys and every `steps.<name>` reference naming a
 * step that has that key (or id) — the one the reference meant. Also: renaming rewrites the test cases' assertions.
 */
import { definitionFromDoc, docFromDefinition, docMaps, renameStepKey, WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { startTestStack } from "../support/stack.js";
import { canonical, connectClient, createWorkflow, docDefinition, signUp, waitFor, waitForStoredDefinition, waitSynced, type CollabClient, type TestUser } from "../support/collab.js";

const CHECK = "steps.fetch.output.status = 200 and steps.other.output.ok";
const BASE = WorkflowDefinition.parse({
  name: "Keys at once",
  steps: [
    { id: "s_start", key: "start", type: "trigger.manual", name: "Start" },
    { id: "s_fetch", key: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://example.com/{{ steps.other.output.id }}" } },
    { id: "s_other", key: "other", type: "http.request", name: "Other", config: { method: "GET", url: "https://example.com/{{ steps.fetch.output.id }}" } },
    { id: "s_check", key: "check", type: "condition", name: "Check", config: { expression: CHECK } },
    { id: "s_route", key: "route", type: "switch", name: "Route", config: { cases: [{ key: "ok", expression: "steps.fetch.output.ok" }, { key: "other", expression: "steps[\"other\"].output.ok" }] } },
  ],
  edges: [],
  testCases: [{ id: "tc1", name: "Happy", input: {}, assertions: [{ kind: "jsonata", expression: "steps.fetch.output.status = 200" }, { kind: "equals", stepId: "s_other", expected: 1 }] }],
});

let stack: Stack;
let user: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: false });
  user = await signUp(stack.url, "Keys");
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** Every `steps.<name>` in the definition's configs and test-case predicates, with what it should name. */
function references(definition: WorkflowDefinition): string[] {
  const texts = JSON.stringify([definition.steps.map((step) => step.config), definition.testCases ?? []]);
  return [...texts.matchAll(/steps(?:\.|\[\\?"|\['?)([A-Za-z0-9_]+)/g)].map((match) => match[1]!);
}

/** The names every step is called by: its key and its id. */
const namesOf = (definition: WorkflowDefinition) => new Set(definition.steps.flatMap((step) => [step.id, ...(step.key ? [step.key] : [])]));
const keyOf = (definition: WorkflowDefinition, id: string) => definition.steps.find((step) => step.id === id)!.key!;
const configOf = (definition: WorkflowDefinition, id: string) => definition.steps.find((step) => step.id === id)!.config as Record<string, unknown>;

/** Two clients, both synced; then cut off from each other (each offline) so what each does next is concurrent. */
async function twoClientsApart(workflowId: string): Promise<[CollabClient, CollabClient]> {
  const a = connectClient(stack.url, workflowId, user.token);
  const b = connectClient(stack.url, workflowId, user.token);
  await waitSynced(a, b);
  a.provider.disconnect();
  b.provider.disconnect();
  return [a, b];
}

/** Reconnects both and waits until both documents hold the same definition, and it stays so (repairs done). */
async function rejoin(a: CollabClient, b: CollabClient): Promise<WorkflowDefinition> {
  a.provider.connect();
  b.provider.connect();
  await waitSynced(a, b);
  let stableSince = 0;
  let last = "";
  await waitFor("both documents to agree and stay so", async () => {
    const [da, db] = [JSON.stringify(canonical(docDefinition(a.doc))), JSON.stringify(canonical(docDefinition(b.doc)))];
    if (da !== db) {
      stableSince = 0;
      return false;
    }
    if (da !== last) {
      last = da;
      stableSince = Date.now();
    }
    return Date.now() - stableSince > 400;
  }, 10_000);
  return docDefinition(a.doc);
}

describe("L12 renames made at the same time end consistent", () => {
  it("L12: two people rename the same step at once: one key wins, and every reference to it names that key", async () => {
    const workflowId = await createWorkflow(stack.url, user, BASE);
    const [a, b] = await twoClientsApart(workflowId);
    try {
      expect(renameStepKey(a.doc, "s_fetch", "load_user")).toBe(true);
      expect(renameStepKey(b.doc, "s_fetch", "get_customer")).toBe(true);
      const merged = await rejoin(a, b);
      const key = keyOf(merged, "s_fetch");
      expect(["load_user", "get_customer"]).toContain(key);
      const names = namesOf(merged);
      expect(references(merged).filter((name) => !names.has(name))).toEqual([]);
      expect(configOf(merged, "s_check").expression).toBe(CHECK.replace("steps.fetch", `steps.${key}`));
      expect(configOf(merged, "s_other").url).toBe(`https://example.com/{{ steps.${key}.output.id }}`);
      expect((configOf(merged, "s_route").cases as { expression: string }[])[0]!.expression).toBe(`steps.${key}.output.ok`);
      expect(merged.testCases?.[0]?.assertions[0]).toEqual({ kind: "jsonata", expression: `steps.${key}.output.status = 200` });
      await waitForStoredDefinition(stack.url, user.token, workflowId, merged);
    } finally {
      a.destroy();
      b.destroy();
    }
  }, 30_000);

  it("L12: two people give two steps the same key at once: the keys end unique, and each reference still names the step it meant", async () => {
    const workflowId = await createWorkflow(stack.url, user, BASE);
    const [a, b] = await twoClientsApart(workflowId);
    try {
      expect(renameStepKey(a.doc, "s_fetch", "user")).toBe(true);
      expect(renameStepKey(b.doc, "s_other", "user")).toBe(true);
      const merged = await rejoin(a, b);
      const fetchKey = keyOf(merged, "s_fetch");
      const otherKey = keyOf(merged, "s_other");
      expect(fetchKey).not.toBe(otherKey);
      expect([fetchKey, otherKey].sort()).toEqual(["user", "user_2"]);
      const names = namesOf(merged);
      expect(references(merged).filter((name) => !names.has(name))).toEqual([]);
      expect(configOf(merged, "s_check").expression).toBe(`steps.${fetchKey}.output.status = 200 and steps.${otherKey}.output.ok`);
      expect(configOf(merged, "s_fetch").url).toBe(`https://example.com/{{ steps.${otherKey}.output.id }}`);
      expect(configOf(merged, "s_other").url).toBe(`https://example.com/{{ steps.${fetchKey}.output.id }}`);
      expect((configOf(merged, "s_route").cases as { expression: string }[]).map((c) => c.expression)).toEqual([`steps.${fetchKey}.output.ok`, `steps.${otherKey}.output.ok`]);
      await waitForStoredDefinition(stack.url, user.token, workflowId, merged);
    } finally {
      a.destroy();
      b.destroy();
    }
  }, 30_000);
});

describe("L12 renames reach the test cases", () => {
  it("L12: renaming a key rewrites the test cases' JSONata predicates and a step target written by key; a target by id stays", () => {
    const definition = WorkflowDefinition.parse({
      ...BASE,
      testCases: [
        {
          id: "tc1",
          name: "Happy",
          input: { note: "steps.fetch is data, not a reference" },
          assertions: [
            { kind: "jsonata", expression: "steps.fetch.output.status = 200 and steps['fetch'].output.ok" },
            { kind: "equals", stepId: "fetch", expected: "steps.fetch" },
            { kind: "equals", stepId: "s_fetch", expected: 1 },
          ],
        },
      ],
    });
    const doc: Y.Doc = docFromDefinition(definition);
    expect(renameStepKey(doc, "s_fetch", "load_user")).toBe(true);
    const [testCase] = definitionFromDoc(doc).definition.testCases!;
    expect(testCase!.assertions).toEqual([
      { kind: "jsonata", expression: "steps.load_user.output.status = 200 and steps.load_user.output.ok" },
      { kind: "equals", stepId: "load_user", expected: "steps.fetch" },
      { kind: "equals", stepId: "s_fetch", expected: 1 },
    ]);
    expect(testCase!.input).toEqual({ note: "steps.fetch is data, not a reference" });
    // One transaction: one undo step takes the key and the test cases back together.
    expect(docMaps(doc).steps.get("s_fetch")!.get("key")).toBe("load_user");
  });
});
