/**
 * The tools of an ai.agent (R43): what the model is told about them, and one call of one tool. A call's
 * outcome is `{ result }` or `{ error }` — both go back to the model, which may try again or answer anyway —
 * except a refused address (R11), which fails the agent step: it is a misconfigured or abused tool, not a
 * reply to reason about.
 */
import type { AgentTool, CredentialSecret, CredentialType } from "@algorythmos/domain";
import type { Env } from "@algorythmos/platform";
import type { ChatCompletionTool } from "openai/resources/chat/completions";
import { Headers } from "undici";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { evaluateExpression } from "../expressions.js";
import { MAX_RESPONSE_BYTES } from "../executors/http-request.js";
import type { RunContext } from "../executors/types.js";
import { REDACTED } from "../redact.js";
import { guardedFetch, outboundUrl } from "../ssrf.js";
import { renderString } from "../templates.js";

const BUILTINS: Record<"current_time" | "jsonata", { description: string; parameters: Record<string, unknown> }> = {
  current_time: {
    description: "The current date and time (ISO 8601, UTC, and in the given IANA time zone if one is given).",
    parameters: { type: "object", properties: { timezone: { type: "string", description: "An IANA time zone, e.g. Europe/Paris" } } },
  },
  jsonata: {
    description: "Evaluates a JSONata expression against a JSON value and returns the result.",
    parameters: {
      type: "object",
      properties: { expression: { type: "string", description: "A JSONata expression" }, data: { description: "The JSON value the expression is evaluated against" } },
      required: ["expression"],
    },
  },
};

/** The tools as Chat Completions function tools. */
export function toolDefinitions(tools: AgentTool[]): ChatCompletionTool[] {
  return tools.map((tool) => {
    if (tool.kind === "builtin") {
      const builtin = BUILTINS[tool.name];
      return { type: "function", function: { name: tool.name, description: tool.description ?? builtin.description, parameters: builtin.parameters } };
    }
    return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } };
  });
}

export type ToolOutcome = { result: unknown } | { error: string };

export interface ToolCallArgs {
  tool: AgentTool;
  args: Record<string, unknown>;
  context: RunContext;
  env: Env;
  signal: AbortSignal;
  /** `<runId>:<ledgerId>/tool-<n>`: the same on every attempt and re-delivery of this call (R18, R41). */
  idempotencyKey: string;
  credential<C extends CredentialType>(id: string, type: C): Promise<CredentialSecret<C>>;
  /** What to record as the call's request (HTTP tools: the resolved request, credential redacted). */
  record(request: unknown): void;
}

/** Parses the model's arguments text: an object, or a reason the model can act on. */
export function parseArguments(text: string): { args: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = text.trim() ? JSON.parse(text) : {};
  } catch (error) {
    return { error: `The arguments are not valid JSON: ${errorMessage(error)}` };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return { error: "The arguments must be a JSON object" };
  return { args: value as Record<string, unknown> };
}

/**
 * One call. Throws StepError for what fails the agent (a refused address) or may be retried (`retryable`:
 * connection errors, 408/429/5xx of an HTTP tool); any other failure is an `{ error }` outcome.
 */
export async function callTool(call: ToolCallArgs): Promise<ToolOutcome> {
  const { tool, args } = call;
  if (tool.kind === "builtin") {
    if (tool.name === "current_time") return { result: currentTime(args.timezone) };
    if (typeof args.expression !== "string" || !args.expression.trim()) return { error: "expression (a JSONata expression) is required" };
    try {
      // The data is the expression's root (`$`); the sandbox bounds time and memory (R7).
      return { result: await evaluateExpression(args.expression, (args.data ?? null) as RunContext, call.signal) };
    } catch (error) {
      if (call.signal.aborted) throw new AbortedError();
      return { error: errorMessage(error) };
    }
  }
  if (tool.kind === "http") return httpTool(call, tool);
  throw new StepError(`Workflow tools are not available in this worker (tool "${tool.name}")`);
}

