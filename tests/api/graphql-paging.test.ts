/**
 * Relay paging over every connection in the schema (issue #13, defect 3), through urql (@urql/core): forwards
 * with `first` / `after` and backwards with `last` / `before` both walk the whole list in order, `startCursor` /
 * `endCursor` are the first and last edge's cursors (also on the last page), `hasNextPage` / `hasPreviousPage`
 * say whether more lies that way.
 */
import { Client, fetchExchange, gql as graphql } from "@urql/core";
import { storeMentionNotifications } from "@algorythmos/platform";
import { getNamedType, isObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { schema } from "../../server/graphql/schema.js";
import { createWorkflow, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;
let client: Client;
let workflowId: string;
const COUNT = 5;

interface Connection {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** Every connection field of Query, with the arguments that pick its list (filled in once the fixtures exist). */
const CONNECTIONS: Record<string, { args: () => string }> = {
  workflows: { args: () => `workspaceId: "${user.workspaceId}"` },
  runs: { args: () => `workflowId: "${workflowId}"` },
  notifications: { args: () => "" },
};

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Pager");
  client = new Client({ url: `${stack.url}/graphql`, exchanges: [fetchExchange], fetchOptions: { headers: { authorization: `Bearer ${user.token}` } } });
  const workflows = [];
  for (let i = 0; i < COUNT; i++) workflows.push(await createWorkflow(stack.url, user.token, user.workspaceId, `Paged ${i}`));
  workflowId = workflows[0]!.id;
  // The viewer's notifications: COUNT mentions of Pager by someone else, stored as a collab process stores them.
  for (let i = 0; i < COUNT; i++) {
    const created = await storeMentionNotifications(stack.deps.db, { workspaceId: user.workspaceId, workflowId }, { id: "usr_mentioner", name: "Mentioner" }, [
      { commentId: `cmt_paged_${i}`, threadId: `cmt_paged_${i}`, recipients: [user.userId], excerpt: `Look at this, @Pager (${i})` },
    ]);
    expect(created).toHaveLength(1);
  }
  for (let i = 0; i < COUNT; i++) {
    const started = await client.mutation(graphql`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }).toPromise();
    expect(started.error).toBeUndefined();
  }
});
afterAll(async () => {
  await stack?.close();
});

async function page(field: string, paging: string): Promise<Connection> {
  const query = `{ ${field}(${CONNECTIONS[field]!.args()} ${paging}) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
  const result = await client.query(query, {}).toPromise();
  if (result.error) throw new Error(`${field}(${paging}): ${result.error.message}`);
  return result.data[field] as Connection;
}

const ids = (connection: Connection) => connection.edges.map((edge) => edge.node.id);

function expectCursorsOfEdges(connection: Connection) {
  expect(connection.pageInfo.startCursor).toBe(connection.edges[0]?.cursor ?? null);
  expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
}

it("the test covers every connection of the schema", () => {
  const connections = Object.entries(schema.getQueryType()!.getFields())
    .filter(([, field]) => { const type = getNamedType(field.type); return isObjectType(type) && type.name.endsWith("Connection"); })
    .map(([name]) => name);
  expect(connections.sort()).toEqual(Object.keys(CONNECTIONS).sort());
});

describe.each(Object.keys(CONNECTIONS))("%s", (field) => {
  let all: string[];
  beforeAll(async () => {
    const whole = await page(field, "first: 100");
    all = ids(whole);
    expect(all).toHaveLength(COUNT);
    expect(whole.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expectCursorsOfEdges(whole);
  });

  it("forwards, two at a time: the whole list in order; endCursor set on every page, the last one included", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < COUNT; pages++) {
      const current: Connection = await page(field, `first: 2${after ? ` after: "${after}"` : ""}`);
      expectCursorsOfEdges(current);
      expect(current.pageInfo.endCursor).not.toBeNull();
      expect(current.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...ids(current));
      if (!current.pageInfo.hasNextPage) break;
      after = current.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
  });

  it("backwards, two at a time from the end: the whole list, each page in list order", async () => {
    const pages: string[][] = [];
    let before: string | null = null;
    for (let count = 0; count < COUNT; count++) {
      const current: Connection = await page(field, `last: 2${before ? ` before: "${before}"` : ""}`);
      expectCursorsOfEdges(current);
      expect(current.pageInfo.hasNextPage).toBe(before !== null);
      pages.unshift(ids(current));
      if (!current.pageInfo.hasPreviousPage) break;
      before = current.pageInfo.startCursor;
    }
    expect(pages.flat()).toEqual(all);
    expect(pages[0]).toHaveLength(1); // 5 = 1 + 2 + 2: the first page, reached last, holds what was left
  });

  it("last: 1 is the last item alone, with hasPreviousPage; first: 1 the first alone, with hasNextPage", async () => {
    const last = await page(field, "last: 1");
    expect(ids(last)).toEqual([all.at(-1)]);
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expectCursorsOfEdges(last);
    const first = await page(field, "first: 1");
    expect(ids(first)).toEqual([all[0]]);
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it("between two cursors: after the first and before the last, the three in the middle", async () => {
    const whole = await page(field, "first: 100");
    const middle = await page(field, `after: "${whole.edges[0]!.cursor}" before: "${whole.edges.at(-1)!.cursor}" last: 10`);
    expect(ids(middle)).toEqual(all.slice(1, -1));
    expect(middle.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it("first with last, a bad `last` or a made-up `before` → BAD_USER_INPUT", async () => {
    for (const paging of ["first: 1 last: 1", "last: 0", "last: 101", `last: 1 before: "not-a-cursor"`]) {
      const query = `{ ${field}(${CONNECTIONS[field]!.args()} ${paging}) { edges { cursor } } }`;
      const result = await client.query(query, {}).toPromise();
      expect(result.error?.graphQLErrors[0]?.extensions?.code, paging).toBe("BAD_USER_INPUT");
    }
  });
});
