/**
 * Stand-ins for third parties at the network edge, speaking their real HTTP protocols so the official SDKs
 * talk to them unchanged: an OpenAI-compatible chat completions API (JSON and SSE streaming, error bodies)
 * and Postmark's `POST /email`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenOnLoopback } from "../support/http.js";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** Set when the client went away before the response ended (an aborted request). */
  aborted: boolean;
}

async function listen(handler: (request: IncomingMessage, response: ServerResponse, body: string, record: Recorded) => void) {
  const requests: Recorded[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // keep text
      }
      const record: Recorded = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body, aborted: false };
      requests.push(record);
      response.on("close", () => {
        if (!response.writableFinished) record.aborted = true;
      });
      handler(request, response, text, record);
    });
  });
  return { ...(await listenOnLoopback(server)), requests };
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

/**
 * An OpenAI-compatible server. The model name chooses the behaviour:
 * - any model: the reply is `echo: <last message>`, streamed word by word when `stream: true`;
 * - `json-model`: replies `{"answer":42}`;
 * - `busy-model`: 429 (rate limit) for the first `busyFailures` requests (default 1), then normal replies;
 * - `broken-model`: always 500;
 * - `slow-model`: streams one token, then never finishes (for cancel tests).
 * The API key must be `sk-test`, else 401 with OpenAI's error body.
 */
export async function startOpenAiServer(options: { busyFailures?: number } = {}) {
  let busyLeft = options.busyFailures ?? 1;
  return listen((request, response, _text, record) => {
    if (request.method !== "POST" || !request.url?.startsWith("/v1/chat/completions")) return json(response, 404, { error: { message: "Not found", type: "invalid_request_error" } });
    if (request.headers.authorization !== "Bearer sk-test") {
      return json(response, 401, {
        error: { message: "Incorrect API key provided: sk-wr***. You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error", param: null, code: "invalid_api_key" },
      });
    }
    const body = record.body as { model: string; messages: { content: string }[]; stream?: boolean; stream_options?: { include_usage?: boolean } };
    if (body.model === "busy-model" && busyLeft > 0) {
      busyLeft--;
      return json(response, 429, {
        error: { message: "Rate limit reached for requests", type: "requests", param: null, code: "rate_limit_exceeded" },
      });
    }
    if (body.model === "broken-model") {
      return json(response, 500, { error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } });
    }
    const content = body.model === "json-model" ? '{"answer":42}' : `echo: ${body.messages.at(-1)?.content ?? ""}`;
    const usage = { prompt_tokens: 7, completion_tokens: content.split(" ").length, total_tokens: 7 + content.split(" ").length };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      return json(response, 200, {
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
        usage,
      });
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (chunk: unknown) => response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    const base = { id, object: "chat.completion.chunk", created, model: body.model, system_fingerprint: "fp_test" };
    send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] });
    const tokens = content.match(/\S+\s*/g) ?? [content];
    if (body.model === "slow-model") {
      send({ ...base, choices: [{ index: 0, delta: { content: tokens[0] }, logprobs: null, finish_reason: null }] });
      return; // never finishes
    }
    let index = 0;
    const next = () => {
      if (index < tokens.length) {
        send({ ...base, choices: [{ index: 0, delta: { content: tokens[index++] }, logprobs: null, finish_reason: null }] });
        setTimeout(next, 5);
        return;
      }
      send({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] });
      if (body.stream_options?.include_usage) send({ ...base, choices: [], usage });
      response.end("data: [DONE]\n\n");
    };
    next();
  });
}

/**
 * A Postmark-compatible server: `GET /server` (the server's details) and `POST /email` with `X-Postmark-Server-Token: pm-test` answers like Postmark
 * (`{ To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK" }`); a bad token is 401 (ErrorCode 10); a `To`
 * without "@" is 422 with ErrorCode 300.
 */
