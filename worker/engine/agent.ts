/**
 * ai.agent (R40–R43): a tool-calling loop whose every model call and tool call is a durable sub-step of the
 * ledger (`<ledgerId>/model-<n>`, `<ledgerId>/tool-<n>`). A delivery rebuilds the conversation from the
 * sub-steps already settled and goes on after the last of them: a settled call is never made again, an
 * interrupted one is made again (an HTTP tool with the same Idempotency-Key). An engine step (engine-steps.ts):
 * it writes its own row, so a re-delivery resumes the open row instead of starting a new attempt.
 */
import {
  costUsd,
  DEFAULT_MODEL_PRICES,
  mergePriceTables,
  newId,
  parseStepConfig,
  type AgentTool,
  type ModelPriceTable,
  type StepConfig,
} from "@algorythmos/domain";
import { Prisma, query } from "@algorythmos/platform";
import { Ajv, type ErrorObject } from "ajv";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortedError, DuplicateDelivery, ShutdownAbort, StepError, errorMessage } from "../errors.js";
import { callModel, ModelCallError, type AgentMessage, type ModelReply } from "../agent/model.js";
import { callTool, parseArguments, toolDefinitions, type ToolOutcome } from "../agent/tools.js";
import { AgentWaiting, workflowTool } from "../agent/workflow-tool.js";
import { Redactor } from "../redact.js";
import { renderString } from "../templates.js";
import { loadCredential } from "./credentials.js";
import { subStepId, subSteps, type EngineStepArgs, type EngineStepResult } from "./engine-step-contract.js";
import { insertStep, OPEN_STATUSES, toJson, updateStep, type ClosingAttempt } from "./ledger.js";
import { backoffDelay, CHUNK_INTERVAL_MS, RETRY_DEFAULTS } from "./policy.js";
import type { LedgerRow, Publish } from "./types.js";

type AgentConfig = StepConfig<"ai.agent">;
const MODEL_TIMEOUT_MS = 120_000;
/** A server's Retry-After is honoured up to this; a longer one fails the call (the step can be re-run later). */
const MAX_RETRY_AFTER_MS = 60_000;

/** What a model sub-step records as its output, and what a replay rebuilds the conversation from. */
interface ModelCallOutput {
  content: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  model: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number; costUsd: number | null };
  latencyMs: number;
}
interface ToolCallOutput {
  result?: unknown;
  error?: string;
  latencyMs: number;
}

/** The agent failed for a reason the user can act on (its row and the step fail with it). */
class AgentFailure extends Error {}
/** The run was stopped from outside while a sub-step ran (R15): the walk closes what is open. */
class AgentStopped extends Error {}

export async function agentStep(args: EngineStepArgs): Promise<EngineStepResult> {
  const { deps, run, step, ledgerId, prior, ledger, publish, context, stop } = args;
  const raw = step.id === run.fromStepId && run.stepInputOverride != null ? run.stepInputOverride : step.config;
  let config: AgentConfig | null = null;
  let configError: string | null = null;
  try {
    config = parseStepConfig("ai.agent", raw);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    configError = `Invalid config: ${issues ? issues.map((i) => `${i.path.map(String).join(".") || "config"}: ${i.message}`).join("; ") : errorMessage(error)}`;
  }

  // R41: the agent's own row. An open one (the worker died or stopped mid-agent) is resumed, not replaced: its
  // sub-steps belong to it.
  let rowId: string;
  const resumed = prior !== undefined && OPEN_STATUSES.includes(prior.status);
  if (resumed) {
    rowId = prior.id;
  } else {
    rowId = newId("rst");
    await insertStep(
      publish,
      { id: rowId, runId: run.runId, stepId: ledgerId, type: step.type, attempt: (prior?.attempt ?? 0) + 1, status: "running", input: config ?? raw, startedAt: new Date() },
      { type: "step.started", stepId: ledgerId, status: "running", attempt: (prior?.attempt ?? 0) + 1 },
    );
  }
  const close = async (status: "succeeded" | "failed", result: { output?: unknown; error?: string }): Promise<EngineStepResult> => {
    const recorded = await updateStep(
      publish,
      { id: rowId, from: ["running", "pending"] },
      { status, ...(result.output === undefined ? {} : { output: toJson(result.output) }), ...(result.error === undefined ? {} : { error: result.error }) },
      status === "succeeded"
        ? { type: "step.succeeded", stepId: ledgerId, status, output: toJson(result.output) }
        : { type: "step.failed", stepId: ledgerId, status, error: result.error!, ...(result.output === undefined ? {} : { output: toJson(result.output) }) },
    );
    if (!recorded) {
      // Closed meanwhile: by a cancel (R15; the walk goes on closing), else by another delivery, which owns it (R5).
      if (stop.aborted) return { status: "waiting", resumeAt: null };
      throw new DuplicateDelivery(run.runId, ledgerId);
    }
    return status === "succeeded" ? { status, output: toJson(result.output) } : { status, error: result.error! };
  };
  if (!config) return close("failed", { error: configError! });

  const redactor = new Redactor();
  const credential = redactor.loader(<C extends Parameters<typeof loadCredential>[3]>(id: string, type: C) => loadCredential(deps, run.workspaceId, id, type));
  const signal = AbortSignal.any([deps.signal, stop]);
  const agent = new AgentLoop({
    ...args,
    config,
    redactor,
    credential,
    signal,
    prices: await priceTable(args),
    rows: ledger.size ? subSteps(ledger, ledgerId) : [],
    resumed,
    publish,
    context,
  });
  try {
    const output = await agent.run();
    return await close("succeeded", { output });
  } catch (error) {
    if (error instanceof DuplicateDelivery || error instanceof ShutdownAbort) throw error;
    if (error instanceof AgentStopped || stop.aborted) return { status: "waiting", resumeAt: null };
    // A workflow tool's child run is not final yet: its end wakes the run (R34), which resumes here (R41).
    if (error instanceof AgentWaiting) return { status: "waiting", resumeAt: null };
    if (deps.signal.aborted) throw new ShutdownAbort();
    const message = redactor.text(error instanceof AgentFailure || error instanceof StepError ? error.message : `Internal error: ${errorMessage(error)}`);
    return close("failed", { error: message, output: agent.totals() });
  }
}

