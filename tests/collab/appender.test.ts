/** The process-wide group commit of document updates (collab/appender.ts), against real PostgreSQL. */
import { createDb, createLogger, type Db } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpdateAppender } from "../../collab/appender.js";
import { testEnv } from "../support/env.js";
import { graphql, signUpUser, startTestStack } from "../support/stack.js";
import type { Stack } from "../../scripts/stack.js";

let stack: Stack;
let db: Db;
let workflowIds: string[];

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  db = createDb(testEnv().DATABASE_URL);
  const user = await signUpUser(stack.url);
  workflowIds = [];
  for (const name of ["one", "two"]) {
    const created = await graphql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: user.workspaceId, name } }, user.token);
    workflowIds.push(created.data.createWorkflow.id);
  }
});
afterAll(async () => {
  await db?.$disconnect();
  await stack?.close();
});

const countFor = (workflowId: string) => db.workflowUpdate.count({ where: { workflowId } });

describe("UpdateAppender", () => {
  it("appends concurrent rooms' updates, and one room's failure fails only that room", async () => {
    const appender = new UpdateAppender(db, createLogger("test", "silent"));
    const [one, two] = workflowIds as [string, string];
    const before = [await countFor(one), await countFor(two)];
    // The first append starts an insert; the next two wait and go together in one combined insert,
    // which fails on the missing workflow, so each is retried alone.
    const results = await Promise.allSettled([
      appender.append([{ workflowId: one, update: new Uint8Array([1]) }]),
      appender.append([{ workflowId: "wf_missing", update: new Uint8Array([2]) }]),
      appender.append([{ workflowId: two, update: new Uint8Array([3]) }, { workflowId: two, update: new Uint8Array([4]) }]),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect([await countFor(one), await countFor(two)]).toEqual([before[0]! + 1, before[1]! + 2]);
  });
});