function currentTime(timezone: unknown) {
  const now = new Date();
  const out: Record<string, string> = { utc: now.toISOString() };
  if (typeof timezone === "string" && timezone) {
    try {
      out.local = now.toLocaleString("sv-SE", { timeZone: timezone, hour12: false }).replace(" ", "T");
      out.timezone = timezone;
    } catch {
      out.error = `Unknown time zone "${timezone}"`;
    }
  }
  return out;
}

/** URL values from the model are encoded (`{{ args.q }}` cannot add a path or a query of its own). */
function encodedStrings(value: unknown): unknown {
  if (typeof value === "string") return encodeURIComponent(value);
  if (typeof value === "number" || typeof value === "boolean") return encodeURIComponent(String(value));
  if (Array.isArray(value)) return value.map(encodedStrings);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodedStrings(item)]));
  return value;
}

async function httpTool(call: ToolCallArgs, tool: Extract<AgentTool, { kind: "http" }>): Promise<ToolOutcome> {
  const { args, context } = call;
  const method: string = tool.method;
  const url = outboundUrl(renderString(tool.url, { ...context, args: encodedStrings(args) } as RunContext));
  const headers = new Headers();
  const templating = { ...context, args } as RunContext;
  for (const [name, value] of Object.entries(tool.headers)) headers.set(name, renderString(value, templating));
  // The model's arguments are the body (never templated: what the model wrote is sent as it is).
  const body = method === "GET" || method === "HEAD" ? undefined : JSON.stringify(args);
  if (body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  if (method !== "GET" && method !== "HEAD" && !headers.has("idempotency-key")) headers.set("idempotency-key", call.idempotencyKey);
  const secret = tool.credentialId ? await call.credential(tool.credentialId, "httpHeader") : null;
  const recorded = Object.fromEntries(headers);
  if (secret) {
    headers.set(secret.headerName, secret.headerValue);
    recorded[secret.headerName.toLowerCase()] = REDACTED;
  }
  call.record({ method, url: url.toString(), headers: recorded, body: body ?? null });

  const timeout = AbortSignal.timeout(tool.timeoutMs);
  const guarded = guardedFetch({ allowHosts: call.env.HTTP_ALLOW_HOSTS, credentialHeaders: secret ? [secret.headerName] : [] });
  let status: number;
  let text: string;
  let type: string;
  try {
    const response = await guarded(url, { method, headers, body, signal: AbortSignal.any([call.signal, timeout]) });
    status = response.status;
    type = response.headers.get("content-type") ?? "";
    const declared = Number(response.headers.get("content-length"));
    if (declared > MAX_RESPONSE_BYTES) {
      await response.body?.cancel();
      return { error: `The response is larger than ${MAX_RESPONSE_BYTES} bytes` };
    }
    text = method === "HEAD" ? "" : await response.text();
  } catch (error) {
    if (call.signal.aborted) throw new AbortedError();
    if (error instanceof StepError) throw error; // a refused address (R11): fails the agent
    if (timeout.aborted) throw new StepError(`Tool "${tool.name}": request timed out after ${tool.timeoutMs} ms`, { retryable: true });
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new StepError(`Tool "${tool.name}": request to ${url.host} failed: ${cause?.code ?? cause?.message ?? errorMessage(error)}`, { retryable: true });
  }
  if (text.length > MAX_RESPONSE_BYTES) return { error: `The response is larger than ${MAX_RESPONSE_BYTES} bytes` };
  let parsed: unknown = text;
  if (/[/+]json\b/i.test(type) && text.trim()) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
  }
  if (status >= 200 && status < 300) return { result: { status, body: parsed } };
  const message = `HTTP ${status} from ${method} ${url.host}${url.pathname}: ${(typeof parsed === "string" ? parsed : JSON.stringify(parsed)).slice(0, 500)}`;
  if (status >= 500 || status === 408 || status === 429) throw new StepError(message, { retryable: true });
  return { error: message };
}
