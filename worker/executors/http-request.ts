import { Headers, type Response } from "undici";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { REDACTED } from "../redact.js";
import { guardedFetch, outboundUrl } from "../ssrf.js";
import { renderString, renderValue } from "../templates.js";
import type { Executor } from "./types.js";

export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * http.request (R11, R12): templates resolved, every hop checked by the SSRF guard, redirects followed by
 * hand by the one guarded fetch (at most 5), the whole exchange bounded by `timeoutMs`, the body capped at 1 MiB.
 * Output `{ status, headers, body }`; a non-2xx status fails the step (retryable for 408, 429 and 5xx).
 * Each hop connects to the address the guard checked (no DNS rebinding). Methods other than GET and HEAD
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
  const guarded = guardedFetch({ allowHosts: env.HTTP_ALLOW_HOSTS, credentialHeaders: secret ? [secret.headerName] : [] });
  try {
    const response = await guarded(url, { method, headers, body, signal: combined });
    const output = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: method === "HEAD" ? null : await readBody(response),
    };
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      const snippet = typeof output.body === "string" ? output.body : JSON.stringify(output.body);
      throw new StepError(
        `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} from ${method} ${response.url || url}` +
          (snippet ? `: ${snippet.slice(0, 200)}` : ""),
        { retryable, output },
      );
    }
    return { output, input };
  } catch (error) {
    if (signal.aborted) throw new AbortedError();
    if (timeout.aborted) throw new StepError(`Request timed out after ${config.timeoutMs} ms`, { retryable: true, cause: error });
    if (error instanceof StepError) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new StepError(`Request to ${url.host} failed: ${cause?.code ?? cause?.message ?? errorMessage(error)}`, {
      retryable: true,
      cause: error,
    });
  }
};

async function readBody(response: Response): Promise<unknown> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new StepError(`Response body is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        throw new StepError(`Response body is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const type = response.headers.get("content-type") ?? "";
  if (/[/+]json\b/i.test(type) && text.trim()) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
