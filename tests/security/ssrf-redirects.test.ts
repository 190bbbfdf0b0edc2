/**
 * Security issue #12, items 5 and 6: every outbound call of every executor (http.request, openai.chat,
 * email.postmark) and of "test connection" goes through the one guarded fetch, which re-checks each redirect
 * hop; allow-list entries can name host:port. The "allowed" server answers 307 to another loopback port that
 * is NOT allowed; that server must never receive a request.
 */
import { newId } from "@algorythmos/domain";
import { bullPrefix, closeRedis, createConnectorQueue, createRedis, encryptSecret, localStudioAllowHosts, type ConnectorTestJob } from "@algorythmos/platform";
import { QueueEvents } from "bullmq";
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../support/http.js";
import { startOpenAiServer, startPostmarkServer } from "../worker/fakes.js";
import { startHarness, startTestServer, workflow, type Harness } from "../worker/harness.js";

type Listening = Awaited<ReturnType<typeof listenOnLoopback>>;

/** Answers every request with `status` and `Location: <target><path>` (the path and query kept). */
async function startRedirector(target: () => string, status = 307) {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    request.resume();
    response.writeHead(status, { location: `${target()}${request.url ?? "/"}` }).end();
  });
  return { ...(await listenOnLoopback(server)), hits };
}

let h: Harness;
let openai: Awaited<ReturnType<typeof startOpenAiServer>>;
let postmark: Awaited<ReturnType<typeof startPostmarkServer>>;
let web: Awaited<ReturnType<typeof startTestServer>>;
let toOpenAi: Awaited<ReturnType<typeof startRedirector>>;
let toPostmark: Awaited<ReturnType<typeof startRedirector>>;
let toWeb: Awaited<ReturnType<typeof startRedirector>>;
let connection: ReturnType<typeof createRedis>;
let eventsConnection: ReturnType<typeof createRedis>;
let queue: ReturnType<typeof createConnectorQueue>;
let events: QueueEvents;

// The forbidden targets are reached as 127.0.0.1:<port>; only the redirectors' own host:port are allowed.
const forbidden = (server: Listening) => `http://127.0.0.1:${server.port}`;
const allowed = (server: Listening) => `http://localhost:${server.port}`;

beforeAll(async () => {
  [openai, postmark, web] = await Promise.all([startOpenAiServer({ busyFailures: 0 }), startPostmarkServer(), startTestServer()]);
  [toOpenAi, toPostmark, toWeb] = await Promise.all([startRedirector(() => forbidden(openai)), startRedirector(() => forbidden(postmark)), startRedirector(() => forbidden(web))]);
  h = await startHarness({
    HTTP_ALLOW_HOSTS: [toOpenAi, toPostmark, toWeb].map((server) => `localhost:${server.port}`).join(","),
    POSTMARK_API_URL: allowed(toPostmark),
  });
  connection = createRedis(h.env.REDIS_URL, { name: "test-ssrf-connectors" });
  eventsConnection = createRedis(h.env.REDIS_URL, { blocking: true, name: "test-ssrf-connector-events" });
  queue = createConnectorQueue(connection, h.env.REDIS_PREFIX);
  events = new QueueEvents("connectors", { connection: eventsConnection, prefix: bullPrefix(h.env.REDIS_PREFIX) });
  await events.waitUntilReady();
});
afterAll(async () => {
  await events?.close();
  await queue?.close();
  if (eventsConnection) await closeRedis(eventsConnection);
  if (connection) await closeRedis(connection);
  await h?.close();
  await Promise.all([openai, postmark, web, toOpenAi, toPostmark, toWeb].map((server) => server?.close()));
});

const credential = async (type: string, secret: unknown) => {
  const id = newId("cred");
  await h.db.credential.create({ data: { id, workspaceId: h.workspaceId, name: `${type}-${id}`, type, secret: encryptSecret(h.env.CREDENTIALS_KEY, secret) } });
  return id;
};
async function testConnection(job: Partial<ConnectorTestJob> & { type: string }) {
  const added = await queue.add("test-connector", { config: {}, credentialId: null, workspaceId: null, ...job });
  return added.waitUntilFinished(events, 15_000);
}
const refusedLoopback = /Refused to call "127\.0\.0\.1".*loopback/;

