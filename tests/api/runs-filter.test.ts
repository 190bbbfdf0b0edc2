/**
 * #17 runs list filters through the API: GraphQL `runs(status, createdAfter, createdBefore, search)` and
 * `GET /api/runs?…` (the same service, the same rules): status, a creation-time range, a search by exact run id
 * or by text in the run's input (case-insensitive, wildcards taken literally), with paging; bad filters get a
 * 4xx naming the argument; the old arguments still work; outsiders get NOT_FOUND.
 * The runs are queued on a stack without a worker; their statuses and times are then set in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, definitionWith, gql, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let ada: Account;
let workflowId: string;
const runIds: Record<string, string> = {};

const RUNS = `query($workflowId: ID!, $first: Int, $after: String, $status: RunStatus, $createdAfter: DateTime, $createdBefore: DateTime, $search: String) {
  runs(workflowId: $workflowId, first: $first, after: $after, status: $status, createdAfter: $createdAfter, createdBefore: $createdBefore, search: $search) {
    edges { node { id status } } pageInfo { hasNextPage endCursor }
  }
}`;
const ids = async (variables: Record<string, unknown>, token = ada.token) => {
  const data = ok(await gql(stack.url, RUNS, { workflowId, ...variables }, token));
  return data.runs.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
};

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  ada = await signUp(stack.url, "Ada");
  workflowId = (await createWorkflow(stack.url, ada.token, ada.workspaceId, "Filters", definitionWith("Filters"))).id;
  const fixtures = [
    { key: "lovelace", input: { customer: "Ada Lovelace", plan: "pro" }, status: "succeeded", day: "2026-11-01" },
    { key: "hopper", input: { customer: "Grace Hopper", note: "100% done" }, status: "failed", day: "2026-11-15" },
    { key: "turing", input: { customer: "Alan Turing" }, status: "canceled", day: "2026-11-20" },
    { key: "recent", input: { customer: "Ada Byron" }, status: "succeeded", day: "2026-11-28" },
  ];
  for (const fixture of fixtures) {
    const started = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: fixture.input } }, ada.token));
    runIds[fixture.key] = started.startRun.id;
    await stack.deps.db.run.update({ where: { id: started.startRun.id }, data: { status: fixture.status as never, createdAt: new Date(`${fixture.day}T12:00:00Z`) } });
  }
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe("runs list filters (GraphQL runs, REST GET /api/runs)", () => {
  it("filters by status and by a creation-time range (after inclusive, before exclusive), newest first", async () => {
    expect(await ids({})).toEqual([runIds.recent, runIds.turing, runIds.hopper, runIds.lovelace]); // the old arguments alone
    expect(await ids({ status: "succeeded" })).toEqual([runIds.recent, runIds.lovelace]);
    expect(await ids({ createdAfter: "2026-11-15T12:00:00Z", createdBefore: "2026-11-28T12:00:00Z" })).toEqual([runIds.turing, runIds.hopper]);
    expect(await ids({ createdAfter: "2026-11-10T00:00:00Z", status: "failed" })).toEqual([runIds.hopper]);
  });

  it("searches by exact run id, or by text in the input (case-insensitive, % and _ taken literally), with paging", async () => {
    expect(await ids({ search: runIds.turing })).toEqual([runIds.turing]);
    expect(await ids({ search: "ada" })).toEqual([runIds.recent, runIds.lovelace]);
    expect(await ids({ search: "LOVELACE" })).toEqual([runIds.lovelace]);
    expect(await ids({ search: "100%" })).toEqual([runIds.hopper]);
    expect(await ids({ search: "%" })).toEqual([runIds.hopper]); // not "everything"
    expect(await ids({ search: "a_a" })).toEqual([]);
    expect(await ids({ search: "ada", status: "succeeded", createdBefore: "2026-11-20T00:00:00Z" })).toEqual([runIds.lovelace]);
    expect(await ids({ search: "   " })).toHaveLength(4); // blank is no search

    const first = ok(await gql(stack.url, RUNS, { workflowId, search: "ada", first: 1 }, ada.token)).runs;
    expect(first.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([runIds.recent]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(await ids({ search: "ada", first: 1, after: first.pageInfo.endCursor })).toEqual([runIds.lovelace]);
  });

  it("answers bad filters with BAD_USER_INPUT naming the argument, over GraphQL and REST (400)", async () => {
    const reversed = await gql(stack.url, RUNS, { workflowId, createdAfter: "2026-11-20T00:00:00Z", createdBefore: "2026-11-01T00:00:00Z" }, ada.token);
    expect(codeOf(reversed)).toBe("BAD_USER_INPUT");
    expect(reversed.errors![0]!.message).toContain("createdAfter must be earlier than createdBefore");
    const long = await gql(stack.url, RUNS, { workflowId, search: "x".repeat(201) }, ada.token);
    expect(codeOf(long)).toBe("BAD_USER_INPUT");
    expect(long.errors![0]!.message).toContain("search must be at most 200 characters");
    // Values the schema's types refuse: a DateTime (BAD_USER_INPUT), a RunStatus (GraphQL's own enum error).
    const badDate = await gql(stack.url, RUNS, { workflowId, createdAfter: "yesterday" }, ada.token);
    expect(codeOf(badDate)).toBe("BAD_USER_INPUT");
    expect(badDate.errors![0]!.message).toContain("DateTime must be an ISO-8601 string");
    const badStatus = await gql(stack.url, RUNS, { workflowId, status: "done" }, ada.token);
    expect(badStatus.data?.runs ?? null).toBeNull();
    expect(badStatus.errors![0]!.message).toContain(`Value "done" does not exist in "RunStatus"`);

    const listed = await rest(stack.url, "GET", `/api/runs?workflowId=${workflowId}&status=failed&createdAfter=2026-11-10T00:00:00Z&search=grace`, { token: ada.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([runIds.hopper]);
    const badRestDate = await rest(stack.url, "GET", `/api/runs?workflowId=${workflowId}&createdAfter=yesterday`, { token: ada.token });
    expect(badRestDate.status).toBe(400);
    expect(JSON.stringify(badRestDate.body)).toContain("createdAfter must be an ISO 8601 date-time");
    const badRange = await rest(stack.url, "GET", `/api/runs?workflowId=${workflowId}&createdAfter=2026-11-20T00:00:00Z&createdBefore=2026-11-20T00:00:00Z`, { token: ada.token });
    expect(badRange.status).toBe(400);
    expect(JSON.stringify(badRange.body)).toContain("createdAfter must be earlier than createdBefore");
  });

  it("gives outsiders NOT_FOUND, with or without filters", async () => {
    const eve = await signUp(stack.url, "Eve");
    expect(codeOf(await gql(stack.url, RUNS, { workflowId, search: "ada" }, eve.token))).toBe("NOT_FOUND");
    expect((await rest(stack.url, "GET", `/api/runs?workflowId=${workflowId}&search=ada`, { token: eve.token })).status).toBe(404);
  });
});
