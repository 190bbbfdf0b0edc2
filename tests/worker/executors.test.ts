/**
 * openai.chat and email.postmark through their official SDKs, against local servers that speak the real
 * protocols (tests/worker/fakes.ts): streaming, usage, JSON mode, error bodies, idempotency keys.
 */
import { newId } from "@algorythmos/domain";
import { encryptSecret } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiServer, startPostmarkServer } from "./fakes.js";
import { startHarness, startTestServer, workflow, type Harness } from "./harness.js";

let h: Harness;
let openai: Awaited<ReturnType<typeof startOpenAiServer>>;
let postmark: Awaited<ReturnType<typeof startPostmarkServer>>;

beforeAll(async () => {
  [openai, postmark] = await Promise.all([startOpenAiServer({ busyFailures: 1 }), startPostmarkServer()]);
  h = await startHarness({ POSTMARK_API_URL: postmark.url });
});
afterAll(async () => {
  await h?.close();
  await openai?.close();
  await postmark?.close();
});

const credential = async (type: string, secret: unknown) => {
  const id = newId("cred");
  await h.db.credential.create({ data: { id, workspaceId: h.workspaceId, name: `${type}-${id}`, type, secret: encryptSecret(h.env.CREDENTIALS_KEY, secret) } });
  return id;
};

describe("openai.chat", () => {
  const chat = (credentialId: string, config: Record<string, unknown> = {}) =>
    workflow(
      [["ask", "openai.chat", { credentialId, model: "test-model", messages: [{ role: "user", content: "Hello {{ input.name }}, how are you" }], ...config }]],
      [["start", "ask"]],
    );

  it("R14 R20 R18: streams tokens as step.chunk events, records content, usage and model, sends an Idempotency-Key", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const run = await h.run(chat(good), { name: "Ada" });
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({
      ask: {
        content: "echo: Hello Ada, how are you",
        model: "test-model",
        finishReason: "stop",
        usage: { prompt_tokens: 7, completion_tokens: 6, total_tokens: 13 },
      },
    });
    const chunks = run.events.filter((event) => event.type === "step.chunk");
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(chunks.every((event) => event.stepId === "ask" && event.status === "running")).toBe(true);
    expect(chunks.map((event) => (event.output as { delta: string }).delta).join("")).toBe("echo: Hello Ada, how are you");
    // Chunks come between step.started and step.succeeded.
    const kinds = run.events.map((event) => event.type);
    expect(kinds.indexOf("step.chunk")).toBeGreaterThan(kinds.lastIndexOf("step.started"));
    expect(kinds.lastIndexOf("step.chunk")).toBeLessThan(kinds.indexOf("run.finished"));

    const request = openai.requests.find((r) => (r.body as { messages?: { content: string }[] }).messages?.[0]?.content === "Hello Ada, how are you")!;
    expect(request.body).toMatchObject({ model: "test-model", stream: true, stream_options: { include_usage: true } });
    expect(request.headers["idempotency-key"]).toBe(`${run.id}:ask`);
    expect(JSON.stringify(run.steps)).not.toContain("sk-test");
    expect(JSON.stringify(run.events)).not.toContain("sk-test");
  });

  it("R14: JSON mode parses the streamed content", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const run = await h.run(chat(good, { model: "json-model", jsonMode: true }));
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ ask: { content: '{"answer":42}', json: { answer: 42 } } });
    expect(openai.requests.at(-1)!.body).toMatchObject({ response_format: { type: "json_object" } });
  });

  it("R14 R17: a 401 fails at once (not retryable) with the API's message", async () => {
    const bad = await credential("openai", { apiKey: "sk-wrong", baseURL: `${openai.url}/v1` });
    const run = await h.run(chat(bad));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "ask" failed: OpenAI API error 401: .*Incorrect API key/);
    expect(run.steps.filter((s) => s.stepId === "ask")).toHaveLength(1);
  });

  it("R17 R18: a 429 is retried with backoff as attempt 2 (with the same idempotency key) and succeeds", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const run = await h.run(chat(good, { model: "busy-model", retry: { maxAttempts: 3, backoffMs: 10 } }));
    expect(run.status).toBe("succeeded");
    const attempts = run.steps.filter((s) => s.stepId === "ask");
    expect(attempts.map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "succeeded"]]);
    expect(attempts[0]!.error).toMatch(/OpenAI API error 429/);
    const retrying = run.events.find((e) => e.type === "step.retrying")!;
    expect(retrying).toMatchObject({ stepId: "ask", status: "retrying", output: { attempt: 1, maxAttempts: 3 } });
    expect(retrying.error).toMatch(/429/);
    const keys = openai.requests.filter((r) => (r.body as { model?: string }).model === "busy-model").map((r) => r.headers["idempotency-key"]);
    expect(keys).toEqual([`${run.id}:ask`, `${run.id}:ask`]); // R18: one key for every attempt
  });

  it("R17: a 500 is retried until the attempts are used up, then the step fails", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const run = await h.run(chat(good, { model: "broken-model", retry: { maxAttempts: 2, backoffMs: 5 } }));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/OpenAI API error 500/);
    expect(run.steps.filter((s) => s.stepId === "ask").map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "failed"]]);
    expect(run.events.filter((e) => e.type === "step.retrying")).toHaveLength(1);
    expect(run.events.filter((e) => e.type === "step.failed")).toHaveLength(1);
  });

  it("R15: cancel aborts a streaming completion", async () => {
    const good = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
    const runId = await h.createRun(chat(good, { model: "slow-model" }));
    await h.enqueue(runId);
    await h.until("the first token", async () => !!(await h.db.runEvent.findFirst({ where: { runId, payload: { path: ["type"], equals: "step.chunk" } } })));
    await h.cancel(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.steps.find((s) => s.stepId === "ask")).toMatchObject({ status: "failed", error: "Run canceled" });
    await h.until("the stream to be closed by the client", async () =>
      openai.requests.some((r) => (r.body as { model?: string }).model === "slow-model" && r.aborted),
    );
  });

  it("R14: a missing or mistyped credential is a clear step failure", async () => {
    const missing = await h.run(chat("cred_nope"));
    expect(missing.error).toMatch(/Credential "cred_nope" does not exist in this workspace/);
    const wrongType = await h.run(chat(await credential("postmark", { serverToken: "x" })));
    expect(wrongType.error).toMatch(/is a postmark credential, not openai/);
  });
});

