import { pipeline, type Readable } from "node:stream";
import zlib from "node:zlib";
import { Headers } from "undici";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { REDACTED } from "../redact.js";
import { guardedRequest, outboundUrl, type GuardedResponse } from "../ssrf.js";
import { renderString, renderValue } from "../templates.js";
import type { Executor } from "./types.js";

export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * http.request (R11, R12): templates resolved, every hop checked by the SSRF guard, redirects followed by
 * hand by the guarded request (at most 5), the whole exchange bounded by `timeoutMs`, the body capped at 1 MiB.
 * Output `{ status, headers, body }`; a non-2xx status fails the step (retryable for 408, 429 and 5xx).
 * Each hop connects to the address the guard checked (no DNS rebinding), on a connection kept alive for that
 * origin and address (R61). Methods other than GET and HEAD
 * carry `Idempotency-Key: <runId>:<stepId>:<attempt>` unless the config sets one (R18).
 */
export const httpRequest: Executor<"http.request"> = async ({ config, context, signal, env, idempotencyKey, credential }) => {
  const url = outboundUrl(renderString(config.url, context));
  const method: string = config.method;
  const headers = new Headers();
  for (const [name, value] of Object.entries(config.headers)) headers.set(name, renderString(value, context));
  let body: string | undefined;
  if (config.body !== undefined && config.body !== null && method !== "GET" && method !== "HEAD") {
    const rendered = renderValue(config.body, context);
    if (typeof rendered === "string") body = rendered;
    else {
      body = JSON.stringify(rendered);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
  }
  if (method !== "GET" && method !== "HEAD" && !headers.has("idempotency-key")) headers.set("idempotency-key", idempotencyKey);
  // R14: a credential's header is sent but never recorded: the ledger shows it redacted.
  const secret = config.credentialId ? await credential(config.credentialId, "httpHeader") : null;
  const recorded = Object.fromEntries(headers);
  if (secret) {
    headers.set(secret.headerName, secret.headerValue);
    recorded[secret.headerName.toLowerCase()] = REDACTED;
  }
  const input = { method, url: url.toString(), headers: recorded, body: body ?? null };

  const timeout = AbortSignal.timeout(config.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  // R11: every hop passes the SSRF guard; the credential's header never follows a redirect to another origin.
  const guard = { allowHosts: env.HTTP_ALLOW_HOSTS, credentialHeaders: secret ? [secret.headerName] : [] };
  try {
    const response = await guardedRequest(url, { method, headers, body, signal: combined }, guard);
    const output = {
      status: response.status,
      headers: response.headers,
      body: method === "HEAD" ? await response.body.dump().then(() => null, () => null) : await readBody(response),
    };
    if (response.status < 200 || response.status >= 300) {
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      const snippet = typeof output.body === "string" ? output.body : JSON.stringify(output.body);
      throw new StepError(
        `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} from ${method} ${response.url}` +
          (snippet ? `: ${snippet.slice(0, 200)}` : ""),
        { retryable, output },
      );
    }
    return { output, input };
  } catch (error) {
    if (signal.aborted) throw new AbortedError();
    if (timeout.aborted) throw new StepError(`Request timed out after ${config.timeoutMs} ms`, { retryable: true, cause: error });
    if (error instanceof StepError) throw error;
    const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
    // undici refuses some headers (Connection: upgrade, Transfer-Encoding, Expect…): the config is wrong, a retry is not.
    if (code === "UND_ERR_INVALID_ARG" || code === "UND_ERR_NOT_SUPPORTED") throw new StepError(`Request to ${url.host} not sent: ${errorMessage(error)}`, { cause: error });
    throw new StepError(`Request to ${url.host} failed: ${cause?.code ?? code ?? cause?.message ?? errorMessage(error)}`, {
      retryable: true,
      cause: error,
    });
  }
};

/**
 * The decoders of a Content-Encoding, last applied first, as fetch built them (none when one is unknown; null
 * for more than five, which fetch refused too).
 */
function decodersFor(contentEncoding: string | undefined): NodeJS.ReadWriteStream[] | null {
  const codings = (contentEncoding ?? "").toLowerCase().split(",").map((coding) => coding.trim()).filter(Boolean);
  if (codings.length > 5) return null;
  const lenient = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH }; // what fetch (and curl) accept
  const decoders: NodeJS.ReadWriteStream[] = [];
  for (const coding of codings.reverse()) {
    if (coding === "gzip" || coding === "x-gzip") decoders.push(zlib.createGunzip(lenient));
    else if (coding === "deflate") decoders.push(zlib.createInflate(lenient));
    else if (coding === "br") decoders.push(zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }));
    else return [];
  }
  return decoders;
}

/** The body, decoded and capped at MAX_RESPONSE_BYTES (after decoding); JSON parsed when the type says so. */
async function readBody(response: GuardedResponse): Promise<unknown> {
  const declared = Number(response.headers["content-length"]);
  if (declared > MAX_RESPONSE_BYTES) {
    response.body.destroy();
    throw new StepError(`Response body is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  const decoders = decodersFor(response.headers["content-encoding"]);
  if (!decoders) {
    response.body.destroy();
    throw new StepError("The response has more than 5 content encodings");
  }
  const stream: Readable = decoders.length ? (pipeline([response.body, ...decoders], () => {}) as unknown as Readable) : response.body;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_RESPONSE_BYTES) throw new StepError(`Response body is larger than ${MAX_RESPONSE_BYTES} bytes`);
      chunks.push(chunk);
    }
  } finally {
    if (size > MAX_RESPONSE_BYTES || !response.body.readableEnded) {
      response.body.destroy();
      stream.destroy();
    }
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const type = response.headers["content-type"] ?? "";
  if (/[/+]json\b/i.test(type) && text.trim()) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
