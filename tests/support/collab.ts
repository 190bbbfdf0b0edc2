/**
 * Helpers for the collab integration tests: y-websocket clients as the studio makes them, raw sockets for
 * hostile input, the real `collab/main.ts` as a child process, and reads of what PostgreSQL holds.
 */
import { COLLAB_PATH_PREFIX, definitionFromDoc, type WorkflowDefinition } from "@algorythmos/domain";
import type { Env } from "@algorythmos/platform";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import pg from "pg";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { graphql, signUpUser, waitFor } from "./stack.js";

export { waitFor };

/** The y-websocket server URL (the provider appends `/<workflowId>`) of a stack or collab process at `httpUrl`. */
export const collabBase = (httpUrl: string) => httpUrl.replace(/^http/, "ws") + COLLAB_PATH_PREFIX.replace(/\/$/, "");

export interface CollabClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Close codes the server sent, in order (local disconnects are not recorded). */
  closeCodes: number[];
  /** Document updates that arrived from the server (not made locally). */
  remoteUpdates: number;
  destroy(): void;
}

/** A y-websocket client, as the studio opens one: token in `params`, no BroadcastChannel. */
export function connectClient(
  httpUrl: string,
  workflowId: string,
  token: string | undefined,
  options: { doc?: Y.Doc; maxBackoffTime?: number } = {},
): CollabClient {
  const doc = options.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(collabBase(httpUrl), workflowId, doc, {
    WebSocketPolyfill: WebSocket as never,
    params: token === undefined ? {} : { token },
    disableBc: true,
    maxBackoffTime: options.maxBackoffTime ?? 500,
  });
  const client: CollabClient = {
    doc,
    provider,
    closeCodes: [],
    remoteUpdates: 0,
    destroy() {
      provider.destroy();
    },
  };
  provider.on("connection-close", (event: { code: number } | null) => {
    if (event) client.closeCodes.push(event.code);
  });
  doc.on("update", (_update: Uint8Array, origin: unknown) => {
    if (origin === provider) client.remoteUpdates++;
  });
  return client;
}

export const waitSynced = (...clients: CollabClient[]) =>
  waitFor(`${clients.length} client(s) to sync`, async () => clients.every((client) => client.provider.synced));

/** The definition a client's document holds (what the studio shows). */
export const docDefinition = (doc: Y.Doc): WorkflowDefinition => definitionFromDoc(doc).definition;

/** Comparable form of a definition (JSON round trip drops undefined fields, as PostgreSQL's jsonb does). */
export const canonical = (definition: unknown) => JSON.parse(JSON.stringify(definition)) as unknown;

export interface RawClient {
  socket: WebSocket;
  messages: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
}

/** A bare WebSocket to the collab path; resolves once open (or closed, whichever first). */
export async function rawSocket(httpUrl: string, workflowId: string, token?: string): Promise<RawClient> {
  const url = `${collabBase(httpUrl)}/${encodeURIComponent(workflowId)}${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`;
  const socket = new WebSocket(url);
  const messages: Uint8Array[] = [];
  socket.binaryType = "nodebuffer";
  socket.on("message", (data: Buffer) => messages.push(new Uint8Array(data)));
  socket.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await Promise.race([new Promise((resolve) => socket.once("open", resolve)), closed]);
  return { socket, messages, closed };
}

/** Resolves with the close code, failing if the server does not close the socket within `timeoutMs`. */
export async function closeCodeOf(client: RawClient, timeoutMs = 10_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the server did not close the socket")), timeoutMs);
  });
  try {
    return (await Promise.race([client.closed, timeout])).code;
  } finally {
    clearTimeout(timer);
  }
}

// ---------- the API ----------

export interface TestUser {
  token: string;
  email: string;
  userId: string;
  workspaceId: string;
}

export const signUp = (url: string, name = "Ada"): Promise<TestUser> => signUpUser(url, name);

