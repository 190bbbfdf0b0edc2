/**
 * The walking skeleton through every process, as an API consumer drives it: sign up, create a workflow,
 * co-edit it over y-websocket, run it on the worker, follow the run over a GraphQL subscription.
 */
import { docMaps, readTextValue } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { graphql, graphqlWsClient, signUpUser, startEchoServer, startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

beforeAll(async () => {
  [stack, echo] = await Promise.all([startTestStack({ collab: true, worker: true }), startEchoServer()]);
});
afterAll(async () => {
  await stack?.close();
  await echo?.close();
});

const httpWorkflow = (url: string) => ({
  schemaVersion: 1,
  name: "Ping",
  description: "",
  steps: [
    { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
    { id: "ping", type: "http.request", name: "Ping", config: { method: "GET", url }, position: { x: 200, y: 0 } },
  ],
  edges: [{ id: "e1", source: "start", target: "ping" }],
});

const CREATE = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name definition problems { code } } }`;

describe("walking skeleton", () => {
  it("health answers 200 with the state of the database and Redis", async () => {
    const response = await fetch(`${stack.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", database: "ok", redis: "ok" });
  });

  it("signs up, logs in and rejects a wrong password with a clear error", async () => {
    const user = await signUpUser(stack.url);
    const ok = await graphql(stack.url, `mutation($input: LogInInput!) { logIn(input: $input) { token user { email } } }`, {
      input: { email: user.email, password: "correct horse battery" },
    });
    expect(ok.data.logIn.user.email).toBe(user.email);
    const wrong = await graphql(stack.url, `mutation($input: LogInInput!) { logIn(input: $input) { token } }`, {
      input: { email: user.email, password: "wrong password!" },
    });
    expect(wrong.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("runs a one-step HTTP workflow on the worker and streams its status over a subscription", async () => {
    const user = await signUpUser(stack.url);
    const created = await graphql(stack.url, CREATE, { input: { workspaceId: user.workspaceId, name: "Ping", definition: httpWorkflow(`${echo.url}/hello`) } }, user.token);
    expect(created.errors).toBeUndefined();
    const workflowId = created.data.createWorkflow.id;

    const started = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`, { input: { workflowId, input: { who: "ci" } } }, user.token);
    expect(started.errors).toBeUndefined();
    const runId = started.data.startRun.id;

    const client = graphqlWsClient(stack.url, user.token);
    const events: { type: string; status: string; stepId: string | null; attempt: number | null }[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: `subscription($runId: ID!) { runEvents(runId: $runId) { type status stepId seq attempt } }`, variables: { runId } },
        { next: (message) => events.push((message.data as any).runEvents), error: reject, complete: resolve },
      );
    });
    await client.dispose();

    expect(events.map((event) => event.type)).toContain("RUN_FINISHED");
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", status: "succeeded" });
    expect(events.some((event) => event.type === "STEP_SUCCEEDED" && event.stepId === "ping" && event.attempt === 1)).toBe(true);
    expect(echo.requests.some((request) => request.url === "/hello")).toBe(true);

    const run = await graphql(stack.url, `query($id: ID!) { run(id: $id) { status input steps { stepId status output } } }`, { id: runId }, user.token);
    expect(run.data.run.status).toBe("succeeded");
    expect(run.data.run.input).toEqual({ who: "ci" });
    const ping = run.data.run.steps.find((step: any) => step.stepId === "ping");
    expect(ping).toMatchObject({ status: "succeeded", output: { status: 200, body: { ok: true, path: "/hello" } } });
  });

  it("refuses to start a run of an invalid workflow and says why", async () => {
    const user = await signUpUser(stack.url);
    const created = await graphql(stack.url, CREATE, { input: { workspaceId: user.workspaceId, name: "Broken", definition: { ...httpWorkflow("x"), steps: [] , edges: [] } } }, user.token);
    const workflowId = created.data.createWorkflow.id;
    const started = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: {} } }, user.token);
    expect(started.errors?.[0]?.message).toMatch(/trigger/i);
  });

  it("two y-websocket clients see each other's name edits live, and the edit reaches the stored definition", async () => {
    const user = await signUpUser(stack.url);
    const created = await graphql(stack.url, CREATE, { input: { workspaceId: user.workspaceId, name: "Shared", definition: httpWorkflow(`${echo.url}/x`) } }, user.token);
    const workflowId = created.data.createWorkflow.id;
    const connect = () => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(stack.url.replace(/^http/, "ws") + "/collab", workflowId, doc, {
        WebSocketPolyfill: WebSocket as never,
        params: { token: user.token },
        disableBc: true,
      });
      return { doc, provider };
    };
    const a = connect();
    const b = connect();
    try {
      await waitFor("both clients synced", async () => a.provider.synced && b.provider.synced);
      expect(readTextValue(docMaps(b.doc).meta.get("name"))).toBe("Shared");
      docMaps(a.doc).meta.set("name", "Renamed live");
      await waitFor("b to see a's edit", async () => docMaps(b.doc).meta.get("name") === "Renamed live");
      await waitFor("the stored definition to follow", async () => {
        const workflow = await graphql(stack.url, `query($id: ID!) { workflow(id: $id) { name } }`, { id: workflowId }, user.token);
        return workflow.data.workflow.name === "Renamed live";
      });
    } finally {
      a.provider.destroy();
      b.provider.destroy();
    }
  });

  it("a bad token cannot open a workflow document", async () => {
    const user = await signUpUser(stack.url);
    const created = await graphql(stack.url, CREATE, { input: { workspaceId: user.workspaceId, name: "Private" } }, user.token);
    const socket = new WebSocket(`${stack.url.replace(/^http/, "ws")}/collab/${created.data.createWorkflow.id}?token=not-a-token`);
    const code = await new Promise<number>((resolve) => socket.on("close", (closeCode) => resolve(closeCode)));
    expect(code).toBe(4401);
  });

  it("REST: login, list workflows, and a 401 without a token", async () => {
    const user = await signUpUser(stack.url);
    const login = await fetch(`${stack.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email, password: "correct horse battery" }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    await graphql(stack.url, CREATE, { input: { workspaceId: user.workspaceId, name: "Listed" } }, token);
    const list = await fetch(`${stack.url}/api/workflows?workspaceId=${user.workspaceId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { items: { name: string }[]; nextCursor: string | null };
    expect(body.items.map((item) => item.name)).toContain("Listed");
    const anonymous = await fetch(`${stack.url}/api/workflows?workspaceId=${user.workspaceId}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
  });
});
