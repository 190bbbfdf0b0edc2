/**
 * Security issue #12 item 9: secrets never leave the worker. Credential values with control characters are
 * refused at write time (GraphQL and REST); every known secret value is redacted from every error, log line,
 * stored output, run event and BullMQ job return value. Canary secrets are searched afterwards everywhere:
 * PostgreSQL (every table, each row cast to text), Redis (every key under the run's prefix), the logs of the
 * whole stack, and the API's answers.
 */
import { newId } from "@algorythmos/domain";
import { encryptSecret } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { listenOnLoopback } from "../support/http.js";
import { graphql, signUpUser, startTestStack, waitFor } from "../support/stack.js";

const marker = `CANARY${randomBytes(6).toString("hex")}`;
const canary = (name: string) => `${marker}-${name}-${randomBytes(4).toString("hex")}`;

// Well-formed secrets that servers echo back (in error bodies, in their JSON) — the leak the redaction stops.
const headerSecret = `Bearer ${canary("hdr")}`;
const openAiKey = `sk-${canary("oai")}`;
const postmarkToken = canary("pm");
// Secrets stored before write-time validation existed (inserted directly): a newline and a NUL.
const legacyHeader = `${canary("nl")}\nInjected: 1`;
const legacyKey = `sk-${canary("nul")}\u0000`;

/** Echoes every request's headers in its JSON body; `/fail` answers 500 with the same body. */
async function startEcho() {
  const server = createServer((request, response) => {
    request.resume();
    const status = request.url?.startsWith("/fail") ? 500 : 200;
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ headers: request.headers }));
  });
  return listenOnLoopback(server);
}

/** An OpenAI-compatible server that is careless with keys: its 401 quotes the whole key it was given. */
async function startLeakyOpenAi() {
  const server = createServer((request, response) => {
    request.resume();
    response
      .writeHead(401, { "content-type": "application/json" })
      .end(JSON.stringify({ error: { message: `Incorrect API key provided: ${String(request.headers.authorization).replace(/^Bearer /, "")}`, type: "invalid_request_error", code: "invalid_api_key" } }));
  });
  return listenOnLoopback(server);
}

/** A Postmark-compatible server whose errors quote the token. */
async function startLeakyPostmark() {
  const server = createServer((request, response) => {
    request.resume();
    response
      .writeHead(422, { "content-type": "application/json" })
      .end(JSON.stringify({ ErrorCode: 300, Message: `Token ${String(request.headers["x-postmark-server-token"])} may not send to this address` }));
  });
  return listenOnLoopback(server);
}

let stack: Stack;
let echo: Awaited<ReturnType<typeof startEcho>>;
let leakyOpenAi: Awaited<ReturnType<typeof startLeakyOpenAi>>;
let leakyPostmark: Awaited<ReturnType<typeof startLeakyPostmark>>;
let user: Awaited<ReturnType<typeof signUpUser>>;
const logs: string[] = [];
const apiAnswers: string[] = [];
let restoreOutput: () => void = () => {};

/** Every line the stack logs is kept (and not printed): the logger writes JSON lines to stdout/stderr. */
function captureOutput() {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const keep = (chunk: unknown) => (logs.push(String(chunk)), true);
  process.stdout.write = keep as typeof process.stdout.write;
  process.stderr.write = keep as typeof process.stderr.write;
  restoreOutput = () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
}

