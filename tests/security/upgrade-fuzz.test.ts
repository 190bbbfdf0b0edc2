/**
 * Attack class "upgrade fuzz" (issue #12 item 1): hostile WebSocket upgrades — malformed percent-encoding,
 * odd paths, headers and query strings, no token — sent as raw HTTP to the real collab and server processes.
 * Every request must get an answer (an HTTP status or a close code) and the process must keep serving.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startCollabProcess, startServerProcess, startServiceProcess, type CollabProcess } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { int, mulberry32, pick } from "../support/random.js";
import { recordAttackClass } from "./report.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Sends one raw upgrade request; resolves with the first response line (or "closed" / "timeout"). */
function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(answer ? answer.split("\r\n")[0]! : "timeout"), 5_000);
    socket.on("error", () => done(answer ? answer.split("\r\n")[0]! : "closed"));
    socket.on("close", () => done(answer ? answer.split("\r\n")[0]! : "closed"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      // A refused upgrade answers with a status line; an accepted one with 101 and then a close frame.
      if (answer.includes("\r\n\r\n") && !answer.startsWith("HTTP/1.1 101")) done(answer.split("\r\n")[0]!);
      else if (answer.startsWith("HTTP/1.1 101") && answer.length > answer.indexOf("\r\n\r\n") + 4) done("HTTP/1.1 101 then close frame");
    });
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${KEY}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      "",
      "",
    ];
    socket.write(lines.join("\r\n"), "latin1");
  });
}

const BAD_SEGMENTS = ["%", "%E0%A4%A", "%E0%A4%", "%%", "%zz", "%00", "%C0%AF", "%ED%A0%80", "..%2f..%2f", "a".repeat(8_000), "%F0%9F%92", "\u00ff", "wf_%"];
const BAD_QUERIES = ["", "?token=%", "?token=%E0%A4%A", "?token=" + "x".repeat(10_000), "?token=a.b.c", "?%=%", "?token=Bearer%20%", "?token"];
const BAD_HEADERS: Record<string, string>[] = [
  {},
  { cookie: "algo_session=%E0%A4%A" },
  { cookie: "algo_session=" + "y".repeat(6_000) },
  { authorization: "Bearer %%%" },
  { origin: "null" },
  { origin: "http://%" },
  { "sec-websocket-protocol": "\u0001\u0002" },
  { "sec-websocket-extensions": "permessage-deflate; client_max_window_bits=99" },
];

/** The same seed always sends the same requests, so a failure replays. */
function fuzzCases(seed: number, count: number, prefix: string) {
  const rng = mulberry32(seed);
  const cases: { path: string; headers: Record<string, string> }[] = [];
  for (const segment of BAD_SEGMENTS) cases.push({ path: `${prefix}${segment}`, headers: {} });
  for (let index = 0; index < count; index++) {
    const segment = pick(rng, BAD_SEGMENTS)! + (int(rng, 2) ? pick(rng, BAD_SEGMENTS)! : "");
    cases.push({ path: `${prefix}${segment}${pick(rng, BAD_QUERIES)!}`, headers: pick(rng, BAD_HEADERS)! });
  }
  return cases;
}

/** Opens an upgrade and resets the connection (RST) after `afterMs`: mid-handshake, or just after it. */
function resetUpgrade(port: number, path: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    setTimeout(() => socket.resetAndDestroy(), afterMs);
  });
}

async function fuzz(port: number, healthUrl: string, prefix: string, alive: () => boolean) {
  const cases = fuzzCases(1201, 60, prefix);
  // Clients that reset the connection mid-handshake (before, during and just after the server's answer).
  for (const afterMs of [0, 1, 2, 5, 10, 20, 50]) {
    await resetUpgrade(port, `${prefix}wf_reset`, afterMs);
    cases.push({ path: `${prefix}wf_reset (RST after ${afterMs} ms)`, headers: {} });
  }
  let held = 0;
  const broken: string[] = [];
  for (const { path, headers } of cases) {
    const answer = path.includes("(RST after") ? "reset" : await rawUpgrade(port, path, headers);
    const health = await fetch(healthUrl).then((response) => response.status, () => 0);
    if (alive() && health === 200 && answer !== "timeout") held++;
    else broken.push(`${path.slice(0, 60)} ${JSON.stringify(headers).slice(0, 60)} → ${answer}, healthz ${health}`);
    if (!alive()) break;
  }
  return { tried: cases.length, held, broken };
}

describe("upgrade fuzz against real processes", () => {
  let collab: CollabProcess;
  let server: CollabProcess;
  let stack: CollabProcess;
  beforeAll(async () => {
    const env = testEnv();
    [collab, server, stack] = await Promise.all([
      startCollabProcess(env, await freePort()),
      startServerProcess(env, await freePort()),
      startServiceProcess("tests/support/stack-process.ts", env, { PORT: String(await freePort()) }),
    ]);
  }, 60_000);
  afterAll(async () => {
    collab?.child.kill("SIGKILL");
    server?.child.kill("SIGKILL");
    stack?.child.kill("SIGKILL");
  });

  it("S1: the one-process stack (npm start: collab on the server's origin) answers every malformed upgrade and keeps serving", async () => {
    let exited = false;
    void stack.exited.then(() => (exited = true));
    const port = Number(new URL(stack.url).port);
    const result = await fuzz(port, `${stack.url}/healthz`, "/collab/", () => !exited);
    recordAttackClass("upgrade fuzz (npm start stack)", result);
    expect(result.broken, `${stack.output.join("").slice(-2000)}`).toEqual([]);
  }, 120_000);

  it("S1: the collab process answers every malformed upgrade and keeps serving", async () => {
    let exited = false;
    void collab.exited.then(() => (exited = true));
    const port = Number(new URL(collab.url).port);
    const result = await fuzz(port, `${collab.url}/healthz`, "/collab/", () => !exited);
    recordAttackClass("upgrade fuzz (collab process)", result);
    expect(result.broken, `${collab.output.join("").slice(-2000)}`).toEqual([]);
  }, 120_000);

  it("S1: the server process answers every malformed upgrade (collab, graphql and unknown paths) and keeps serving", async () => {
    let exited = false;
    void server.exited.then(() => (exited = true));
    const port = Number(new URL(server.url).port);
    const results = [];
    for (const prefix of ["/collab/", "/graphql", "/graphql/", "/", "/%"]) results.push(await fuzz(port, `${server.url}/healthz`, prefix, () => !exited));
    const total = { tried: results.reduce((n, r) => n + r.tried, 0), held: results.reduce((n, r) => n + r.held, 0), broken: results.flatMap((r) => r.broken) };
    recordAttackClass("upgrade fuzz (server process)", total);
    expect(total.broken, `${server.output.join("").slice(-2000)}`).toEqual([]);
  }, 180_000);
});