/** R42: the built-in prices, then the deployment's (MODEL_PRICES), then the run's workspace's. */
async function priceTable(args: EngineStepArgs): Promise<ModelPriceTable> {
  const rows = await query<{ modelPrices: unknown }>(
    args.deps.db,
    Prisma.sql`SELECT "modelPrices" FROM "Workspace" WHERE "id" = ${args.run.workspaceId}`,
    "algo_workspace_prices",
  );
  return mergePriceTables(DEFAULT_MODEL_PRICES, args.deps.env.MODEL_PRICES, rows[0]?.modelPrices);
}

interface LoopArgs extends EngineStepArgs {
  config: AgentConfig;
  redactor: Redactor;
  credential: ReturnType<Redactor["loader"]>;
  signal: AbortSignal;
  prices: ModelPriceTable;
  /** The sub-steps recorded by earlier deliveries (latest attempt of each). */
  rows: LedgerRow[];
  /**
   * The agent's own row was open (this delivery goes on with it). A new agent attempt reuses no sub-step
   * found under its ledger id — rows a re-run copied from the run it re-runs (R21) belong to another
   * conversation — and numbers its attempts after them.
   */
  resumed: boolean;
}

class AgentLoop {
  private readonly recorded = new Map<string, LedgerRow>();
  /** Sub-steps under this ledger id that are not this attempt's (see LoopArgs.resumed): only their attempt numbers count. */
  private readonly stale = new Map<string, LedgerRow>();
  private readonly usage = { promptTokens: 0, completionTokens: 0, costUsd: 0, unpricedCalls: 0 };
  private modelCalls = 0;
  private toolCalls = 0;
  private readonly timeline: { id: string; kind: "model" | "tool"; name?: string; status: string }[] = [];

  constructor(private readonly a: LoopArgs) {
    for (const row of a.rows) (a.resumed ? this.recorded : this.stale).set(row.stepId, row);
  }

  totals() {
    return { usage: { ...this.usage }, modelCalls: this.modelCalls, toolCalls: this.toolCalls };
  }