async function api(query: string, variables: Record<string, unknown> = {}) {
  const result = await graphql(stack.url, query, variables, user.token);
  apiAnswers.push(JSON.stringify(result));
  return result;
}
async function rest(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json", "x-requested-with": "test" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  apiAnswers.push(text);
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function createCredential(type: string, secret: Record<string, unknown>) {
  const result = await api(`mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
    input: { workspaceId: user.workspaceId, name: `${type}-${randomBytes(3).toString("hex")}`, type, secret },
  });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.createCredential.id as string;
}
/** A credential stored before write-time validation existed: written straight to the table. */
async function legacyCredential(type: string, secret: Record<string, unknown>) {
  const id = newId("cred");
  await stack.deps.db.credential.create({ data: { id, workspaceId: user.workspaceId, name: `legacy-${id}`, type, secret: encryptSecret(stack.deps.env.CREDENTIALS_KEY, secret) } });
  return id;
}

const RUN_FIELDS = `id status error output input steps { stepId attempt status error input output }`;
async function runOnce(steps: { id: string; type: string; config: Record<string, unknown> }[]) {
  const definition = {
    name: "Canaries",
    steps: [{ id: "start", type: "trigger.manual", config: {} }, ...steps],
    edges: steps.map((step, index) => ({ id: `e${index}`, source: "start", target: step.id })),
  };
  const created = await api(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { workspaceId: user.workspaceId, name: `canaries-${randomBytes(3).toString("hex")}`, definition },
  });
  if (!created.data) throw new Error(JSON.stringify(created.errors));
  const started = await api(`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: created.data.createWorkflow.id } });
  if (!started.data) throw new Error(JSON.stringify(started.errors));
  const runId = started.data.startRun.id as string;
  const run = await waitFor("the run to finish", async () => {
    const read = await api(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: runId });
    const value = read.data?.run;
    return value && ["succeeded", "failed", "canceled"].includes(value.status) ? value : null;
  }, 30_000);
  await rest("GET", `/runs/${runId}`);
  await rest("GET", `/steps?runId=${runId}`);
  return run as { id: string; status: string; error: string | null; steps: { stepId: string; status: string; error: string | null; output: unknown }[] };
}

beforeAll(async () => {
  [echo, leakyOpenAi, leakyPostmark] = await Promise.all([startEcho(), startLeakyOpenAi(), startLeakyPostmark()]);
  captureOutput();
  stack = await startTestStack({ collab: false }, { LOG_LEVEL: "debug", POSTMARK_API_URL: leakyPostmark.url });
  user = await signUpUser(stack.url, "Canary");
});
afterAll(async () => {
  await stack?.close();
  restoreOutput();
  await Promise.all([echo?.close(), leakyOpenAi?.close(), leakyPostmark?.close()]);
});

describe("credential values with control characters are refused at write time", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["httpHeader", { headerName: "X-Api-Key", headerValue: "abc\ndef" }, "headerValue"],
    ["httpHeader", { headerName: "X-Api-Key", headerValue: "abc\r\nInjected: 1" }, "headerValue"],
    ["openai", { apiKey: "sk-abc\u0000def" }, "apiKey"],
    ["openai", { apiKey: "sk-abc\u007fdef" }, "apiKey"],
    ["postmark", { serverToken: "pm\tabc" }, "serverToken"],
  ];

  it.each(cases)("GraphQL createCredential refuses a %s secret with a control character in %s", async (type, secret, field) => {
    const result = await api(`mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`, {
      input: { workspaceId: user.workspaceId, name: `bad-${randomBytes(3).toString("hex")}`, type, secret },
    });
    expect(result.data).toBeFalsy();
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.message).toMatch(/control character/i);
    expect(JSON.stringify(result.errors?.[0]?.extensions?.fields)).toContain(field);
  });

  it.each(cases)("REST POST /api/credentials refuses a %s secret with a control character in %s", async (type, secret) => {
    const response = await rest("POST", "/credentials", { workspaceId: user.workspaceId, name: `bad-${randomBytes(3).toString("hex")}`, type, secret });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(JSON.stringify(response.body)).toMatch(/control character/i);
  });
});

