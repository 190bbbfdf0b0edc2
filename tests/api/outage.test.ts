/**
 * Outages answer 503 with Retry-After (SERVICE_UNAVAILABLE) on REST and GraphQL — never a 500 or a masked
 * "Unexpected error." (issue #11 item 8). PostgreSQL and Redis are reached through loopback TCP proxies the
 * test cuts: to the server, the service is down; the machine's own services keep running.
 */
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