  async run(): Promise<unknown> {
    const { config, context } = this.a;
    const tools = new Map(config.tools.map((tool) => [tool.name, tool]));
    const definitions = toolDefinitions(config.tools);
    const messages: AgentMessage[] = [];
    if (config.systemPrompt.trim()) messages.push({ role: "system", content: renderString(config.systemPrompt, context) });
    messages.push({ role: "user", content: renderString(config.task, context) });
    const validate = config.outputSchema ? compileSchema(config.outputSchema) : null;
    let repaired = false;
    /** Messages added since the last model call: what a model sub-step records as its input. */
    let fresh = messages.length;

    for (let iteration = 1; ; iteration++) {
      const reply = await this.model(messages.slice(-fresh), messages, definitions);
      fresh = 0;
      const assistant: AgentMessage = {
        role: "assistant",
        content: reply.content || null,
        ...(reply.toolCalls.length
          ? { tool_calls: reply.toolCalls.map((call) => ({ id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } })) }
          : {}),
      };
      messages.push(assistant);
      if (reply.toolCalls.length) {
        // R40: the iterations bound the calls that ask for tools; the answer must come within them.
        const asked = iteration - (repaired ? 1 : 0);
        if (asked >= config.maxIterations) {
          throw new AgentFailure(`No final answer within maxIterations (${config.maxIterations}): the model still asked for tools (${reply.toolCalls.map((c) => c.name).join(", ")})`);
        }
        for (const call of reply.toolCalls) {
          const outcome = await this.tool(call, tools.get(call.name));
          messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify(outcome) });
          fresh++;
        }
        continue;
      }
      if (!validate) return this.output(reply.content, undefined);
      // R40: structured output — JSON that satisfies outputSchema, with one repair call on a mismatch.
      const checked = checkAnswer(reply.content, validate);
      if (checked.ok) return this.output(reply.content, checked.value);
      if (repaired) throw new AgentFailure(`The final answer does not satisfy outputSchema after one repair: ${checked.problems}`);
      repaired = true;
      messages.push({
        role: "user",
        content: `Your answer does not satisfy the required JSON Schema: ${checked.problems}. Reply with only a JSON value that satisfies this schema:\n${JSON.stringify(config.outputSchema)}`,
      });
      fresh = 1;
    }
  }

  private output(content: string, json: unknown) {
    return { content, ...(json === undefined ? {} : { json }), ...this.totals(), calls: this.timeline };
  }

  /** One model sub-step: reused when settled, else called (with retries, R17 style, Retry-After honoured). */
  private async model(input: AgentMessage[], messages: AgentMessage[], tools: ReturnType<typeof toolDefinitions>): Promise<ModelCallOutput> {
    const { config, deps, run, ledgerId } = this.a;
    const n = ++this.modelCalls;
    const id = subStepId(ledgerId, "model", n);
    const prior = this.recorded.get(id);
    if (prior?.status === "succeeded") {
      const output = prior.output as ModelCallOutput;
      this.count(output.usage);
      this.timeline.push({ id, kind: "model", status: "succeeded" });
      return output;
    }
    const secret = await this.a.credential(config.credentialId, "openai");
    const maxAttempts = config.retry?.maxAttempts ?? RETRY_DEFAULTS.idempotentAttempts;
    const backoffMs = config.retry?.backoffMs ?? RETRY_DEFAULTS.backoffMs;
    const recordedInput = this.a.redactor.value(toJson({ model: config.model, iteration: n, messages: input }));
    return this.subStep(id, prior ?? this.stale.get(id), recordedInput, maxAttempts, async (attemptNo, chunk) => {
      const startedAt = Date.now();
      let reply: ModelReply;
      try {
        reply = await callModel({
          secret,
          env: deps.env,
          model: config.model,
          messages,
          tools,
          maxTokens: config.maxTokens,
          temperature: config.temperature,
          timeoutMs: config.timeoutMs ?? MODEL_TIMEOUT_MS,
          idempotencyKey: `${run.runId}:${id}`,
          signal: this.a.signal,
          chunk,
        });
      } catch (error) {
        if (error instanceof ModelCallError && error.retryable) {
          const wait = error.retryAfterMs ?? backoffDelay(backoffMs, attemptNo);
          if (wait > MAX_RETRY_AFTER_MS) return { retry: false, error: `${error.message} (retry after ${Math.round(wait / 1000)} s is too long)` };
          return { retry: true, error: error.message, delayMs: wait };
        }
        throw error;
      }
      const usage = { promptTokens: reply.promptTokens, completionTokens: reply.completionTokens };
      const cost = costUsd(this.a.prices, reply.model, usage) ?? costUsd(this.a.prices, config.model, usage);
      const output: ModelCallOutput = {
        content: reply.content,
        toolCalls: reply.toolCalls,
        model: reply.model,
        finishReason: reply.finishReason,
        usage: { ...usage, costUsd: cost },
        latencyMs: Date.now() - startedAt,
      };
      this.count(output.usage);
      return { output };
    }).then((output) => {
      this.timeline.push({ id, kind: "model", status: "succeeded" });
      return output as ModelCallOutput;
    });
  }

  /** One tool sub-step: a settled one (succeeded or failed) is reused, never called again (R41). */
  private async tool(call: { id: string; name: string; arguments: string }, tool: AgentTool | undefined): Promise<ToolOutcome> {
    const { config, deps, run, ledgerId, context } = this.a;
    const n = ++this.toolCalls;
    const id = subStepId(ledgerId, "tool", n);
    const prior = this.recorded.get(id);
    if (prior?.status === "succeeded" || prior?.status === "failed") {
      this.timeline.push({ id, kind: "tool", name: call.name, status: prior.status });
      const output = (prior.output ?? {}) as ToolCallOutput;
      return prior.status === "succeeded" ? { result: output.result ?? null } : { error: prior.error ?? output.error ?? "failed" };
    }
    const parsed = parseArguments(call.arguments);
    if (tool?.kind === "workflow" && "args" in parsed) {
      // R43: a child run; the row waits for it without holding a worker (AgentWaiting).
      const outcome = await workflowTool(this.a, id, prior ?? this.stale.get(id), tool, { id: call.id, name: call.name, arguments: parsed.args });
      this.timeline.push({ id, kind: "tool", name: call.name, status: "error" in outcome ? "failed" : "succeeded" });
      return outcome;
    }
    let request: unknown;
    const input = this.a.redactor.value(toJson({ name: call.name, kind: tool?.kind ?? null, toolCallId: call.id, arguments: "args" in parsed ? parsed.args : call.arguments }));
    const maxAttempts = tool?.kind === "http" ? (config.retry?.maxAttempts ?? RETRY_DEFAULTS.idempotentAttempts) : 1;
    const backoffMs = config.retry?.backoffMs ?? RETRY_DEFAULTS.backoffMs;
    let outcome: ToolOutcome | null = null;
    await this.subStep(id, prior ?? this.stale.get(id), input, maxAttempts, async (attemptNo) => {
      const startedAt = Date.now();
      if (!tool) outcome = { error: `There is no tool named "${call.name}"; the tools are: ${config.tools.map((t) => t.name).join(", ") || "none"}` };
      else if ("error" in parsed) outcome = parsed;
      else {
        try {
          outcome = await callTool({
            tool,
            args: parsed.args,
            context,
            env: deps.env,
            signal: this.a.signal,
            idempotencyKey: `${run.runId}:${id}`,
            credential: this.a.credential,
            record: (value) => (request = value),
          });
        } catch (error) {
          if (error instanceof StepError && error.retryable) {
            if (attemptNo < maxAttempts) return { retry: true, error: error.message, delayMs: backoffDelay(backoffMs, attemptNo) };
            outcome = { error: error.message }; // retries used up: the model is told
          } else throw error;
        }
      }
      // The resolved request (an HTTP tool's) is known only once the call has started: it is in the output.
      const seen = { latencyMs: Date.now() - startedAt, ...(request === undefined ? {} : { request }) };
      if ("error" in outcome!) return { failed: outcome.error, output: { error: outcome.error, ...seen } };
      return { output: { result: outcome!.result, ...seen } };
    });
    this.timeline.push({ id, kind: "tool", name: call.name, status: "error" in outcome! ? "failed" : "succeeded" });
    return outcome!;
  }

  /**
   * A sub-step row this delivery wrote was closed by someone else: a cancel (R15), or another delivery of the
   * run (a lock lost under load), which then owns the agent — this one stops recording (R5).
   */
  private closedMeanwhile(id: string): Error {
    return this.a.stop.aborted ? new AgentStopped() : new DuplicateDelivery(this.a.run.runId, id);
  }

  private count(usage: ModelCallOutput["usage"]) {
    this.usage.promptTokens += usage.promptTokens;
    this.usage.completionTokens += usage.completionTokens;
    if (usage.costUsd === null) this.usage.unpricedCalls++;
    else this.usage.costUsd = Math.round((this.usage.costUsd + usage.costUsd) * 1e9) / 1e9;
  }

  /**
   * Attempts of one sub-step, each a ledger row with its events (R5): `running` with step.started before the
   * call, then succeeded / failed / retrying. An interrupted attempt (left running by a dead worker) is closed
   * by the statement that records the next one (R10).
   */
  private async subStep(
    id: string,
    prior: LedgerRow | undefined,
    input: unknown,
    maxAttempts: number,
    call: (
      attemptNo: number,
      chunk: (delta: string) => void,
    ) => Promise<{ output: unknown; failed?: string } | { retry: boolean; error: string; delayMs?: number }>,
  ): Promise<unknown> {
    const { run, step, publish, redactor } = this.a;
    let closing: ClosingAttempt | undefined =
      prior?.status === "retrying"
        ? { id: prior.id, from: "retrying" }
        : prior && OPEN_STATUSES.includes(prior.status)
          ? { id: prior.id, from: prior.status, error: "Interrupted while running (the worker stopped); attempted again" }
          : undefined;
    let attemptNo = (prior?.attempt ?? 0) + 1;
    let counted = 1;
    for (;;) {
      // R10: a draining worker starts no new call; the next delivery goes on from the ledger (R41).
      if (this.a.deps.draining?.aborted) throw new ShutdownAbort();
      const rowId = newId("rst");
      await insertStep(
        publish,
        { id: rowId, runId: run.runId, stepId: id, type: step.type, attempt: attemptNo, status: "running", input, startedAt: new Date() },
        { type: "step.started", stepId: id, status: "running", attempt: attemptNo },
        closing,
      );
      const chunks = chunkBatcher(publish, id, redactor);
      let result: Awaited<ReturnType<typeof call>>;
      try {
        result = await call(attemptNo, chunks.push);
        await chunks.flush();
      } catch (error) {
        await chunks.flush();
        if (this.a.stop.aborted) throw new AgentStopped();
        if (this.a.deps.signal.aborted || error instanceof AbortedError) throw new ShutdownAbort();
        const message = redactor.text(errorMessage(error));
        await updateStep(publish, { id: rowId, from: ["running"] }, { status: "failed", error: message }, { type: "step.failed", stepId: id, status: "failed", attempt: attemptNo, error: message });
        throw error instanceof StepError ? new AgentFailure(`${id}: ${message}`) : error;
      }
      if ("retry" in result) {
        const message = redactor.text(result.error);
        if (result.retry && counted < maxAttempts) {
          const delayMs = result.delayMs ?? 0;
          const recorded = await updateStep(
            publish,
            { id: rowId, from: ["running"] },
            { status: "retrying", error: message },
            { type: "step.retrying", stepId: id, status: "retrying", attempt: attemptNo, error: message, output: { attempt: counted, maxAttempts, retryInMs: delayMs } },
          );
          if (!recorded) throw this.closedMeanwhile(id);
          try {
            await sleep(delayMs, undefined, { signal: this.a.signal });
          } catch {
            if (this.a.stop.aborted) throw new AgentStopped();
            throw new ShutdownAbort();
          }
          closing = { id: rowId, from: "retrying" };
          attemptNo++;
          counted++;
          continue;
        }
        await updateStep(publish, { id: rowId, from: ["running"] }, { status: "failed", error: message }, { type: "step.failed", stepId: id, status: "failed", attempt: attemptNo, error: message });
        throw new AgentFailure(`${id}: ${message}`);
      }
      const output = redactor.value(toJson(result.output));
      const recorded = result.failed
        ? await updateStep(publish, { id: rowId, from: ["running"] }, { status: "failed", output, error: redactor.text(result.failed) }, { type: "step.failed", stepId: id, status: "failed", attempt: attemptNo, error: redactor.text(result.failed), output })
        : await updateStep(publish, { id: rowId, from: ["running"] }, { status: "succeeded", output }, { type: "step.succeeded", stepId: id, status: "succeeded", attempt: attemptNo, output });
      if (!recorded) throw this.closedMeanwhile(id);
      return output;
    }
  }
}

