import type { CredentialSecret } from "@algorythmos/domain";
import type { Env } from "@algorythmos/platform";
import OpenAI from "openai";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { guardedFetch, outboundUrl } from "../ssrf.js";
import { renderString } from "../templates.js";
import type { Executor } from "./types.js";

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * An SDK client for the credential's server (or OPENAI_BASE_URL) whose every request — redirects included —
 * goes through the guarded fetch (R11): each hop's host is checked and the connection pinned to the checked
 * address. No SDK retries: the engine retries (R17), with a new idempotency key per attempt.
 */
export function openAiClient(secret: CredentialSecret<"openai">, env: Env, timeoutMs: number) {
  const baseURL = secret.baseURL ?? env.OPENAI_BASE_URL;
  outboundUrl(baseURL);
  const client = new OpenAI({
    apiKey: secret.apiKey,
    baseURL,
    maxRetries: 0,
    timeout: timeoutMs,
    fetch: guardedFetch({ allowHosts: env.HTTP_ALLOW_HOSTS }) as unknown as typeof globalThis.fetch,
  });
  return { client, baseURL };
}

/** The SDK wraps what its fetch throws in APIConnectionError; a guard refusal is reported as itself. */
export function guardRefusal(error: unknown): StepError | null {
  if (error instanceof StepError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof StepError ? cause : null;
}

/**
 * openai.chat (R14, R20): one streamed chat completion with the official SDK, on OpenAI (OPENAI_BASE_URL) or
 * any compatible server (the credential's `baseURL`; every hop checked by the SSRF guard and pinned like http.request).
 * Message contents may use `{{ path }}` templates. Tokens are passed to `chunk` as they arrive (the engine
 * publishes them as `step.chunk` events); usage comes from the stream's last chunk (`include_usage`).
 * Output `{ content, json?, model, finishReason, usage }`; with `jsonMode` the content is parsed as JSON into
 * `json` (invalid JSON fails the step, retryably). The request carries `Idempotency-Key` (R18).
 */
export const openaiChat: Executor<"openai.chat"> = async ({ config, context, signal, env, credential, chunk, idempotencyKey }) => {
  const secret = await credential(config.credentialId, "openai");
  const { client, baseURL } = openAiClient(secret, env, config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const messages = config.messages.map((message) => ({ role: message.role, content: renderString(message.content, context) }));
  const input = { model: config.model, messages, baseURL };
  try {
    const stream = await client.chat.completions.create(
      {
        model: config.model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
        ...(config.jsonMode ? { response_format: { type: "json_object" as const } } : {}),
      },
      { signal, idempotencyKey, headers: { "Idempotency-Key": idempotencyKey } },
    );
    let content = "";
    let model = config.model;
    let finishReason: string | null = null;
    let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null = null;
    let choices = 0;
    for await (const part of stream) {
      if (part.model) model = part.model;
      if (part.usage) {
        const { prompt_tokens, completion_tokens, total_tokens } = part.usage;
        usage = { prompt_tokens, completion_tokens, total_tokens };
      }
      const choice = part.choices?.[0];
      if (!choice) continue;
      choices++;
      const delta = choice.delta?.content;
      if (delta) {
        content += delta;
        chunk(delta);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    if (!choices) throw new StepError("The model returned no choices", { retryable: true });
    let json: unknown;
    if (config.jsonMode) {
      try {
        json = JSON.parse(content);
      } catch {
        throw new StepError("The model did not return valid JSON in JSON mode", { retryable: true, output: { content } });
      }
    }
    return { input, output: { content, ...(config.jsonMode ? { json } : {}), model, finishReason, usage } };
  } catch (error) {
    if (signal.aborted) throw new AbortedError();
    const refusal = guardRefusal(error);
    if (refusal) throw refusal;
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const status = error.status;
      throw new StepError(`OpenAI API error ${status}: ${error.message}`, {
        retryable: status >= 500 || status === 408 || status === 429,
        cause: error,
      });
    }
    throw new StepError(`OpenAI request failed: ${errorMessage(error)}`, { retryable: true, cause: error });
  }
};