const CREATE = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id definition } }`;

export async function createWorkflow(url: string, user: TestUser, definition: WorkflowDefinition | Record<string, unknown>): Promise<string> {
  const created = await graphql(url, CREATE, { input: { workspaceId: user.workspaceId, name: (definition as { name: string }).name, definition } }, user.token);
  if (!created.data) throw new Error(JSON.stringify(created.errors));
  return created.data.createWorkflow.id as string;
}

/** `Workflow.definition` as the API serves it (the materialised definition). */
export async function storedDefinition(url: string, token: string, workflowId: string): Promise<WorkflowDefinition> {
  const result = await graphql(url, `query($id: ID!) { workflow(id: $id) { definition } }`, { id: workflowId }, token);
  if (!result.data?.workflow) throw new Error(JSON.stringify(result.errors));
  return result.data.workflow.definition as WorkflowDefinition;
}

/** Waits until the stored definition equals `expected`; on timeout fails with both, for a readable diff. */
export async function waitForStoredDefinition(url: string, token: string, workflowId: string, expected: WorkflowDefinition, timeoutMs = 10_000) {
  let last: unknown;
  try {
    await waitFor(
      "the stored definition to equal the converged one",
      async () => {
        last = canonical(await storedDefinition(url, token, workflowId));
        return JSON.stringify(sortKeys(last)) === JSON.stringify(sortKeys(canonical(expected)));
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstored:   ${JSON.stringify(last)}\nexpected: ${JSON.stringify(canonical(expected))}`);
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/** A short-lived PostgreSQL connection for reading what the collab service stored. */
export async function withPg<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export const countUpdateRows = (databaseUrl: string, workflowId: string) =>
  withPg(databaseUrl, async (client) => {
    const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "WorkflowUpdate" WHERE "workflowId" = $1`, [workflowId]);
    return Number(result.rows[0]!.n);
  });

/** The document as stored in `Workflow.yjsState` alone (without the update log). */
export const storedSnapshotDoc = (databaseUrl: string, workflowId: string) =>
  withPg(databaseUrl, async (client) => {
    const result = await client.query<{ yjsState: Buffer }>(`SELECT "yjsState" FROM "Workflow" WHERE id = $1`, [workflowId]);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, new Uint8Array(result.rows[0]!.yjsState));
    return doc;
  });

// ---------- collab/main.ts as a child process ----------

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Children still running, killed if the test process exits first (so no collab process outlives a run). */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export interface CollabProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  stop(signal: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts the real `collab/main.ts` (what `npm run collab` runs) on `port`, with the test's environment, and
 * waits for /healthz. It runs as `node --import tsx collab/main.ts`: one process, so a signal reaches the
 * service itself (the `tsx` CLI is a wrapper that spawns node and relays signals: SIGKILL would kill only it).
 */
export const startCollabProcess = (env: Env, port: number, extraEnv: Record<string, string> = {}) =>
  startServiceProcess("collab/main.ts", env, { COLLAB_PORT: String(port), ...extraEnv });

/** The real `server/main.ts` (what `npm run server` runs) on `port`; see startServiceProcess. */
export const startServerProcess = (env: Env, port: number, extraEnv: Record<string, string> = {}) =>
  startServiceProcess("server/main.ts", env, { PORT: String(port), ...extraEnv });

/** Starts one of the processes' main files with the test's environment and waits for its /healthz (or for `readyWhen` in its output). */
export async function startServiceProcess(entry: string, env: Env, extraEnv: Record<string, string>, options: { readyWhen?: RegExp; timeoutMs?: number } = {}): Promise<CollabProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      DATABASE_URL: env.DATABASE_URL,
      REDIS_URL: env.REDIS_URL,
      REDIS_PREFIX: env.REDIS_PREFIX,
      JWT_SECRET: env.JWT_SECRET,
      CREDENTIALS_KEY: env.CREDENTIALS_KEY,
      LOG_LEVEL: env.LOG_LEVEL === "silent" ? "warn" : env.LOG_LEVEL,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const output: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${extraEnv.COLLAB_PORT ?? extraEnv.PORT}`;
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(
      `${entry} to become healthy`,
      async () => {
        if (gone) throw new Error(`${entry} exited early:\n${output.join("")}`);
        if (options.readyWhen) return options.readyWhen.test(output.join(""));
        const response = await fetch(`${url}/healthz`).catch(() => null);
        return response?.status === 200;
      },
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url,
    child,
    output,
    exited,
    /** Sends `signal`; throws (with the process output) if the process had already exited by itself. */
    async stop(signal) {
      if (gone) throw new Error(`${entry} had already exited (${await exited}) before ${signal}:\n${output.join("").slice(-3000)}`);
      child.kill(signal);
      return exited;
    },
  };
}