describe("email.postmark", () => {
  const mail = (credentialId: string, config: Record<string, unknown> = {}) =>
    workflow(
      [
        [
          "mail",
          "email.postmark",
          { credentialId, from: "robot@example.com", to: "{{ input.to }}", subject: "Hi {{ input.name }}", textBody: "Hello {{ input.name }}", htmlBody: "<p>Hello {{ input.name }}</p>", ...config },
        ],
      ],
      [["start", "mail"]],
    );

  it("R14 R18: sends POST /email through the SDK with templates; output has the MessageID; the key is in Metadata", async () => {
    const token = await credential("postmark", { serverToken: "pm-test" });
    const run = await h.run(mail(token), { to: "ada@example.com", name: "Ada" });
    expect(run.status).toBe("succeeded");
    const sent = postmark.requests.at(-1)!;
    expect(sent.headers["x-postmark-server-token"]).toBe("pm-test");
    expect(sent.body).toMatchObject({
      From: "robot@example.com",
      To: "ada@example.com",
      Subject: "Hi Ada",
      TextBody: "Hello Ada",
      HtmlBody: "<p>Hello Ada</p>",
      Metadata: { "algorythmos-key": `${run.id}:mail` },
    });
    const output = (run.output as { mail: Record<string, unknown> }).mail;
    expect(output).toMatchObject({ to: "ada@example.com", errorCode: 0, message: "OK" });
    expect(output.messageId).toEqual(expect.any(String));
    expect(JSON.stringify(run.steps)).not.toContain("pm-test");
  });

  it("R14 R17: a 422 (ErrorCode 300) fails at once with Postmark's message", async () => {
    const token = await credential("postmark", { serverToken: "pm-test" });
    const run = await h.run(mail(token), { to: "nobody", name: "Ada" });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "mail" failed: Postmark error 422 \(code 300\): Invalid 'To' address/);
    expect(run.steps.filter((s) => s.stepId === "mail")).toHaveLength(1);
  });

  it("R14: a wrong server token fails with Postmark's 401", async () => {
    const token = await credential("postmark", { serverToken: "pm-wrong" });
    const run = await h.run(mail(token), { to: "ada@example.com", name: "Ada" });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Postmark error 401 \(code 10\)/);
  });

  it("R18: an at-most-once step whose connection breaks mid-request fails as \"outcome unknown\" and is not repeated", async () => {
    // A server that accepts the request and drops the connection before answering: Postmark may have sent it.
    const { createServer } = await import("node:http");
    let received = 0;
    const dropper = createServer((request) => {
      received++;
      request.on("data", () => {});
      request.on("end", () => request.socket.destroy());
    });
    await new Promise<void>((resolve) => dropper.listen(0, "127.0.0.1", resolve));
    const port = (dropper.address() as { port: number }).port;
    const other = await startHarness({ POSTMARK_API_URL: `http://127.0.0.1:${port}` });
    try {
      const id = newId("cred");
      await other.db.credential.create({ data: { id, workspaceId: other.workspaceId, name: `pm-${id}`, type: "postmark", secret: encryptSecret(other.env.CREDENTIALS_KEY, { serverToken: "pm-test" }) } });
      const run = await other.run(
        workflow([["mail", "email.postmark", { credentialId: id, from: "a@example.com", to: "b@example.com", subject: "Hi", textBody: "x", retry: { maxAttempts: 3, backoffMs: 5 } }]], [["start", "mail"]]),
      );
      expect(run.status).toBe("failed");
      expect(run.error).toMatch(/outcome unknown/);
      expect(run.steps.filter((s) => s.stepId === "mail")).toHaveLength(1); // not retried even with maxAttempts 3
      expect(received).toBe(1);
    } finally {
      await other.close();
      dropper.closeAllConnections();
      await new Promise<void>((resolve) => dropper.close(() => resolve()));
    }
  });
});

