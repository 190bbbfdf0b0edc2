import OpenAI from "openai";
import { ShutdownAbort, StepError, errorMessage } from "../errors.js";
import { assertPublicHost } from "../ssrf.js";
import { renderString } from "../templates.js";
import type { Executor } from "./types.js";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
const TIMEOUT_MS = 120_000;

/**
 * openai.chat (R14): one chat completion with the official SDK, on OpenAI or any compatible server (the
 * credential's `baseURL`, checked by the SSRF guard like http.request). Message contents may use
 * `{{ path }}` templates. Output `{ content, json?, model, finishReason, usage }`; with `jsonMode` the
 * content is parsed as JSON into `json` (invalid JSON fails the step).
 */
export const openaiChat: Executor<"openai.chat"> = async ({ config, context, signal, env, credential }) => {
  const secret = await credential(config.credentialId, "openai");
  const baseURL = secret.baseURL ?? DEFAULT_BASE_URL;
  await assertPublicHost(new URL(baseURL), env.HTTP_ALLOW_HOSTS);
  const client = new OpenAI({ apiKey: secret.apiKey, baseURL, maxRetries: 0, timeout: TIMEOUT_MS });
  const messages = config.messages.map((message) => ({ role: message.role, content: renderString(message.content, context) }));
  try {
    const completion = await client.chat.completions.create(
      {
        model: config.model,
        messages,
        ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
        ...(config.jsonMode ? { response_format: { type: "json_object" as const } } : {}),
      },
      { signal },
    );
    const choice = completion.choices[0];
    if (!choice) throw new StepError("The model returned no choices", { retryable: true });
    const content = choice.message.content ?? "";
    let json: unknown;
    if (config.jsonMode) {
      try {
        json = JSON.parse(content);
      } catch {
        throw new StepError("The model did not return valid JSON in JSON mode", { retryable: true, output: { content } });
      }
    }
    return {
      input: { model: config.model, messages, baseURL },
      output: {
        content,
        ...(config.jsonMode ? { json } : {}),
        model: completion.model,
        finishReason: choice.finish_reason,
        usage: completion.usage ?? null,
      },
    };
  } catch (error) {
    if (signal.aborted) throw new ShutdownAbort();
    if (error instanceof StepError) throw error;
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
