import { createLogger } from "@algorythmos/platform";
import { createClient, type Client } from "graphql-ws";
import { createServer, type Server } from "node:http";
import WebSocket from "ws";
import { startStack, type Stack, type StackOptions } from "../../scripts/stack.js";
import { testEnv } from "./env.js";
import { listenOnLoopback } from "./http.js";

/** The studio's processes in this test process, on a free port, on the test database and a fresh Redis prefix. */
export async function startTestStack(options: StackOptions = {}, envOverrides: Record<string, string> = {}): Promise<Stack> {
  const env = testEnv(envOverrides);
  return startStack(env, createLogger("test", env.LOG_LEVEL), { studio: false, ...options });
}

/** A GraphQL call over HTTP, as an API consumer makes it. */
export async function graphql<Data = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ data?: Data; errors?: { message: string; extensions?: Record<string, any> }[] }> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json() as never;
}

let userCount = 0;
/** Signs up a fresh user (with their own workspace) and returns their token and workspace id. */
export async function signUpUser(url: string, name = "Ada") {
  const email = `${name.toLowerCase()}-${Date.now()}-${userCount++}@example.test`;
  const signed = await graphql(url, `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }`, {
    input: { email, password: "correct horse battery", name },
  });
  if (!signed.data) throw new Error(JSON.stringify(signed.errors));
  const token: string = signed.data.signUp.token;
  const me = await graphql(url, `{ me { workspaces { id } } }`, {}, token);
  return { token, email, userId: signed.data.signUp.user.id as string, workspaceId: me.data.me.workspaces[0].id as string };
}

export function graphqlWsClient(url: string, token: string): Client {
  return createClient({ url: url.replace(/^http/, "ws") + "/graphql", webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0 });
}

/** A local HTTP endpoint for http.request steps; records what it was asked. */
export async function startEchoServer(): Promise<{ url: string; requests: { method: string; url: string }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string }[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? "", url: request.url ?? "" });
    const status = request.url?.startsWith("/fail") ? 500 : 200;
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ ok: status === 200, path: request.url }));
  });
  const { url, close } = await listenOnLoopback(server);
  return { url, requests, close };
}

/** Polls until `check` returns a value, failing with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