describe("http.request with a credential", () => {
  it("R14: sends an httpHeader credential's header; the ledger and the events show it redacted", async () => {
    const web = await startTestServer();
    try {
      const secretValue = "Bearer very-secret-token-123";
      const id = await credential("httpHeader", { headerName: "Authorization", headerValue: secretValue });
      const run = await h.run(workflow([["call", "http.request", { method: "GET", url: `${web.url}/json?with-credential`, credentialId: id }]], [["start", "call"]]));
      expect(run.status).toBe("succeeded");
      const request = web.requests.find((item) => item.url.includes("with-credential"));
      expect(request?.headers.authorization).toBe(secretValue);
      const step = run.steps.find((row) => row.stepId === "call")!;
      expect((step.input as { headers: Record<string, string> }).headers.authorization).toBe("[redacted]");
      expect(JSON.stringify(run)).not.toContain("very-secret-token-123");
    } finally {
      await web.close();
    }
  });

  it("R14: a credential of another type is a clear step failure", async () => {
    const web = await startTestServer();
    try {
      const id = await credential("postmark", { serverToken: "pm" });
      const run = await h.run(workflow([["call", "http.request", { method: "GET", url: `${web.url}/json`, credentialId: id }]], [["start", "call"]]));
      expect(run.status).toBe("failed");
      expect(run.steps.find((row) => row.stepId === "call")!.error).toMatch(/httpHeader/);
      expect(web.requests).toHaveLength(0);
    } finally {
      await web.close();
    }
  });
});
