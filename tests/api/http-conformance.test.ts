/**
 * HTTP conformance of the API surface (issue #13, defects 5 and 6): everything under /graphql, /api/ and /hooks/
 * answers JSON — 404 NOT_FOUND for a path nobody serves, 405 METHOD_NOT_ALLOWED with an `Allow` header for a
 * method a path does not take — never the studio's HTML page; no response anywhere (the studio's own 404/500
 * pages included, in development mode too) carries a stack trace; and a 413 for a too-large body leaves the
 * client's connection pool usable (undici, the engine of Node's fetch, sends the next request right after).
 */
import { Readable } from "node:stream";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { MAX_JSON_BODY_BYTES } from "../../server/rest/index.js";
import { signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  await buildStudioIfStale(process.cwd(), () => {});
  // Development mode: the one where Remix would put error stacks into the page.
  stack = await startTestStack({ studio: true, collab: false, worker: false }, { NODE_ENV: "development" });
  user = await signUp(stack.url, "Conformance");
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** A stack frame ("    at fn (file:line:col)") or a source path of ours or of a dependency. */
const STACK_TRACE = /\n\s+at \S|node_modules\/|\/work\/|file:\/\/|\.ts:\d+:\d+/;

async function call(method: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${stack.url}${path}`, { method, redirect: "manual", ...init });
  const text = await response.text();
  let json: any = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The methods of an Allow header, sorted. */
const allowOf = (headers: Headers) =>
  (headers.get("allow") ?? "")
    .split(",")
    .map((method) => method.trim())
    .filter(Boolean)
    .sort();

describe("JSON errors under /api/, /hooks/ and /graphql", () => {
  it.each([
    ["GET", "/api/nope"],
    ["POST", "/api/nope/deeper"],
    ["GET", "/api"],
    ["GET", "/api/"],
    ["GET", "/hooks/x"],
    ["POST", "/hooks/x/y/z"],
    ["GET", "/hooks"],
  ])("%s %s → 404 NOT_FOUND as JSON", async (method, path) => {
    const response = await call(method, path, { headers: { authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.json).toEqual({ error: { code: "NOT_FOUND", message: expect.stringContaining(path), details: null } });
  });

  it.each([
    ["PUT", "/api/workflows", ["GET", "HEAD", "POST"]],
    ["DELETE", "/api/workspaces", ["GET", "HEAD"]],
    ["GET", "/api/auth/login", ["POST"]],
    ["PUT", "/api/workflows/wf_x", ["DELETE", "GET", "HEAD", "PATCH"]],
    // "import" is also what `/workflows/:id` matches: both routes' methods are allowed there.
    ["PUT", "/api/workflows/import", ["DELETE", "GET", "HEAD", "PATCH", "POST"]],
    ["GET", "/hooks/x/y", ["POST"]],
    ["DELETE", "/hooks/wf_x/secret", ["POST"]],
  ])("%s %s → 405 METHOD_NOT_ALLOWED, Allow: %j", async (method, path, allowed) => {
    const response = await call(method, path, { headers: { authorization: `Bearer ${user.token}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(allowOf(response.headers)).toEqual(allowed);
    expect(response.json).toEqual({ error: { code: "METHOD_NOT_ALLOWED", message: expect.stringContaining(method), details: { allow: allowed } } });
  });

  it("OPTIONS on an API path answers 204 with its Allow header", async () => {
    const response = await call("OPTIONS", "/api/workflows");
    expect({ status: response.status, allow: allowOf(response.headers) }).toEqual({ status: 204, allow: ["GET", "HEAD", "POST"] });
  });

  it.each(["PUT", "DELETE", "PATCH"])("%s /graphql → 405 as a GraphQL error, Allow: GET, POST", async (method) => {
    const response = await call(method, "/graphql", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toMatch(/^application\/(graphql-response\+)?json/);
    expect(allowOf(response.headers)).toEqual(["GET", "OPTIONS", "POST"]);
    expect(response.json).toEqual({ errors: [{ message: expect.stringContaining(method), extensions: { code: "METHOD_NOT_ALLOWED" } }] });
  });

  it.each([["GET", "/graphql/x"], ["POST", "/graphql/"], ["DELETE", "/graphql/x"]])("%s %s → 404 as a GraphQL error", async (method, path) => {
    const response = await call(method, path);
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ errors: [{ message: expect.stringContaining(path), extensions: { code: "NOT_FOUND" } }] });
  });

  it("served routes still answer as before", async () => {
    expect((await call("GET", "/api/workspaces", { headers: { authorization: `Bearer ${user.token}` } })).status).toBe(200);
    expect((await call("POST", "/hooks/wf_none/secret")).json).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await call("POST", "/graphql", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) })).json).toEqual({
      data: { __typename: "Query" },
    });
  });
});

describe("no stack trace reaches a client", () => {
  it.each([
    ["PUT", "/graphql"],
    ["PUT", "/api/workflows"],
    ["GET", "/api/nope"],
    ["GET", "/hooks/x/y"],
    ["GET", "/no/such/page"],
    // A studio page that takes no PUT, and one whose action fails on a body it cannot read (its 500 page).
    ["PUT", "/workflows"],
    ["PUT", "/login"],
    ["POST", "/login"],
  ])("%s %s", async (method, path) => {
    const response = await call(method, path, method === "GET" ? {} : { headers: { "content-type": "text/plain" }, body: "x" });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.text).not.toMatch(STACK_TRACE);
  });
});

describe("a 413 keeps the client's connection pool usable", () => {
  const tooLarge = Buffer.alloc(MAX_JSON_BODY_BYTES + 64 * 1024, "a");
  const target = (path: string) => new URL(path, stack.url);

  /** One pooled connection: the second request can only go where the first went. */
  async function refusedThenNormal(path: string, body: Buffer | Readable, headers: Record<string, string>) {
    const pool = new Pool(target("/").origin, { connections: 1, pipelining: 1 });
    try {
      const refused = await pool.request({ method: "POST", path, headers: { authorization: `Bearer ${user.token}`, ...headers }, body });
      const refusedBody = await refused.body.json();
      const next = await pool.request({ method: "GET", path: "/api/workspaces", headers: { authorization: `Bearer ${user.token}` } });
      const nextBody = (await next.body.json()) as { items: unknown[] };
      return { refused: refused.statusCode, refusedBody, connection: refused.headers.connection, next: next.statusCode, items: nextBody.items.length };
    } finally {
      await pool.close();
    }
  }

  async function* chunked(): AsyncIterable<Buffer> {
    for (let sent = 0; sent < tooLarge.length; sent += 64 * 1024) yield tooLarge.subarray(sent, sent + 64 * 1024);
  }

  it.each([
    ["REST, with Content-Length", "/api/workflows", "length"],
    ["REST, chunked", "/api/workflows", "chunked"],
    ["GraphQL, with Content-Length", "/graphql", "length"],
    ["GraphQL, chunked", "/graphql", "chunked"],
    ["webhook, with Content-Length", "/hooks/wf_none/secret", "length"],
    ["webhook, chunked", "/hooks/wf_none/secret", "chunked"],
  ])("%s: 413 with Connection: close, then the next pooled request succeeds", async (_name, path, mode) => {
    const result = await refusedThenNormal(path, mode === "length" ? tooLarge : Readable.from(chunked()), { "content-type": "application/json" });
    expect(result).toMatchObject({ refused: 413, connection: "close", next: 200, items: 1 });
    expect(JSON.stringify(result.refusedBody)).toContain("PAYLOAD_TOO_LARGE");
  });
});
