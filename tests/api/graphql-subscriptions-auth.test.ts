/**
 * Subscriptions' credentials and error shape (issue #13, defect 4), through the graphql-ws and graphql-sse
 * clients: a bad token is refused at `connection_init` (close 4403 with a reason, never `connection_ack`), and no
 * WebSocket or SSE error carries `extensions.http` (an HTTP status only Yoga's HTTP answers use).
 */
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Stack } from "../../scripts/stack.js";
import { gql, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Subscriber");
});
afterAll(async () => {
  await stack?.close();
});

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { type } }`;

function wsClient(token: string, events: { acknowledged: boolean; closed?: { code: number; reason: string } }): Client {
  return createWsClient({
    url: `${stack.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {}, // reported through `closed` and the subscription instead
    on: {
      connected: () => void (events.acknowledged = true),
      closed: (event) => void (events.closed = { code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }),
    },
  });
}

/** One subscription's outcome: its results, then the error (a list of GraphQL errors, or a close event) or completion. */
function outcome(client: Client, variables: Record<string, unknown>) {
  return new Promise<{ results: any[]; error?: unknown }>((resolve) => {
    const results: any[] = [];
    client.subscribe({ query: RUN_EVENTS, variables }, { next: (value) => void results.push(value), error: (error) => resolve({ results, error }), complete: () => resolve({ results }) });
  });
}

describe("graphql-ws", () => {
  it("a bad token: closed at connection_init with 4403 and a reason, never acknowledged", async () => {
    for (const token of ["not-a-token", `${user.token}x`]) {
      const events = { acknowledged: false } as { acknowledged: boolean; closed?: { code: number; reason: string } };
      const client = wsClient(token, events);
      const { results, error } = await outcome(client, { runId: "run_missing" });
      await client.dispose();
      expect(results).toEqual([]);
      expect(events.acknowledged).toBe(false);
      expect(events.closed).toMatchObject({ code: 4403, reason: expect.stringMatching(/token/i) });
      expect((error as CloseEvent).code).toBe(4403);
    }
  });

  it("a good token is acknowledged; a subscription's error has its path and code and no extensions.http", async () => {
    const events = { acknowledged: false } as { acknowledged: boolean; closed?: { code: number; reason: string } };
    const client = wsClient(user.token, events);
    try {
      const { error } = await outcome(client, { runId: "run_missing" });
      expect(events.acknowledged).toBe(true);
      const errors = error as { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
      expect(errors[0]).toMatchObject({ path: ["runEvents"], extensions: { code: "NOT_FOUND" } });
      expect(errors[0]!.extensions).not.toHaveProperty("http");
    } finally {
      await client.dispose();
    }
  });

  it("a session ended after connecting: the next subscribe is refused UNAUTHENTICATED, without extensions.http", async () => {
    const account = await signUp(stack.url, "Ending");
    const events = { acknowledged: false } as { acknowledged: boolean; closed?: { code: number; reason: string } };
    const client = wsClient(account.token, events);
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error("no connection_ack")), 5_000);
        client.on("connected", () => (clearTimeout(deadline), resolve()));
      });
      expect((await gql(stack.url, `mutation { endSession }`, {}, account.token)).data).toEqual({ endSession: true });
      const { results, error } = await outcome(client, { runId: "run_missing" });
      expect(results).toEqual([]);
      if (Array.isArray(error)) {
        expect(error[0].extensions).toMatchObject({ code: "UNAUTHENTICATED" });
        expect(error[0].extensions).not.toHaveProperty("http");
      } else {
        expect((error as CloseEvent).code).toBe(4401); // the ended session closed the socket first
      }
    } finally {
      await client.dispose();
    }
  });
});

describe("graphql-sse", () => {
  const sse = (token: string) =>
    createSseClient({ url: `${stack.url}/graphql`, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });

  async function sseOutcome(token: string) {
    const client = sse(token);
    try {
      return await new Promise<{ results: any[]; error?: unknown }>((resolve) => {
        const results: any[] = [];
        client.subscribe({ query: RUN_EVENTS, variables: { runId: "run_missing" } }, { next: (value) => void results.push(value), error: (error) => resolve({ results, error }), complete: () => resolve({ results }) });
      });
    } finally {
      client.dispose();
    }
  }

  it("a subscription's error: path, code, no extensions.http", async () => {
    const { results, error } = await sseOutcome(user.token);
    expect(error).toBeUndefined();
    expect(results).toHaveLength(1);
    expect(results[0].errors[0]).toMatchObject({ path: ["runEvents"], extensions: { code: "NOT_FOUND" } });
    expect(results[0].errors[0].extensions).not.toHaveProperty("http");
  });

  it("a bad token: refused with UNAUTHENTICATED, no extensions.http", async () => {
    const { results, error } = await sseOutcome("not-a-token");
    const text = JSON.stringify({ results, error: error instanceof Error ? { message: error.message, ...(error as object) } : error });
    expect(text).toMatch(/UNAUTHENTICATED|401/);
    expect(text).not.toContain('"http"');
  });
});