export async function startPostmarkServer() {
  return listen((request, response, _text, record) => {
    const route = `${request.method} ${request.url}`;
    if (route !== "POST /email" && route !== "GET /server") return json(response, 404, { ErrorCode: 404, Message: "Not found" });
    if (request.headers["x-postmark-server-token"] !== "pm-test") {
      return json(response, 401, { ErrorCode: 10, Message: "The Server Token you provided in the X-Postmark-Server-Token request header was invalid." });
    }
    if (route === "GET /server") return json(response, 200, { ID: 1, Name: "Test server", ApiTokens: ["pm-test"], Color: "blue", SmtpApiActivated: true });
    const email = record.body as { To?: string };
    if (!email.To?.includes("@")) return json(response, 422, { ErrorCode: 300, Message: `Invalid 'To' address: '${email.To ?? ""}'.` });
    json(response, 200, { To: email.To, SubmittedAt: new Date().toISOString(), MessageID: randomUUID(), ErrorCode: 0, Message: "OK" });
  });
}

/** What the scripted Chat Completions server answers to one request (startScriptedOpenAiServer). */
export type ScriptedReply =
  | { content: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { toolCalls: { name: string; arguments: unknown }[]; content?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  /** An OpenAI error body with this status; `retryAfter` sets the Retry-After header (seconds). */
  | { status: number; message?: string; retryAfter?: string }
  /** Streams the first word of `content`, then holds the response open until the client goes away. */
  | { hang: true; content?: string };

export interface ScriptedRequest {
  model: string;
  messages: { role: string; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  stream?: boolean;
  max_completion_tokens?: number;
  temperature?: number;
}

/**
 * An OpenAI-compatible Chat Completions server whose every answer is chosen by `script` (called with the
 * request body and its 1-based number): streamed text, streamed tool calls (id and name in one chunk, the
 * arguments split over two more, as OpenAI sends them), an error status with OpenAI's error body and an
 * optional Retry-After, or a stream that never ends. Usage (default 100 prompt / 20 completion tokens) is
 * sent in the last chunk when `stream_options.include_usage` is set. The API key must be `sk-test`.
 */
export async function startScriptedOpenAiServer(script: (request: ScriptedRequest, n: number) => ScriptedReply | Promise<ScriptedReply>) {
  let count = 0;
  return listen(async (request, response, _text, record) => {
    if (request.method !== "POST" || !request.url?.startsWith("/v1/chat/completions")) return json(response, 404, { error: { message: "Not found", type: "invalid_request_error" } });
    if (request.headers.authorization !== "Bearer sk-test") {
      return json(response, 401, { error: { message: "Incorrect API key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" } });
    }
    const body = record.body as ScriptedRequest & { stream_options?: { include_usage?: boolean } };
    const reply = await script(body, ++count);
    if ("status" in reply) {
      response.writeHead(reply.status, { "content-type": "application/json", ...(reply.retryAfter ? { "retry-after": reply.retryAfter } : {}) });
      return response.end(JSON.stringify({ error: { message: reply.message ?? `Error ${reply.status}`, type: reply.status === 429 ? "requests" : "server_error", param: null, code: reply.status === 429 ? "rate_limit_exceeded" : null } }));
    }
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, object: "chat.completion.chunk", created, model: body.model, system_fingerprint: "fp_test" };
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (chunk: unknown) => response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    const delta = (value: unknown, finish: string | null = null) => send({ ...base, choices: [{ index: 0, delta: value, logprobs: null, finish_reason: finish }] });
    delta({ role: "assistant", content: "" });
    const words = ("content" in reply && reply.content ? reply.content : "").match(/\S+\s*/g) ?? [];
    if ("hang" in reply) {
      if (words[0]) delta({ content: words[0] });
      return; // never finishes
    }
    for (const word of words) {
      delta({ content: word });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    if ("toolCalls" in reply) {
      reply.toolCalls.forEach((call, index) => {
        const text = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
        const half = Math.ceil(text.length / 2);
        delta({ tool_calls: [{ index, id: `call_${randomUUID().slice(0, 8)}`, type: "function", function: { name: call.name, arguments: "" } }] });
        delta({ tool_calls: [{ index, function: { arguments: text.slice(0, half) } }] });
        delta({ tool_calls: [{ index, function: { arguments: text.slice(half) } }] });
      });
    }
    delta({}, "toolCalls" in reply ? "tool_calls" : "stop");
    const usage = ("usage" in reply && reply.usage) || { prompt_tokens: 100, completion_tokens: 20 };
    if (body.stream_options?.include_usage) send({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    response.end("data: [DONE]\n\n");
  });
}