describe("canary secrets appear nowhere but in the encrypted credential", () => {
  it("runs whose servers echo the secrets, and stored secrets with control characters, leak nothing", async () => {
    const header = await createCredential("httpHeader", { headerName: "Authorization", headerValue: headerSecret });
    const key = await createCredential("openai", { apiKey: openAiKey, baseURL: `${leakyOpenAi.url}/v1` });
    const token = await createCredential("postmark", { serverToken: postmarkToken });
    const oldHeader = await legacyCredential("httpHeader", { headerName: "X-Legacy", headerValue: legacyHeader });
    const oldKey = await legacyCredential("openai", { apiKey: legacyKey, baseURL: `${leakyOpenAi.url}/v1` });

    const echoed = await runOnce([{ id: "echo", type: "http.request", config: { method: "GET", url: `${echo.url}/ok`, credentialId: header } }]);
    expect(echoed.status).toBe("succeeded");
    expect(JSON.stringify(echoed.steps)).toContain("[redacted]"); // the echoed header is in the output, redacted

    const failed = await runOnce([
      { id: "fail", type: "http.request", config: { method: "GET", url: `${echo.url}/fail`, credentialId: header, retry: { maxAttempts: 2, backoffMs: 5 } } },
      { id: "chat", type: "openai.chat", config: { credentialId: key, model: "m", messages: [{ role: "user", content: "hi" }] } },
      { id: "mail", type: "email.postmark", config: { credentialId: token, from: "a@example.com", to: "b@example.com", subject: "s", textBody: "t" } },
      { id: "legacyHeader", type: "http.request", config: { method: "GET", url: `${echo.url}/ok`, credentialId: oldHeader } },
      { id: "legacyKey", type: "openai.chat", config: { credentialId: oldKey, model: "m", messages: [{ role: "user", content: "hi" }] } },
    ]);
    expect(failed.status).toBe("failed");
    const errorOf = (stepId: string) => failed.steps.filter((step) => step.stepId === stepId).at(-1)?.error ?? "";
    expect(errorOf("fail")).toMatch(/HTTP 500/);
    expect(errorOf("chat")).toMatch(/OpenAI API error 401: (401 )?Incorrect API key provided: \[redacted\]/);
    expect(errorOf("mail")).toMatch(/Postmark error 422/);
    expect(errorOf("legacyHeader")).toMatch(/not a valid httpHeader credential/);
    expect(errorOf("legacyKey")).toMatch(/not a valid openai credential/);

    const tests = [
      { type: "http.request", credentialId: header, config: { method: "GET", url: `${echo.url}/fail` } },
      { type: "openai.chat", credentialId: key, config: { model: "m", messages: [{ role: "user", content: "x" }] } },
      { type: "email.postmark", credentialId: token, config: { from: "a@example.com", to: "b@example.com", subject: "s", textBody: "t" } },
      { type: "http.request", credentialId: oldHeader, config: { method: "GET", url: `${echo.url}/ok` } },
      { type: "openai.chat", credentialId: oldKey, config: { model: "m", messages: [{ role: "user", content: "x" }] } },
    ];
    for (const input of tests) {
      const result = await api(`mutation($input: TestConnectorInput!) { testConnector(input: $input) { ok message } }`, { input });
      expect(result.data?.testConnector?.ok, JSON.stringify(result)).toBe(false);
    }

    // The canaries reached the servers (so there was something to leak)…
    expect(echo.port).toBeGreaterThan(0);
    // …and are nowhere else.
    const found: string[] = [];
    const client = new pg.Client({ connectionString: stack.deps.env.DATABASE_URL });
    await client.connect();
    try {
      const tables = await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
      for (const { name } of tables.rows) {
        const hits = await client.query(`SELECT count(*)::int AS n FROM "${name}" t WHERE t::text LIKE $1`, [`%${marker}%`]);
        if (hits.rows[0].n) found.push(`postgres table ${name}: ${hits.rows[0].n} rows`);
      }
    } finally {
      await client.end();
    }
    const redis = stack.deps.redis;
    const prefix = stack.deps.env.REDIS_PREFIX;
    let cursor = "0";
    let scanned = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        scanned++;
        const dump = await redis.dump(key);
        const type = await redis.type(key);
        const text =
          type === "string" ? await redis.get(key)
          : type === "hash" ? JSON.stringify(await redis.hgetall(key))
          : type === "list" ? JSON.stringify(await redis.lrange(key, 0, -1))
          : type === "set" ? JSON.stringify(await redis.smembers(key))
          : type === "zset" ? JSON.stringify(await redis.zrange(key, 0, -1))
          : type === "stream" ? JSON.stringify(await redis.xrange(key, "-", "+"))
          : String(dump);
        if (text?.includes(marker)) found.push(`redis key ${key} (${type})`);
      }
    } while (cursor !== "0");
    expect(scanned).toBeGreaterThan(0);
    const logText = logs.join("");
    expect(logText).toContain("step failed"); // the logs were captured
    if (logText.includes(marker)) found.push(`logs: ${logs.filter((line) => line.includes(marker)).slice(0, 3).join(" | ")}`);
    for (const answer of apiAnswers) if (answer.includes(marker)) found.push(`API answer: ${answer.slice(0, 300)}`);
    expect(found).toEqual([]);
  });
});
