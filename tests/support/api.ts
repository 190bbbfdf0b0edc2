/**
 * Helpers for the API integration tests (tests/api/*): GraphQL and REST calls that keep the HTTP status and
 * headers, error-code accessors, and small fixtures built through the public API only.
 */
import { request as httpRequest } from "node:http";
import type { Stack } from "../../scripts/stack.js";
import { startTestStack } from "./stack.js";

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, any>;
}
export interface GraphQLResult<Data = any> {
  status: number;
  headers: Headers;
  data?: Data | null;
  errors?: GraphQLError[];
}

/** POST /graphql as an API consumer; keeps the HTTP status and headers. */
export async function gql<Data = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<GraphQLResult<Data>> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...extraHeaders },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`POST /graphql answered ${response.status} with a non-JSON body: ${text.slice(0, 300)}`);
  }
  return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
}

/** The first error's extensions.code, or "OK" when the call succeeded without errors. */
export const codeOf = (result: { errors?: GraphQLError[] }) => (result.errors?.length ? String(result.errors[0]!.extensions?.code ?? "NO_CODE") : "OK");

/** Fails with the errors when a GraphQL call did not succeed; returns its data. */
export function ok<Data>(result: GraphQLResult<Data>): Data {
  if (result.errors?.length || !result.data) throw new Error(`GraphQL call failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export interface RestResult<Body = any> {
  status: number;
  headers: Headers;
  body: Body;
}

/** A REST call: JSON in (unless `raw` is given), JSON out (or the text when it is not JSON). */
export async function rest<Body = any>(
  url: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {},
): Promise<RestResult<Body>> {
  const headers: Record<string, string> = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...options.headers },
    body: options.json !== undefined ? JSON.stringify(options.json) : options.raw,
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // left as text
  }
  return { status: response.status, headers: response.headers, body };
}

/** A valid definition: a manual trigger followed by `extra` http.request steps (never run by these tests). */
export function definitionWith(name: string, extra: string[] = []) {
  return {
    schemaVersion: 1,
    name,
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      ...extra.map((id, index) => ({ id, type: "http.request", name: id, config: { method: "GET", url: `http://127.0.0.1:9/${id}` }, position: { x: 200 * (index + 1), y: 0 } })),
    ],
    edges: extra.map((id, index) => ({ id: `e-${id}`, source: index === 0 ? "start" : extra[index - 1]!, target: id })),
  };
}

let accountCount = 0;
export interface Account {
  token: string;
  refreshToken: string;
  email: string;
  password: string;
  userId: string;
  /** The workspace created with the account (its owner). */
  workspaceId: string;
}

/** Signs up a fresh account through GraphQL (each gets its own workspace). */
export async function signUp(url: string, name = "User"): Promise<Account> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]/g, "")}-${Date.now()}-${process.pid}-${accountCount++}@example.test`;
  const password = "correct horse battery";
  const signed = ok(
    await gql(url, `mutation($input: SignUpInput!) { signUp(input: $input) { token refreshToken user { id } } }`, { input: { email, password, name } }),
  );
  const me = ok(await gql(url, `{ me { workspaces { id role } } }`, {}, signed.signUp.token));
  return {
    token: signed.signUp.token,
    refreshToken: signed.signUp.refreshToken,
    email,
    password,
    userId: signed.signUp.user.id,
    workspaceId: me.me.workspaces[0].id,
  };
}

export async function invite(url: string, owner: Account, workspaceId: string, member: Account, role: "owner" | "editor" | "viewer") {
  ok(
    await gql(url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId, email: member.email, role } }, owner.token),
  );
}

export async function createWorkflow(url: string, token: string, workspaceId: string, name: string, definition: unknown = definitionWith(name)) {
  const data = ok(
    await gql(url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name definition } }`, { input: { workspaceId, name, definition } }, token),
  );
  return data.createWorkflow as { id: string; name: string; definition: any };
}

/**
 * Publishes the workflow's draft (publishWorkflow) so its webhook and cron triggers run it: they run only the
 * published version (R37). Returns the new version's id.
 */
export async function publishWorkflow(url: string, token: string, workflowId: string, message = "published by the test"): Promise<string> {
  const data = ok(
    await gql(
      url,
      `mutation($input: PublishWorkflowInput!) { publishWorkflow(input: $input) { version { id } } }`,
      { input: { workflowId, message } },
      token,
    ),
  );
  return data.publishWorkflow.version.id as string;
}

/** A second server instance sharing the first one's Redis prefix (so its queues, channels and rate limits). */
export function startSibling(first: Stack, options: Parameters<typeof startTestStack>[0] = { collab: false, worker: false }, overrides: Record<string, string> = {}) {
  return startTestStack(options, { ...overrides, REDIS_PREFIX: first.deps.env.REDIS_PREFIX });
}

/** Reads a text/event-stream response as GraphQL-over-SSE events ({ event, data }). */
export async function* sseEvents(response: Response): AsyncGenerator<{ event: string; data: any }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let boundary: number;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (!data.length && event === "message") continue; // keep-alive comments
        const text = data.join("\n");
        let parsed: any = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // left as text
        }
        yield { event, data: parsed };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * One HTTP request on a connection of its own (closed afterwards), for bodies a server may refuse before
 * reading them: the refused connection is never reused by a later request.
 */
export function requestOnce(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const request = httpRequest(
      url,
      { method: options.method, agent: false, headers: { ...options.headers, ...(body ? { "content-length": String(body.length) } : {}), connection: "close" } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          let parsed: any = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // left as text
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
