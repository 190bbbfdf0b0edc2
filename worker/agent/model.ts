/**
 * One model call of an ai.agent (R40): a streamed Chat Completions request with the step's tools, through the
 * official SDK and the same guarded client as openai.chat (R11, R14). Chat Completions rather than the
 * Responses API: it is what every OpenAI-compatible server speaks (the credential's `baseURL` may name one),
 * and the agent keeps its own conversation in the ledger (R41), so Responses' server-side state would be a
 * second copy that a replay could not trust.
 */
import type { CredentialSecret } from "@algorythmos/domain";
import type { Env } from "@algorythmos/platform";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { guardRefusal, openAiClient } from "../executors/openai-chat.js";

export type AgentMessage = ChatCompletionMessageParam;

export interface ToolCallRequest {
  id: string;
  name: string;
  /** The arguments as the model wrote them (JSON text, possibly invalid). */
  arguments: string;
}

export interface ModelReply {
  content: string;
  toolCalls: ToolCallRequest[];
  model: string;
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
}

/** A failed model call; `retryAfterMs` from the server's Retry-After (429/503), when it sent one. */
export class ModelCallError extends StepError {
  constructor(
    message: string,
    options: { retryable: boolean; cause?: unknown },
    readonly retryAfterMs: number | null = null,
  ) {
    super(message, options);
    this.name = "ModelCallError";
  }
}

export async function callModel(args: {
  secret: CredentialSecret<"openai">;
  env: Env;
  model: string;
  messages: AgentMessage[];
  tools: ChatCompletionTool[];
  maxTokens?: number;
  temperature?: number;
  timeoutMs: number;
  idempotencyKey: string;
  signal: AbortSignal;
  chunk(delta: string): void;
}): Promise<ModelReply> {
  const { client } = openAiClient(args.secret, args.env, args.timeoutMs);
  try {
    const stream = await client.chat.completions.create(
      {
        model: args.model,
        messages: args.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(args.tools.length ? { tools: args.tools } : {}),
        ...(args.maxTokens === undefined ? {} : { max_completion_tokens: args.maxTokens }),
        ...(args.temperature === undefined ? {} : { temperature: args.temperature }),
      },
      { signal: args.signal, idempotencyKey: args.idempotencyKey, headers: { "Idempotency-Key": args.idempotencyKey } },
    );
    let content = "";
    let model = args.model;
    let finishReason: string | null = null;
    let promptTokens = 0;
    let completionTokens = 0;
    let choices = 0;
    // Tool calls arrive in pieces keyed by index: the id and name first, the arguments as text deltas.
    const calls = new Map<number, ToolCallRequest>();
    for await (const part of stream) {
      if (part.model) model = part.model;
      if (part.usage) {
        promptTokens = part.usage.prompt_tokens;
        completionTokens = part.usage.completion_tokens;
      }
      const choice = part.choices?.[0];
      if (!choice) continue;
      choices++;
      const delta = choice.delta;
      if (delta?.content) {
        content += delta.content;
        args.chunk(delta.content);
      }
      for (const piece of delta?.tool_calls ?? []) {
        const call = calls.get(piece.index) ?? { id: "", name: "", arguments: "" };
        if (piece.id) call.id = piece.id;
        if (piece.function?.name) call.name += piece.function.name;
        if (piece.function?.arguments) call.arguments += piece.function.arguments;
        calls.set(piece.index, call);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    // The SDK ends the iteration quietly when the request is aborted: the partial reply is not an answer.
    if (args.signal.aborted) throw new AbortedError();
    if (!choices) throw new ModelCallError("The model returned no choices", { retryable: true });
    const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    return { content, toolCalls, model, finishReason, promptTokens, completionTokens };
  } catch (error) {
    if (args.signal.aborted) throw new AbortedError();
    if (error instanceof StepError) throw error;
    const refusal = guardRefusal(error);
    if (refusal) throw refusal;
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const status = error.status;
      throw new ModelCallError(
        `OpenAI API error ${status}: ${error.message}`,
        { retryable: status >= 500 || status === 408 || status === 429, cause: error },
        retryAfterMs(error.headers),
      );
    }
    throw new ModelCallError(`OpenAI request failed: ${errorMessage(error)}`, { retryable: true, cause: error });
  }
}

/** Retry-After as milliseconds: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(headers: Headers | undefined): number | null {
  const ms = Number(headers?.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && headers?.get("retry-after-ms")) return ms;
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
