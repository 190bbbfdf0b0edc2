import { isStepType, newId, stepTypes, type Step, type StepType } from "@algorythmos/domain";
import { Prisma, type Logger } from "@algorythmos/platform";
import { AbortedError, ShutdownAbort, StepError, errorMessage } from "../errors.js";
import { executors, type ExecutorArgs, type ExecutorResult, type RunContext } from "../executors/index.js";
import { executeRedacted } from "../redact.js";
import { loadCredential } from "./credentials.js";
import { insertRowSql, insertStep, jsonParam, timestampParam, toJson, updateStep, type ClosingAttempt, type NewLedgerRow } from "./ledger.js";
import { backoffDelay, CHUNK_INTERVAL_MS, retryPolicy, stepTimeout } from "./policy.js";
import { stepConfig } from "./step-config.js";
import type { EngineDeps, EventInput, LedgerRow, Publish, RunState } from "./types.js";

export type AttemptResult =
  | { status: "succeeded"; output: unknown; branch?: "true" | "false" }
  | { status: "failed"; error: string }
  | { status: "retrying"; delayMs: number; row: LedgerRow }
  | { status: "stopped" };

/**
 * One attempt of one step: a ledger row, step.started, the executor, then step.succeeded, step.retrying
 * (a retryable failure with attempts left) or step.failed (R5, R9, R17). Rows, events and the idempotency
 * key use `ledgerId`: the step's id, or `<stepId>@<i>` for an iteration of a loop body (R25).
 */