function compileSchema(schema: Record<string, unknown>) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new AgentFailure(`outputSchema is not a valid JSON Schema: ${errorMessage(error)}`);
  }
}

/** The answer as JSON (a ```json fence tolerated), checked against the schema. */
function checkAnswer(content: string, validate: ReturnType<typeof compileSchema>): { ok: true; value: unknown } | { ok: false; problems: string } {
  const text = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: `the answer is not JSON (${errorMessage(error)})` };
  }
  if (validate(value)) return { ok: true, value };
  return { ok: false, problems: (validate.errors ?? []).map(describeError).join("; ") };
}

function describeError(error: ErrorObject): string {
  return `${error.instancePath || "(root)"} ${error.message ?? "is invalid"}`;
}

/** R20 for a model sub-step: its text deltas, redacted, as step.chunk events at most every CHUNK_INTERVAL_MS. */
function chunkBatcher(publish: Publish, stepId: string, redactor: Redactor) {
  let buffer = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: Promise<unknown> = Promise.resolve();
  const filter = redactor.stream((text) => {
    buffer += text;
  });
  const send = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!buffer) return pending;
    const delta = buffer;
    buffer = "";
    pending = pending.then(() => publish({ type: "step.chunk", stepId, status: "running", output: { delta } })).catch(() => {});
    return pending;
  };
  return {
    push: (delta: string) => {
      if (!delta) return;
      filter.push(delta);
      timer ??= setTimeout(send, CHUNK_INTERVAL_MS);
    },
    flush: () => {
      filter.end();
      return send();
    },
  };
}