describe("SSRF: redirects are re-checked on every hop (issue #12 item 5)", () => {
  it("openai.chat: a credential baseURL on an allowed host that answers 307 to another loopback port is refused", async () => {
    const id = await credential("openai", { apiKey: "sk-test", baseURL: `${allowed(toOpenAi)}/v1` });
    const run = await h.run(workflow([["ask", "openai.chat", { credentialId: id, model: "test-model", messages: [{ role: "user", content: "hi" }] }]], [["start", "ask"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(refusedLoopback);
    expect(run.steps.filter((step) => step.stepId === "ask")).toHaveLength(1); // a refusal is not retried
    expect(toOpenAi.hits.length).toBeGreaterThan(0);
    expect(openai.requests).toHaveLength(0);
  });

  it("openai.chat test connection: the same redirect is refused and the other port is never reached", async () => {
    const id = await credential("openai", { apiKey: "sk-test", baseURL: `${allowed(toOpenAi)}/v1` });
    const result = await testConnection({ type: "openai.chat", credentialId: id, workspaceId: h.workspaceId, config: { model: "test-model", messages: [{ role: "user", content: "x" }] } });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(refusedLoopback) });
    expect(openai.requests).toHaveLength(0);
  });

  it("email.postmark: POSTMARK_API_URL answering 307 to another loopback port is refused; nothing was sent", async () => {
    const id = await credential("postmark", { serverToken: "pm-test" });
    const run = await h.run(workflow([["mail", "email.postmark", { credentialId: id, from: "a@example.com", to: "b@example.com", subject: "Hi", textBody: "x" }]], [["start", "mail"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(refusedLoopback);
    expect(run.error).not.toMatch(/outcome unknown/); // refused before anything left: not sent, and said so
    expect(toPostmark.hits.length).toBeGreaterThan(0);
    expect(postmark.requests).toHaveLength(0);
  });

  it("email.postmark test connection: the same redirect is refused", async () => {
    const id = await credential("postmark", { serverToken: "pm-test" });
    const result = await testConnection({ type: "email.postmark", credentialId: id, workspaceId: h.workspaceId, config: { from: "a@example.com", to: "b@example.com", subject: "x", textBody: "x" } });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(refusedLoopback) });
    expect(postmark.requests).toHaveLength(0);
  });

  it("http.request (step and test connection): the redirect to another loopback port is refused", async () => {
    const run = await h.run(workflow([["call", "http.request", { method: "GET", url: `${allowed(toWeb)}/json` }]], [["start", "call"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(refusedLoopback);
    const result = await testConnection({ type: "http.request", config: { url: `${allowed(toWeb)}/json?test` } });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(refusedLoopback) });
    expect(web.requests).toHaveLength(0);
  });
});

describe("SSRF: allow-list entries can name host:port (issue #12 item 6)", () => {
  it("an entry localhost:<port> allows that port only; other loopback ports stay refused", async () => {
    const other = await startTestServer();
    try {
      // toWeb's port is allowed (it answers 307); `other` listens on a loopback port that is not.
      const refused = await h.run(workflow([["call", "http.request", { method: "GET", url: `http://localhost:${other.port}/json` }]], [["start", "call"]]));
      expect(refused.status).toBe("failed");
      expect(refused.error).toMatch(/Refused to call "localhost": it resolves to .* \(loopback\)/);
      expect(other.requests).toHaveLength(0);
      expect(toWeb.hits.length).toBeGreaterThan(0); // the allowed port was reached by the tests above
    } finally {
      await other.close();
    }
  });

  it("npm start allows only the studio's own port on loopback", () => {
    expect(localStudioAllowHosts(3000)).toBe("localhost:3000,127.0.0.1:3000");
  });
});