export async function attempt(
  deps: EngineDeps,
  stop: AbortSignal,
  args: { run: RunState; step: Step; ledgerId: string; prior: LedgerRow | undefined; context: RunContext; publish: Publish },
): Promise<AttemptResult> {
  const { logger } = deps;
  const { run, step, ledgerId, prior, context, publish } = args;
  const { runId } = run;
  const type = step.type as StepType; // validated in executeRun (R3)
  const atMostOnce = isStepType(type) && stepTypes[type].sideEffects === "at-most-once";
  /** The previous attempt, closed as failed in the statement that records this one (insertStep). */
  let closing: ClosingAttempt | undefined;
  if (prior?.status === "retrying") {
    // R17: the previous attempt failed retryably; it is closed as failed when the next one starts.
    closing = { id: prior.id, from: "retrying" };
  } else if (prior && (prior.status === "running" || prior.status === "pending")) {
    // R10: an attempt left `running` was interrupted (crash or shutdown). Close it; repeat the step only
    // when repeating it is safe (sideEffects "none" or "idempotent").
    const error = atMostOnce
      ? "Interrupted while running; outcome unknown — not repeated because it may already have taken effect"
      : "Interrupted while running (the worker stopped); attempted again";
    if (atMostOnce) {
      // Closed with its step.failed, one statement (R5).
      await updateStep(publish, { id: prior.id, from: [prior.status] }, { status: "failed", error }, { type: "step.failed", stepId: ledgerId, status: "failed", error });
      return { status: "failed", error };
    }
    closing = { id: prior.id, from: prior.status, error };
  }

  // R5: a step without side effects is evaluated in-process: its row (written once it has settled) and its
  // events are carried to the next durable write; a crash before that evaluates it again, harmlessly. One
  // that closes a previous attempt is recorded durably first (the close decides who owns the step).
  const inProcess = isStepType(type) && stepTypes[type].sideEffects === "none" && !closing;
  const attemptNo = (prior?.attempt ?? 0) + 1;
  const rowId = newId("rst");
  const resolved = stepConfig(run, step);
  const startedAt = new Date();
  const row: NewLedgerRow = { id: rowId, runId, stepId: ledgerId, type: step.type, attempt: attemptNo, status: "running", input: resolved.error === undefined ? resolved.config : resolved.raw, startedAt };
  const started: EventInput = { type: "step.started", stepId: ledgerId, status: "running", attempt: attemptNo };
  /** An in-process attempt's row (settled) and both its events, carried. */
  const carrySettled = (set: Partial<NewLedgerRow>, event: EventInput) =>
    publish.carry([insertRowSql({ ...row, ...set, finishedAt: new Date() })], [{ ...started, at: startedAt }, event]);
  // R5: the ledger row, its step.started event and the closing of the previous attempt: one statement.
  if (!inProcess) await insertStep(publish, row, started, closing);

  const policy = retryPolicy(type, resolved.config);
  const timeoutMs = stepTimeout(type, resolved.config);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = AbortSignal.any([deps.signal, stop, timeout.signal]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  const chunks = chunkPublisher(publish, ledgerId, logger);

  let result: ExecutorResult;
  try {
    if (resolved.error !== undefined) throw new StepError(resolved.error);
    const executor = executors[type] as (args: ExecutorArgs<StepType>) => Promise<ExecutorResult>;
    if (!executor) throw new StepError(`No executor for step type "${step.type}"`);
    // The race bounds executors that cannot be interrupted (the abort wins; their late result is ignored).
    result = await Promise.race([
      // Secrets the executor loads are redacted from all it returns, throws, streams and logs (docs/security.md).
      executeRedacted(executor, {
        config: resolved.config as ExecutorArgs<StepType>["config"],
        context,
        signal,
        env: deps.env,
        logger: deps.logger,
        stepId: ledgerId,
        runId,
        attempt: attemptNo,
        idempotencyKey: idempotencyKey(runId, ledgerId),
        chunk: chunks.push,
        credential: (id, credentialType) => loadCredential(deps, run.workspaceId, id, credentialType),
      }),
      aborted,
    ]);
    await chunks.flush();
  } catch (caught) {
    await chunks.flush();
    if (stop.aborted) {
      // R15: canceled while it ran — the attempt is closed by closeStoppedRun with the reason.
      return { status: "stopped" };
    }
    if (deps.signal.aborted) throw new ShutdownAbort();
    let error = caught;
    if (timeout.signal.aborted) {
      error = atMostOnce
        ? new StepError(`Timed out after ${timeoutMs} ms; outcome unknown — not repeated because it may already have taken effect`)
        : new StepError(`Timed out after ${timeoutMs} ms`, { retryable: true, cause: caught });
    }
    const message = errorMessage(error);
    const output = error instanceof StepError ? error.output : undefined;
    const retryable = error instanceof StepError && error.retryable;
    const retry = retryable && attemptNo < policy.maxAttempts;
    logger.info("step failed", { runId, stepId: ledgerId, type, attempt: attemptNo, error: message, retryable, retry });
    const status = retry ? "retrying" : "failed";
    const delayMs = retry ? backoffDelay(policy.backoffMs, attemptNo) : 0;
    const event: EventInput = retry
      ? { type: "step.retrying", stepId: ledgerId, status: "retrying", attempt: attemptNo, error: message, output: { attempt: attemptNo, maxAttempts: policy.maxAttempts, retryInMs: delayMs } }
      : { type: "step.failed", stepId: ledgerId, status: "failed", attempt: attemptNo, error: message, ...(output === undefined ? {} : { output }) };
    if (inProcess) {
      carrySettled({ status, error: message, ...(output === undefined ? {} : { output: toJson(output) }) }, event);
      // A retry waits its backoff: the failed attempt is durable before that (the next attempt closes it).
      if (retry) await publish.flush();
    } else {
      // The row's new state and its step.retrying / step.failed, one statement (R5); only from `running`, so
      // an attempt a cancel closed meanwhile (R15) is left as the cancel recorded it.
      const recorded = await updateStep(publish, { id: rowId, from: ["running"] }, { status, error: message, ...(output === undefined ? {} : { output }) }, event);
      if (!recorded) return { status: "stopped" };
    }
    if (retry) {
      return {
        status: "retrying",
        delayMs,
        row: { id: rowId, stepId: ledgerId, attempt: attemptNo, status: "retrying", output: null, error: message, startedAt: null },
      };
    }
    return { status: "failed", error: message };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }

  const output = toJson(result.output);
  const succeeded: EventInput = { type: "step.succeeded", stepId: ledgerId, status: "succeeded", attempt: attemptNo, output };
  if (inProcess) {
    carrySettled({ status: "succeeded", output, ...(result.input === undefined ? {} : { input: toJson(result.input) }) }, succeeded);
    return { status: "succeeded", output, branch: result.branch };
  }
  // The conditional update and its step.succeeded event in one statement: the event is stored only when
  // the update matched, i.e. the attempt was not closed by a cancel meanwhile (R15).
  const stepInput = result.input === undefined ? Prisma.empty : Prisma.sql`"input" = ${jsonParam(toJson(result.input))}::jsonb,`;
  const update = Prisma.sql`UPDATE "RunStep"
    SET "status" = 'succeeded'::"StepStatus", "output" = ${jsonParam(output)}::jsonb, ${stepInput} "finishedAt" = ${timestampParam()}::timestamp(3)
    WHERE "id" = ${rowId} AND "status" = 'running'::"StepStatus"
    RETURNING "id"`;
  if (!atMostOnce) {
    // R5: a repeatable step's result is carried to the next write — the next step's start, the run's finish —
    // and is durable before anything after it starts with side effects; if nothing takes it, it is stored
    // before the event loop turns. A crash before that repeats the step with the same key (R10, R18).
    publish.carry([update], [{ ...succeeded, onlyIf: 0 }], { urgent: true });
    return { status: "succeeded", output, branch: result.branch };
  }
  const done = await publish.withLedger(succeeded, { write: update });
  if (!done) return { status: "stopped" }; // closed by a cancel meanwhile (R15)
  return { status: "succeeded", output, branch: result.branch };
}

/**
 * R18: one key per step of a run (per iteration inside a loop, R25: `<runId>:<stepId>@<i>`), the same on every attempt (retries after errors, re-deliveries after a
 * crash), so an API that honours Idempotency-Key takes the step's effect once. A re-run from a step
 * (retryRun) is a new run, hence a new key.
 */
export function idempotencyKey(runId: string, stepId: string): string {
  return `${runId}:${stepId}`;
}

/** R20: partial output batched into `step.chunk` events, at most one per CHUNK_INTERVAL_MS. */
function chunkPublisher(publish: Publish, stepId: string, logger: Logger) {
  let buffer = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: Promise<unknown> = Promise.resolve();
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer) {
      const delta = buffer;
      buffer = "";
      pending = pending
        .then(() => publish({ type: "step.chunk", stepId, status: "running", output: { delta } }))
        .catch((error) => logger.warn("step.chunk not published", { stepId, error: errorMessage(error) }));
    }
    return pending;
  };
  return {
    push: (delta: string) => {
      if (!delta) return;
      buffer += delta;
      timer ??= setTimeout(flush, CHUNK_INTERVAL_MS);
    },
    flush,
  };
}
