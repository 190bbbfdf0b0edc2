/**
 * R61 (with R11, R15): outbound connections to a checked address are kept alive and reused; the SSRF check
 * still runs on every call and every redirect hop. Real loopback servers count the TCP connections they get.
 * 127.0.0.1 is reached under names a stand-in resolver gives out, allow-listed by address (so the guard
 * resolves the name, checks the address, and pins the connection to it, as for a public host).
 */
import { parseStepConfig } from "@algorythmos/domain";
import { createLogger, type Env } from "@algorythmos/platform";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { AbortedError, StepError } from "../../worker/errors.js";
import { httpRequest } from "../../worker/executors/http-request.js";
import { PinnedAgents, pinnedAgents } from "../../worker/http/pinned-agents.js";
import { guardedRequest, type GuardOptions } from "../../worker/ssrf.js";
import { testEnv } from "../support/env.js";
import { startHarness, workflow } from "./harness.js";

/** A loopback server that answers `{ server, host, path }` and counts the connections it was opened. */
async function startCountingServer(label: string, host = "127.0.0.1", port = 0) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const requests: string[] = [];
  const headers: IncomingMessage["headers"][] = [];
  const closedEarly: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url ?? "");
    headers.push(request.headers);
    request.resume();
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname === "/gzip") {
      const accepted = String(request.headers["accept-encoding"] ?? "").includes("gzip");
      const body = JSON.stringify({ compressed: accepted });
      return void response.writeHead(200, { "content-type": "application/json", ...(accepted ? { "content-encoding": "gzip" } : {}) }).end(accepted ? gzipSync(body) : body);
    }
    if (url.pathname === "/redirect") return void response.writeHead(302, { location: url.searchParams.get("to")! }).end();
    if (url.pathname === "/hang" || url.pathname === "/partial") {
      response.on("close", () => {
        if (!response.writableFinished) closedEarly.push(url.pathname);
      });
      if (url.pathname === "/partial") response.writeHead(200, { "content-type": "text/plain" }).write("first part; the rest never comes");
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ server: label, host: request.headers.host, path: url.pathname }));
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    headers,
    closedEarly,
    get connections() {
      return connections;
    },
    /** Connections still open (kept alive by the client, or in use). */
    get open() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type CountingServer = Awaited<ReturnType<typeof startCountingServer>>;

