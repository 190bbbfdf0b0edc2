/**
 * The suite talks to the servers only through their public API (GraphQL over HTTP, graphql-ws), as an API
 * consumer would, and reads PostgreSQL directly only to count what was committed.
 */
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";

export interface CallResult<Data = any> {
  /** "OK", or what went wrong: `HTTP 503 SERVICE_UNAVAILABLE`, `network ECONNRESET`, ... */
  outcome: string;
  data?: Data;
  status?: number;
  retryAfter?: string | null;
  message?: string;
}

/** One GraphQL call over HTTP; never throws, the outcome says what happened. */
export async function call<Data = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string, timeoutMs = 15_000): Promise<CallResult<Data>> {
  let response: Response;
  try {
    response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const name = (error as Error).name === "TimeoutError" ? "timeout" : cause?.code ?? (error as Error).message;
    return { outcome: `network ${name}` };
  }
  const text = await response.text().catch(() => "");
  let body: { data?: Data; errors?: { message: string; extensions?: { code?: string } }[]; error?: { code?: string; message?: string } } = {};
  try {
    body = JSON.parse(text);
  } catch {
    return { outcome: `HTTP ${response.status} non-JSON`, status: response.status, message: text.slice(0, 200) };
  }
  const retryAfter = response.headers.get("retry-after");
  if (body.errors?.length) {
    const first = body.errors[0]!;
    const code = first.extensions?.code ?? (first.message === "Unexpected error." ? "MASKED" : "NO_CODE");
    const noRetryAfter = response.status === 503 && !retryAfter ? " without Retry-After" : "";
    return { outcome: `HTTP ${response.status} ${code}${noRetryAfter}`, status: response.status, retryAfter, message: first.message, data: body.data };
  }
  if (!response.ok) {
    // A middleware in front of GraphQL (rate limit, body limit) answers in the REST error shape.
    const noRetryAfter = response.status === 503 && !retryAfter ? " without Retry-After" : "";
    return { outcome: `HTTP ${response.status}${body.error?.code ? ` ${body.error.code}` : ""}${noRetryAfter}`, status: response.status, retryAfter, message: body.error?.message };
  }
  return { outcome: "OK", status: response.status, data: body.data };
}

export async function mustCall<Data = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Data> {
  const result = await call<Data>(url, query, variables, token);
  if (result.outcome !== "OK") throw new Error(`GraphQL call failed (${result.outcome}): ${result.message ?? ""}`);
  return result.data!;
}

export interface User {
  token: string;
  email: string;
  userId: string;
  workspaceId: string;
}

let users = 0;
export async function signUp(url: string, name: string): Promise<User> {
  const email = `${name.toLowerCase()}-${Date.now()}-${users++}@chaos.test`;
  const signed = await mustCall(url, `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }`, {
    input: { email, password: "correct horse battery staple", name },
  });
  const token: string = signed.signUp.token;
  const me = await mustCall(url, `{ me { workspaces { id } } }`, {}, token);
  return { token, email, userId: signed.signUp.user.id, workspaceId: me.me.workspaces[0].id };
}

export async function invite(url: string, owner: User, member: User, role: "editor" | "viewer") {
  await mustCall(url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId: owner.workspaceId, email: member.email, role } }, owner.token);
}

export async function createWorkflow(url: string, user: User, definition: { name: string } & Record<string, unknown>): Promise<string> {
  const created = await mustCall(url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { workspaceId: user.workspaceId, name: definition.name, definition },
  }, user.token);
  return created.createWorkflow.id;
}

/** The answer an outage must get (issue #11): a retryable 503 SERVICE_UNAVAILABLE with Retry-After. */
export const RETRYABLE_OUTAGE = "HTTP 503 SERVICE_UNAVAILABLE";

export const START_RUN = `mutation($input: StartRunInput!) { startRun(input: $input) { id status } }`;

/** A workflow with no steps but a trigger (scenarios that edit need one whose steps map they can grow). */
export function emptyDefinition(name: string) {
  return {
    schemaVersion: 1,
    name,
    description: "",
    steps: [{ id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } }],
    edges: [],
  };
}

/**
 * trigger → transform → http.request (POST to the counting server, tagged with the run's input) → condition,
 * the chain of scenario 1. `path` lets a scenario slow the call down (`/effect?delayMs=…`).
 */
export function effectDefinition(name: string, countingUrl: string, query = "") {
  return {
    schemaVersion: 1,
    name,
    description: "",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      { id: "shape", type: "transform", name: "Shape", config: { expression: "input.tag" }, position: { x: 200, y: 0 } },
      {
        id: "call",
        type: "http.request",
        name: "Call",
        config: { method: "POST", url: `${countingUrl}/effect?tag={{ input.tag }}${query}`, headers: { "content-type": "application/json" }, body: { tag: "{{ steps.shape.output }}" } },
        position: { x: 400, y: 0 },
      },
      { id: "check", type: "condition", name: "Check", config: { expression: "steps.call.output.status = 200" }, position: { x: 600, y: 0 } },
    ],
    edges: [
      { id: "e1", source: "start", target: "shape" },
      { id: "e2", source: "shape", target: "call" },
      { id: "e3", source: "call", target: "check" },
    ],
  };
}

export function graphqlWs(url: string, token: string, onClose?: (code: number) => void): Client {
  return createClient({
    url: url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { token },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => onClose?.((event as { code?: number })?.code ?? 0) },
  });
}

// ---------- what PostgreSQL holds ----------

export async function withPg<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export const FINAL = new Set(["succeeded", "failed", "canceled"]);

export interface RunFacts {
  statuses: Map<string, string>;
  /** Runs with more than one succeeded RunStep row for one step. */
  duplicateSteps: number;
  /** Final runs whose event log has no run.finished (or no run.started). */
  finalWithoutEvents: number;
  /** Why runs that did not succeed ended as they did (Run.error), for the notes. */
  errors: string[];
}

export async function runFacts(databaseUrl: string, runIds: string[]): Promise<RunFacts> {
  return withPg(databaseUrl, async (client) => {
    const statuses = new Map<string, string>();
    const rows = await client.query<{ id: string; status: string }>(`SELECT id, status::text FROM "Run" WHERE id = ANY($1)`, [runIds]);
    for (const row of rows.rows) statuses.set(row.id, row.status);
    const duplicates = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT "runId", "stepId" FROM "RunStep" WHERE "runId" = ANY($1) AND status = 'succeeded' GROUP BY 1, 2 HAVING count(*) > 1) d`,
      [runIds],
    );
    const missing = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "Run" r WHERE r.id = ANY($1) AND r.status::text IN ('succeeded','failed','canceled') AND (
         NOT EXISTS (SELECT 1 FROM "RunEvent" e WHERE e."runId" = r.id AND e.payload->>'type' = 'run.finished') OR
         NOT EXISTS (SELECT 1 FROM "RunEvent" e WHERE e."runId" = r.id AND e.payload->>'type' = 'run.started'))`,
      [runIds],
    );
    const errors = await client.query<{ error: string | null; status: string }>(`SELECT status::text, error FROM "Run" WHERE id = ANY($1) AND status::text <> 'succeeded'`, [runIds]);
    return {
      statuses,
      duplicateSteps: Number(duplicates.rows[0]!.n),
      finalWithoutEvents: Number(missing.rows[0]!.n),
      errors: errors.rows.map((row) => `${row.status}: ${(row.error ?? "").slice(0, 160)}`),
    };
  });
}
