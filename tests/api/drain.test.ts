/**
 * Server SIGTERM drains (issue #11 item 6): the real `server/main.ts` stops accepting, lets requests in
 * flight finish — a request whose body is still arriving, 20 `startRun` calls — closes WebSocket
 * subscriptions with 1001 Going Away (graphql-ws clients retry), and exits 0.
 */
import { createClient } from "graphql-ws";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createWorkflow, freePort, signUp, startServerProcess, withPg, type CollabProcess } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { graphql } from "../support/stack.js";

const DEFINITION = { name: "Drain", steps: [{ id: "trigger", type: "trigger.manual", name: "Start" }], edges: [] };
let server: CollabProcess | null = null;
afterAll(() => {
  server?.child.kill("SIGKILL");
});

/** Sends a GraphQL POST in two parts; the second part goes out after `between` ran. Resolves with the raw answer. */
function splitRequest(port: number, token: string, query: string, between: () => Promise<void>): Promise<string> {
  const body = JSON.stringify({ query });
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.on("error", (error) => resolve(`socket error: ${error.message}`));
    socket.on("close", () => resolve(answer || "closed with no answer"));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    void between().then(() => socket.write(body.slice(10)));
  });
}

describe("server SIGTERM", () => {
  it("requests in flight finish, runs started meanwhile are all created, subscriptions close with 1001, exit 0", async () => {
    const port = await freePort();
    server = await startServerProcess(testEnv(), port);
    const user = await signUp(server.url, "Drainer");
    const workflowId = await createWorkflow(server.url, user, DEFINITION);

    const closeCodes: number[] = [];
    const subscriptions = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { token: user.token },
      retryAttempts: 0,
      on: { closed: (event) => closeCodes.push((event as { code: number }).code) },
    });
    const subscribed = new Promise<void>((resolve) => {
      subscriptions.subscribe({ query: `subscription($id: ID!) { workflowRuns(workflowId: $id) { type } }`, variables: { id: workflowId } }, { next: () => {}, error: () => {}, complete: () => {} });
      subscriptions.on("connected", () => setTimeout(resolve, 300));
    });
    await subscribed;

    const exited = server.exited;
    const starts = Array.from({ length: 20 }, () =>
      graphql(server!.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`, { input: { workflowId } }, user.token).catch(
        (error: Error & { cause?: { code?: string } }) => ({ errors: [{ message: `request failed: ${error.cause?.code ?? error.message}` }] }),
      ),
    );
    const halfSent = splitRequest(port, user.token, "{ me { id } }", async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      server!.child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 500));
    });

    const answers = await Promise.all(starts);
    // A call the server had not read before the SIGTERM is refused or reset (nothing happened: the client
    // retries); a call it had read is answered — never cut after its run was created.
    const failed = answers.filter((answer) => answer.errors).map((answer) => answer.errors![0]!.message);
    const created = answers.flatMap((answer) => ((answer as { data?: { startRun: { id: string } } }).data ? [(answer as { data: { startRun: { id: string } } }).data.startRun.id] : []));
    const stored = await withPg(testEnv().DATABASE_URL, (client) => client.query<{ id: string }>(`SELECT id FROM "Run" WHERE "workflowId" = $1`, [workflowId]));
    expect(stored.rows.map((row) => row.id).sort()).toEqual(created.sort());
    console.log(`drain: ${created.length} of 20 startRun calls answered, ${failed.length} refused before the server read them (${failed.join(", ")}), 0 cut after their run was created`);
    expect(created.length).toBeGreaterThan(0);
    const raw = await halfSent;
    expect(raw.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(raw).toContain(`"me":{"id":"${user.userId}"}`);
    const code = await exited;
    expect(code).toBe(0);
    expect(closeCodes).toEqual([1001]);
    await subscriptions.dispose();
  }, 60_000);
});