const servers: CountingServer[] = [];
const pools: PinnedAgents[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function server(label: string, host?: string, port?: number) {
  const started = await startCountingServer(label, host, port);
  servers.push(started);
  return started;
}
function pool(options?: ConstructorParameters<typeof PinnedAgents>[0]) {
  const created = new PinnedAgents(options);
  pools.push(created);
  return created;
}

/** A resolver whose answers the test changes between calls (DNS rebinding); it answers a turn of the event loop later, as a lookup does. */
function dns(table: Record<string, string[]>) {
  return { table, resolve: (hostname: string) => new Promise<string[]>((resolve) => setImmediate(() => resolve(table[hostname] ?? []))) };
}

async function get(url: string, options: GuardOptions, signal = new AbortController().signal) {
  const response = await guardedRequest(new URL(url), { method: "GET", headers: new Headers(), signal }, options);
  const text = await response.body.text();
  return { status: response.status, body: text ? (JSON.parse(text) as { server: string; host: string; path: string }) : null };
}

const until = async (check: () => boolean, ms = 2_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** The client-side sockets of this process connected to `port`. */
const clientSocketsTo = (port: number) =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((handle) => handle instanceof Socket && handle.remotePort === port);

function runStep(env: Env, config: Record<string, unknown>, signal = new AbortController().signal) {
  return httpRequest({
    config: parseStepConfig("http.request", config),
    context: { input: {}, steps: {} },
    signal,
    env,
    logger: createLogger("pinned-agents-test", "error"),
    stepId: "call",
    runId: "run_pinned",
    attempt: 1,
    idempotencyKey: "run_pinned:call:1",
    chunk: () => {},
    credential: async () => {
      throw new StepError("no credentials in this test");
    },
  });
}

describe("R61 connections to a checked address are reused", () => {
  it("R61: 20 calls to one origin and checked address use one TCP connection; each call is still checked", async () => {
    const target = await server("a");
    const names = dns({ "api.test": ["127.0.0.1"] });
    let lookups = 0;
    const options: GuardOptions = { allowHosts: ["127.0.0.1"], resolve: (name) => (lookups++, names.resolve(name)), agents: pool() };
    for (let i = 0; i < 20; i++) expect((await get(`http://api.test:${target.port}/n${i}`, options)).body).toEqual({ server: "a", host: `api.test:${target.port}`, path: `/n${i}` });
    expect(target.requests).toHaveLength(20);
    expect(target.connections).toBe(1);
    expect(lookups).toBe(20); // the guard resolved and checked the name on every call
  });

  it("R61: the http.request executor reuses its connection to a host it resolved and checked (the path to public hosts)", async () => {
    const target = await server("a");
    const env = testEnv({ HTTP_ALLOW_HOSTS: "127.0.0.1,::1" }); // addresses only: the name localhost is resolved and pinned
    for (let i = 0; i < 10; i++) {
      const { output } = await runStep(env, { method: "POST", url: `http://localhost:${target.port}/write`, body: { i } });
      expect(output).toMatchObject({ status: 200, body: { server: "a", path: "/write" } });
    }
    expect(target.connections).toBe(1);
    // R18 unchanged: the step's key on every POST; and the headers fetch used to send.
    expect(target.headers.map((h) => h["idempotency-key"])).toEqual(new Array(10).fill("run_pinned:call:1"));
    expect(target.headers[0]).toMatchObject({ accept: "*/*", "user-agent": "undici", "accept-encoding": "gzip, deflate", "content-type": "application/json" });
  });

  it("R61: a compressed body is decoded, as fetch did; the config can refuse compression", async () => {
    const target = await server("a");
    const env = testEnv({ HTTP_ALLOW_HOSTS: "127.0.0.1" });
    const compressed = await runStep(env, { method: "GET", url: `http://127.0.0.1:${target.port}/gzip` });
    expect(compressed.output).toMatchObject({ status: 200, headers: { "content-encoding": "gzip" }, body: { compressed: true } });
    expect(target.headers.at(-1)).toMatchObject({ "accept-encoding": "gzip, deflate" });
    const plain = await runStep(env, { method: "GET", url: `http://127.0.0.1:${target.port}/gzip`, headers: { "accept-encoding": "identity" } });
    expect(plain.output).toMatchObject({ body: { compressed: false } });
  });

  it("R61: a header undici refuses to send fails the step clearly, without a retry", async () => {
    const target = await server("a");
    const env = testEnv({ HTTP_ALLOW_HOSTS: "127.0.0.1" });
    await expect(runStep(env, { method: "GET", url: `http://127.0.0.1:${target.port}/`, headers: { "transfer-encoding": "chunked" } })).rejects.toMatchObject({
      message: expect.stringMatching(/^Request to 127\.0\.0\.1:\d+ not sent: invalid transfer-encoding header/),
      retryable: false,
    });
    expect(target.requests).toEqual([]);
  });

  it("R61 R11: a name rebound to a private address is refused, though a connection to its old address is open", async () => {
    const target = await server("a");
    const names = dns({ "rebind.test": ["127.0.0.1"] });
    const options: GuardOptions = { allowHosts: ["127.0.0.1"], resolve: names.resolve, agents: pool() };
    await get(`http://rebind.test:${target.port}/first`, options);
    expect(target.open).toBe(1); // kept alive
    names.table["rebind.test"] = ["10.0.0.5"];
    await expect(get(`http://rebind.test:${target.port}/second`, options)).rejects.toThrow(/Refused to call "rebind\.test": it resolves to 10\.0\.0\.5 \(private\)/);
    names.table["rebind.test"] = ["8.8.8.8", "169.254.169.254"];
    await expect(get(`http://rebind.test:${target.port}/third`, options)).rejects.toThrow(/169\.254\.169\.254 \(cloud metadata\)/);
    expect(target.requests).toEqual(["/first"]);
  });

  it("R61: a name rebound to another allowed address connects to that address, never over the old connection", async () => {
    const first = await server("first", "127.0.0.1");
    const second = await server("second", "127.0.0.2", first.port); // the same origin, another address
    const names = dns({ "moving.test": ["127.0.0.1"] });
    const options: GuardOptions = { allowHosts: ["127.0.0.1", "127.0.0.2"], resolve: names.resolve, agents: pool() };
    expect((await get(`http://moving.test:${first.port}/`, options)).body?.server).toBe("first");
    names.table["moving.test"] = ["127.0.0.2"];
    expect((await get(`http://moving.test:${first.port}/`, options)).body?.server).toBe("second");
    names.table["moving.test"] = ["127.0.0.1"];
    expect((await get(`http://moving.test:${first.port}/`, options)).body?.server).toBe("first");
    expect([first.connections, second.connections]).toEqual([1, 1]);
  });

  it("R11 R61: a redirect to a private address is refused on a kept-alive path, before anything reaches it", async () => {
    const front = await server("front");
    const hidden = await server("hidden");
    const names = dns({ "front.test": ["127.0.0.1"], "inside.test": ["10.0.0.9"] });
    const options: GuardOptions = { allowHosts: [`127.0.0.1:${front.port}`], resolve: names.resolve, agents: pool() };
    await get(`http://front.test:${front.port}/warm`, options);
    const to = (target: string) => `http://front.test:${front.port}/redirect?to=${encodeURIComponent(target)}`;
    await expect(get(to(`http://inside.test:${hidden.port}/`), options)).rejects.toThrow(/Refused to call "inside\.test": it resolves to 10\.0\.0\.9 \(private\)/);
    // The same loopback address on a port that is not allowed: refused too, though 127.0.0.1 has an open connection.
    await expect(get(to(`http://127.0.0.1:${hidden.port}/`), options)).rejects.toThrow(/Refused to call "127\.0\.0\.1": it resolves to 127\.0\.0\.1 \(loopback\)/);
    // The executor: the same refusal as a failed step that is not retried.
    const env = testEnv({ HTTP_ALLOW_HOSTS: `127.0.0.1:${front.port}` });
    const refusal = runStep(env, { method: "GET", url: `http://127.0.0.1:${front.port}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${hidden.port}/`)}` });
    await expect(refusal).rejects.toMatchObject({ message: expect.stringMatching(/loopback/), retryable: false });
    expect(hidden.requests).toEqual([]);
  });
});

describe("R15 R61 cancel and timeouts on kept-alive connections", () => {
  const env = () => testEnv({ HTTP_ALLOW_HOSTS: "127.0.0.1" });

  it("R15: a cancel aborts a request waiting for its answer, and the next call still works", async () => {
    const target = await server("a");
    await runStep(env(), { method: "GET", url: `http://localhost:${target.port}/warm` });
    const cancel = new AbortController();
    const started = Date.now();
    const pending = runStep(env(), { method: "POST", url: `http://localhost:${target.port}/hang`, body: {} }, cancel.signal);
    await until(() => target.requests.includes("/hang"));
    cancel.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(2_000);
    await until(() => target.closedEarly.includes("/hang")); // the receiver saw the client go away
    const { output } = await runStep(env(), { method: "GET", url: `http://localhost:${target.port}/after` });
    expect(output).toMatchObject({ status: 200, body: { path: "/after" } });
  });

  it("R15: a cancel aborts a request whose body is still arriving", async () => {
    const target = await server("a");
    const cancel = new AbortController();
    const pending = runStep(env(), { method: "GET", url: `http://localhost:${target.port}/partial` }, cancel.signal);
    await until(() => target.requests.includes("/partial"));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the headers and the first part have arrived
    cancel.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await until(() => target.closedEarly.includes("/partial"));
  });

  it("R12: timeoutMs still bounds the whole exchange on a kept-alive connection", async () => {
    const target = await server("a");
    await runStep(env(), { method: "GET", url: `http://localhost:${target.port}/warm` });
    const started = Date.now();
    await expect(runStep(env(), { method: "GET", url: `http://localhost:${target.port}/partial`, timeoutMs: 300 })).rejects.toMatchObject({
      message: "Request timed out after 300 ms",
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("R61 the pool's bounds and shutdown", () => {
  it("R61: back-to-back calls to an allow-listed name (not resolved) share at most two connections", async () => {
    // undici marks a connection free again on the next tick after its answer; a call made sooner (no DNS
    // lookup in between) takes the pool's second connection, and the two alternate from then on.
    const target = await server("a");
    const env = testEnv({ HTTP_ALLOW_HOSTS: `127.0.0.1:${target.port}` });
    for (let i = 0; i < 20; i++) await runStep(env, { method: "POST", url: `http://127.0.0.1:${target.port}/write`, body: { i } });
    expect(target.requests).toHaveLength(20);
    expect(target.connections).toBeLessThanOrEqual(2);
  });

  it("R61: at most maxAgents agents are kept; the least recently used one is closed with its connection", async () => {
    const [a, b, c] = [await server("a"), await server("b"), await server("c")];
    const agents = pool({ maxAgents: 2 });
    const options: GuardOptions = { allowHosts: ["127.0.0.1"], agents };
    const call = (target: CountingServer) => get(`http://127.0.0.1:${target.port}/`, options);
    await call(a);
    await call(b);
    await call(a); // a is now the most recently used
    await call(c); // evicts b, not a
    expect(agents.size).toBe(2);
    await until(() => b.open === 0);
    expect(a.open).toBe(1);
    await call(a);
    expect(a.connections).toBe(1);
    await call(b); // b again: a new agent and connection; c is evicted now
    expect(b.connections).toBe(2);
    await until(() => c.open === 0);
  });

  it("R61: an agent unused for idleMs is closed when the pool is next used", async () => {
    const [a, b] = [await server("a"), await server("b")];
    const agents = pool({ idleMs: 50 });
    const options: GuardOptions = { allowHosts: ["127.0.0.1"], agents };
    await get(`http://127.0.0.1:${a.port}/`, options);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await get(`http://127.0.0.1:${b.port}/`, options);
    expect(agents.size).toBe(1);
    await until(() => a.open === 0);
  });

  it("R61: close() lets a request in flight finish for closeGraceMs, then destroys it; nothing stays open", async () => {
    const target = await server("a");
    const agents = pool({ closeGraceMs: 100 });
    const options: GuardOptions = { allowHosts: ["127.0.0.1"], agents };
    await get(`http://127.0.0.1:${target.port}/idle`, options);
    const hanging = get(`http://127.0.0.1:${target.port}/hang`, options);
    const settled = hanging.then(
      () => "answered",
      () => "failed",
    );
    await until(() => target.requests.includes("/hang"));
    const started = Date.now();
    await agents.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await settled).toBe("failed");
    await until(() => target.open === 0);
    expect(clientSocketsTo(target.port)).toEqual([]);
  });

  it("R61 R10: a run worker's close() closes the kept-alive connections its http.request steps opened", async () => {
    const target = await server("a");
    const h = await startHarness({ HTTP_ALLOW_HOSTS: `127.0.0.1:${target.port}` });
    let closed = false;
    try {
      const run = await h.run(
        workflow(
          [
            ["one", "http.request", { method: "POST", url: `http://127.0.0.1:${target.port}/one`, body: {} }],
            ["two", "http.request", { method: "POST", url: `http://127.0.0.1:${target.port}/two`, body: {} }],
          ],
          [
            ["start", "one"],
            ["one", "two"],
          ],
        ),
      );
      expect(run.status).toBe("succeeded");
      expect(target.connections).toBe(1);
      expect(target.open).toBe(1);
      await h.close();
      closed = true;
      // At once, not after the keep-alive timeout (4 s): the worker closed its pool.
      await until(() => target.open === 0, 1_000);
      expect(clientSocketsTo(target.port)).toEqual([]);
      expect(pinnedAgents.size).toBe(0);
    } finally {
      if (!closed) await h.close();
    }
  });
});
