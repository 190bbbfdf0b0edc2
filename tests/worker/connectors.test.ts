/**
 * R24 "test connection": the API adds a `test-connector` job to the `connectors` queue and waits for its
 * result through QueueEvents; the worker answers `{ ok, message }` without side effects.
 */
import { newId } from "@algorythmos/domain";
import { bullPrefix, closeRedis, createConnectorQueue, createRedis, encryptSecret, type ConnectorTestJob } from "@algorythmos/platform";
import { QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiServer, startPostmarkServer } from "./fakes.js";
import { startHarness, startTestServer, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;
let openai: Awaited<ReturnType<typeof startOpenAiServer>>;
let postmark: Awaited<ReturnType<typeof startPostmarkServer>>;
let connection: ReturnType<typeof createRedis>;
let eventsConnection: ReturnType<typeof createRedis>;
let queue: ReturnType<typeof createConnectorQueue>;
let events: QueueEvents;

beforeAll(async () => {
  [web, openai, postmark] = await Promise.all([startTestServer(), startOpenAiServer({ busyFailures: 0 }), startPostmarkServer()]);
  h = await startHarness({ POSTMARK_API_URL: postmark.url });
  connection = createRedis(h.env.REDIS_URL, { name: "test-connectors" });
  eventsConnection = createRedis(h.env.REDIS_URL, { blocking: true, name: "test-connector-events" });
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
  await Promise.all([web?.close(), openai?.close(), postmark?.close()]);
});

async function test(job: Partial<ConnectorTestJob> & { type: string }) {
  const added = await queue.add("test-connector", { config: {}, credentialId: null, workspaceId: null, ...job });
  return added.waitUntilFinished(events, 15_000);
}
const credential = async (type: string, secret: unknown) => {
  const id = newId("cred");
  await h.db.credential.create({ data: { id, workspaceId: h.workspaceId, name: `${type}-${id}`, type, secret: encryptSecret(h.env.CREDENTIALS_KEY, secret) } });
  return id;
};

describe("R24 test connection", () => {
  it("R24: http.request GET is sent; other methods are only checked, never sent", async () => {
    expect(await test({ type: "http.request", config: { url: `${web.url}/json?connector-test` } })).toEqual({ ok: true, message: `HTTP 200 from GET ${web.url}/json?connector-test` });
    const post = await test({ type: "http.request", config: { method: "POST", url: `${web.url}/json?connector-post` } });
    expect(post.ok).toBe(true);
    expect(post.message).toMatch(/POST request was not sent/);
    expect(web.requests.some((r) => r.url.includes("connector-post"))).toBe(false);
    const refused = await test({ type: "http.request", config: { url: "http://169.254.169.254/latest/meta-data" } });
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/Refused to call "169\.254\.169\.254".*cloud metadata/) });
    expect(await test({ type: "http.request", config: { url: "" } })).toMatchObject({ ok: false, message: expect.stringMatching(/^Invalid config: url/) });
  });

  it("R24: openai.chat checks the key and the model with a one-token completion", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const ok = await test({ type: "openai.chat", credentialId: good, workspaceId: h.workspaceId, config: { model: "test-model", messages: [{ role: "user", content: "x" }] } });
    expect(ok).toEqual({ ok: true, message: `Connected to ${openai.url}/v1; model test-model answered` });
    expect(openai.requests.at(-1)!.body).toMatchObject({ max_tokens: 1 });
    const bad = await credential("openai", { apiKey: "sk-wrong", baseURL: `${openai.url}/v1` });
    const refused = await test({ type: "openai.chat", credentialId: bad, workspaceId: h.workspaceId, config: { messages: [{ role: "user", content: "x" }] } });
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/OpenAI API error 401/);
    expect(refused.message).not.toContain("sk-wrong");
  });

  it("R24: email.postmark reads the server with the token and sends no email", async () => {
    const sent = postmark.requests.filter((r) => r.url === "/email").length;
    const good = await credential("postmark", { serverToken: "pm-test" });
    const config = { from: "a@example.com", to: "b@example.com", subject: "x", textBody: "x" };
    expect(await test({ type: "email.postmark", credentialId: good, workspaceId: h.workspaceId, config })).toEqual({
      ok: true,
      message: 'Connected to Postmark server "Test server"; no email was sent',
    });
    const bad = await credential("postmark", { serverToken: "nope" });
    expect(await test({ type: "email.postmark", credentialId: bad, workspaceId: h.workspaceId, config })).toMatchObject({ ok: false, message: expect.stringMatching(/Postmark error 401/) });
    expect(postmark.requests.filter((r) => r.url === "/email").length).toBe(sent);
  });

  it("R24: a step type without a connection, or a missing credential, is a clear answer", async () => {
    expect(await test({ type: "transform" })).toEqual({ ok: false, message: 'Step type "transform" has no connection to test' });
    const missing = await test({ type: "openai.chat", config: { credentialId: "cred_x", messages: [{ role: "user", content: "x" }] } });
    expect(missing).toEqual({ ok: false, message: "Choose a credential" });
  });
});
