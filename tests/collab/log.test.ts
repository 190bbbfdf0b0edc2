/** The ordered collab log (packages/platform/src/workflow-docs.ts, docs/collab.md C6), against real PostgreSQL. */
import { appendWorkflowUpdates, compactWorkflowDoc, createDb, loadWorkflowState, readWorkflowLogSince, workflowLogHeads, type Db } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, signUp, type TestUser } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let db: Db;
let user: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  db = createDb(testEnv().DATABASE_URL);
  user = await signUp(stack.url, "Logger");
});
afterAll(async () => {
  await db?.$disconnect();
  await stack?.close();
});

/** A one-key update, as a client's edit would be. */
function edit(key: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap("log").set(key, key);
  return Y.encodeStateAsUpdate(doc);
}

describe("the ordered log", () => {
  it("C6: 8 concurrent writers × 25 appends to one workflow take seqs 1…N with no gap and no duplicate, each batch contiguous", async () => {
    const workflowId = await createWorkflow(stack.url, user, { name: "Seq" });
    const writers = Array.from({ length: 8 }, (_, writer) =>
      (async () => {
        const ranges = [];
        for (let i = 0; i < 25; i++) ranges.push(await appendWorkflowUpdates(db, workflowId, [edit(`${writer}-${i}`), edit(`${writer}-${i}b`)]));
        return ranges;
      })(),
    );
    const ranges = (await Promise.all(writers)).flat();
    for (const range of ranges) expect(range!.last - range!.first).toBe(1);
    const rows = await db.workflowUpdate.findMany({ where: { workflowId }, orderBy: { seq: "asc" }, select: { seq: true } });
    expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect((await workflowLogHeads(db, [workflowId])).get(workflowId)).toBe(400);
  });

  it("C6: appending to a workflow that does not exist stores nothing and says so", async () => {
    expect(await appendWorkflowUpdates(db, "wf_missing", [edit("x")])).toBeNull();
    expect(await db.workflowUpdate.count({ where: { workflowId: "wf_missing" } })).toBe(0);
    expect((await workflowLogHeads(db, ["wf_missing"])).has("wf_missing")).toBe(false);
  });

  it("C7: reading after a seq gives exactly the missing updates, and the compacted state once they were compacted away", async () => {
    const workflowId = await createWorkflow(stack.url, user, { name: "Since" });
    for (const key of ["a", "b", "c"]) await appendWorkflowUpdates(db, workflowId, [edit(key)]);
    const loaded = await loadWorkflowState(db, workflowId);
    expect(loaded!.headSeq).toBe(3);

    const fromOne = await readWorkflowLogSince(db, workflowId, 1);
    expect(fromOne!.snapshot).toBeNull();
    expect(fromOne!.updates).toHaveLength(2);
    expect(fromOne!.headSeq).toBe(3);

    await compactWorkflowDoc(db, workflowId);
    await appendWorkflowUpdates(db, workflowId, [edit("d")]);
    const afterCompaction = await readWorkflowLogSince(db, workflowId, 1);
    expect(afterCompaction!.snapshot).not.toBeNull();
    expect(afterCompaction!.headSeq).toBe(4);
    const doc = new Y.Doc();
    for (const part of [afterCompaction!.snapshot!, ...afterCompaction!.updates]) Y.applyUpdate(doc, part);
    expect([...doc.getMap("log").keys()].sort()).toEqual(["a", "b", "c", "d"]);

    const upToDate = await readWorkflowLogSince(db, workflowId, 4);
    expect(upToDate).toEqual({ updates: [], snapshot: null, headSeq: 4 });
    expect((await loadWorkflowState(db, workflowId))!.headSeq).toBe(4);
  });
});
