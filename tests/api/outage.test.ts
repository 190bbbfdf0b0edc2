/**
 * Outages answer 503 with Retry-After (SERVICE_UNAVAILABLE) on REST and GraphQL — never a 500 or a masked
 * "Unexpected error." (issue #11 item 8). PostgreSQL and Redis are reached through loopback TCP proxies the
 * test cuts: to the server, the service is down; the machine's own services keep running.
 */
import { isOutage } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { testEnv } from "../support/env.js";
import { signUpUser, startTestStack, waitFor } from "../support/stack.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let stack: Stack;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let token: string;

beforeAll(async () => {
  const env = testEnv();
  const pgUrl = new URL(env.DATABASE_URL);
  const redisUrl = new URL(env.REDIS_URL);
  pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  stack = await startTestStack({ collab: false, worker: false }, { DATABASE_URL: pgProxy.url(env.DATABASE_URL), REDIS_URL: redisProxy.url(env.REDIS_URL) });
  ({ token } = await signUpUser(stack.url, "Outage"));
});
afterAll(async () => {
  await pgProxy?.restore();
  await redisProxy?.restore();
  await stack?.close();
  await pgProxy?.close();
  await redisProxy?.close();
});

const graphqlCall = () =>
  fetch(`${stack.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ me { id workspaces { id } } }" }),
  });
const restCall = () => fetch(`${stack.url}/api/workflows`, { headers: { authorization: `Bearer ${token}` } });

async function expectUnavailable(response: Response) {
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[]; error?: { code: string; message: string } };
  expect(response.status, JSON.stringify(body)).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  const code = body.errors?.[0]?.extensions?.code ?? body.error?.code;
  const message = body.errors?.[0]?.message ?? body.error?.message ?? "";
  expect(code).toBe("SERVICE_UNAVAILABLE");
  expect(message).not.toMatch(/unexpected error/i);
  expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+|prisma/i); // nothing internal leaks
}

describe("outages are retryable answers", () => {
  for (const [name, proxy] of [["PostgreSQL", () => pgProxy], ["Redis", () => redisProxy]] as const) {
    it(`${name} down: GraphQL and REST answer 503 SERVICE_UNAVAILABLE with Retry-After; back up: 200 again`, async () => {
      expect((await graphqlCall()).status).toBe(200);
      await proxy().cut();
      try {
        await expectUnavailable(await graphqlCall());
        await expectUnavailable(await restCall());
      } finally {
        await proxy().restore();
      }
      await waitFor(`the API to answer again after ${name} is back`, async () => (await graphqlCall()).status === 200, 15_000);
      expect((await restCall()).status).toBe(200);
    }, 60_000);
  }
});

describe("isOutage knows the shapes a PostgreSQL restart and a Redis outage produce", () => {
  // Shapes seen here: pg_terminate_backend (what an immediate restart does), a restart in progress, a cut pool.
  const adapterError = (originalCode: string, message: string) =>
    Object.assign(new Error(`Raw query failed. Code: \`${originalCode}\``), { name: "PrismaClientKnownRequestError", code: "P2010", meta: { driverAdapterError: { name: "DriverAdapterError", cause: { originalCode, kind: "postgres", message } } } });
  const outages: [string, unknown][] = [
    ["raw query on a terminated connection (57P01)", adapterError("57P01", "terminating connection due to administrator command")],
    ["the database starting up (57P03)", adapterError("57P03", "the database system is starting up")],
    ["a connection exception (08006)", adapterError("08006", "connection failure")],
    ["a model query on a terminated connection", Object.assign(new Error("terminating connection due to administrator command"), { name: "DriverAdapterError", cause: { kind: "postgres", code: "57P01" } })],
    ["an interactive transaction whose connection died (P2028)", Object.assign(new Error("Transaction API error: Transaction already closed"), { code: "P2028" })],
    ["pg: connection terminated", new Error("Connection terminated unexpectedly")],
    ["unreachable (P1001)", Object.assign(new Error(""), { code: "P1001", meta: { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } } })],
    ["ioredis gave up", Object.assign(new Error("Reached the max retries per request limit (which is 3)."), { name: "MaxRetriesPerRequestError" })],
    ["ioredis closed", new Error("Connection is closed.")],
    ["refused", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
  ];
  const bugs: [string, unknown][] = [
    ["a unique violation", Object.assign(new Error("Unique constraint failed"), { code: "P2002" })],
    ["a missing table (42P01)", adapterError("42P01", 'relation "x" does not exist')],
    ["a type error", new TypeError("Cannot read properties of undefined")],
  ];
  for (const [name, error] of outages) it(`outage: ${name}`, () => expect(isOutage(error)).toBe(true));
  for (const [name, error] of bugs) it(`not an outage: ${name}`, () => expect(isOutage(error)).toBe(false));
});
