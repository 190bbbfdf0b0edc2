import {
  credentialTypes,
  FINAL_RUN_STATUSES,
  isStepType,
  newId,
  outgoingEdges,
  parseStepConfig,
  stepTypes,
  topologicalOrder,
  validateDefinition,
  WorkflowDefinition,
  type CredentialSecret,
  type CredentialType,
  type Edge,
  type RunEvent,
  type RunStatus,
  type Step,
  type StepStatus,
  type StepType,
} from "@algorythmos/domain";
import { decryptSecret, isUniqueViolation, Prisma, publishRunEvent, updatedIf, type Db, type Env, type Logger, type Redis } from "@algorythmos/platform";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortedError, DuplicateDelivery, ShutdownAbort, StepError, SuspendRun, errorMessage } from "./errors.js";
import { executors, type ExecutorArgs, type ExecutorResult, type RunContext } from "./executors/index.js";

/**
 * The run engine (docs/run-engine.md): executes one run from its captured definition — steps decided in
 * topological order, independent branches concurrently — recording every attempt in the RunStep ledger.
 * No BullMQ in here — the worker calls `executeRun` for each delivered job, and a re-delivered job resumes
 * from the ledger. It throws `SuspendRun` when only delays are left (R13) and `ShutdownAbort` on shutdown.
 */
export interface EngineDeps {
  env: Env;
  db: Db;
  /** Non-blocking connection, for publishing run events. */
  redis: Redis;
  logger: Logger;
  /** Aborted when the worker shuts down: the run is left for the next delivery (R10). */
  signal: AbortSignal;
}

export interface RunControl {
  /** Aborted when the run was stopped from outside (canceled, or timed out by the reconciler): R15. */
  stop?: AbortSignal;
}

export type RunOutcome = RunStatus | "missing" | "skipped";

/** Defaults of the retry policy (R17) and of step timeouts (R19). */
export const RETRY_DEFAULTS = { backoffMs: 1_000, maxBackoffMs: 5 * 60_000, idempotentAttempts: 3, atMostOnceAttempts: 1 } as const;
export const STEP_TIMEOUT_DEFAULTS: Partial<Record<StepType, number>> = { "openai.chat": 120_000, "email.postmark": 30_000 };
export const ENGINE_STEP_TIMEOUT_MS = 5 * 60_000;
/** Partial LLM output is published at most this often (R20). */
export const CHUNK_INTERVAL_MS = 50;
/** How often a running delivery re-reads its run's status between steps (R15). */
export const STATUS_CHECK_MS = 200;

interface LedgerRow {
  id: string;
  stepId: string;
  attempt: number;
  status: StepStatus;
  output: unknown;
  error: string | null;
  startedAt: Date | null;
}

interface Settled {
  status: "succeeded" | "failed" | "skipped";
  output?: unknown;
  branch?: "true" | "false";
}

type EventInput = Pick<RunEvent, "type" | "stepId" | "status"> & Partial<Pick<RunEvent, "output" | "error" | "attempt">>;
type Publish = (event: EventInput) => Promise<unknown>;
type Finish = (status: "succeeded" | "failed", result: { output?: unknown; error?: string }) => Promise<RunOutcome>;

interface RunState {
  runId: string;
  workspaceId: string;
  input: unknown;
  definition: WorkflowDefinition;
  fromStepId: string | null;
  stepInputOverride: unknown;
}

const OPEN_STATUSES: StepStatus[] = ["pending", "running", "retrying"];
const NEVER = new AbortController().signal;

export async function executeRun(deps: EngineDeps, runId: string, control: RunControl = {}): Promise<RunOutcome> {
  const { db, logger } = deps;
  const stop = control.stop ?? NEVER;
  const run = await db.run.findUnique({
    where: { id: runId },
    select: {
      id: true,
      workflowId: true,
      workspaceId: true,
      status: true,
      definition: true,
      input: true,
      fromStepId: true,
      stepInputOverride: true,
    },
  });
  if (!run) {
    logger.warn("run not found; job dropped", { runId });
    return "missing";
  }

  // Events are stored, then published; the ledger is the truth, so an event that cannot be stored or
  // published (Redis restarting) is logged and the run goes on.
  const publish: Publish = (event) =>
    publishRunEvent(deps.db, deps.redis, deps.env.REDIS_PREFIX, {
      ...event,
      runId,
      workflowId: run.workflowId,
      at: new Date().toISOString(),
    }).catch((error) => logger.warn("run event not published", { runId, type: event.type, stepId: event.stepId, error: errorMessage(error) }));

  if (FINAL_RUN_STATUSES.includes(run.status)) {
    // R1: a final run is never executed again. R15: one stopped from outside (canceled, timed out) while a
    // step was open gets its open attempts and unsettled steps closed, once.
    if (run.status !== "succeeded") {
      const parsed = WorkflowDefinition.safeParse(run.definition);
      if (parsed.success) await closeStoppedRun(deps, runId, parsed.data, await readLedger(db, runId), new Map(), publish);
    }
    return "skipped";
  }

  // R2: queued → running (once; a re-delivery finds it running and continues).
  if (run.status === "queued") {
    const started = await updatedIf(
      db.run.update({ where: { id: runId, status: "queued" }, data: { status: "running", startedAt: new Date() }, select: { id: true } }),
    );
    if (!started) return executeRun(deps, runId, control); // changed under us (canceled, or another delivery): look again
    await publish({ type: "run.started", stepId: null, status: "running" });
  }

  const finish: Finish = async (status, result) => {
    const done = await updatedIf(
      db.run.update({
        where: { id: runId, status: "running" },
        data: {
          status,
          output: result.output === undefined ? undefined : jsonValue(result.output),
          error: result.error ?? null,
          finishedAt: new Date(),
        },
        select: { id: true },
      }),
    );
    if (!done) return (await currentStatus(db, runId)) ?? "missing";
    await publish({ type: "run.finished", stepId: null, status, output: result.output, error: result.error ?? null });
    logger.info("run finished", { runId, status, error: result.error });
    return status;
  };

  try {
    // R3: the captured definition must parse and validate, else the run fails with the reasons.
    const parsed = WorkflowDefinition.safeParse(run.definition);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join(".") || "definition"}: ${issue.message}`);
      return await finish("failed", { error: `Invalid workflow definition: ${reasons.join("; ")}` });
    }
    const definition = parsed.data;
    const problems = validateDefinition(definition);
    if (problems.length) {
      return await finish("failed", { error: `Invalid workflow definition: ${problems.map((p) => p.message).join("; ")}` });
    }
    const state: RunState = {
      runId,
      workspaceId: run.workspaceId,
      input: run.input,
      definition,
      fromStepId: run.fromStepId,
      stepInputOverride: run.stepInputOverride,
    };
    return await walk(deps, stop, state, publish, finish);
  } catch (error) {
    if (error instanceof ShutdownAbort || error instanceof DuplicateDelivery || error instanceof SuspendRun) throw error;
    // R9: every unexpected error still ends the run in a recorded failed state.
    logger.error("run crashed", { runId, error });
    return finish("failed", { error: `Internal error: ${errorMessage(error)}` });
  }
}

async function readLedger(db: Db, runId: string): Promise<Map<string, LedgerRow>> {
  const rows = await db.runStep.findMany({
    where: { runId },
    orderBy: { attempt: "asc" },
    select: { id: true, stepId: true, attempt: true, status: true, output: true, error: true, startedAt: true },
  });
  const latest = new Map<string, LedgerRow>();
  for (const row of rows) latest.set(row.stepId, row);
  return latest;
}

async function walk(deps: EngineDeps, stop: AbortSignal, run: RunState, publish: Publish, finish: Finish): Promise<RunOutcome> {
  const { db } = deps;
  const { runId, definition } = run;
  const steps = new Map(definition.steps.map((step) => [step.id, step]));
  const outgoing = outgoingEdges(definition);
  const incoming = new Map<string, Edge[]>(definition.steps.map((step) => [step.id, []]));
  for (const edges of outgoing.values()) for (const edge of edges) incoming.get(edge.target)!.push(edge);

  // R5: the ledger — the latest attempt of every step recorded so far.
  const latest = await readLedger(db, runId);
  const settled = new Map<string, Settled>();
  /** R13: delay steps still waiting (their resume time) and the steps held back behind them. */
  const waiting = new Map<string, Date | null>();
  const context: RunContext = { input: run.input, steps: {} };
  let failure: { stepId: string; message: string } | null = null;

  const label = (step: Step) => (step.name && step.name !== step.id ? `"${step.name}" (${step.id})` : `"${step.id}"`);
  const skip = (step: Step) => skipStep(db, runId, step, latest.get(step.id), settled, publish);
  const stopped = async (): Promise<RunOutcome> => {
    // R15: stopped from outside. The canceller (or the reconciler) owns the run's final state.
    const fresh = await readLedger(db, runId);
    await closeStoppedRun(deps, runId, definition, fresh, settled, publish);
    const status = await currentStatus(db, runId);
    // Told to stop while the run is still `running` (should not happen): it ends rather than hangs.
    if (status === "running") return finish("failed", { error: "Run stopped" });
    return status ?? "missing";
  };

  // R15: a cancel message aborts `stop` at once; the database is asked too, in case the message was lost, but
  // at most every STATUS_CHECK_MS, so a chain of fast steps does not pay a query per step.
  let statusCheckedAt = 0;
  const stillRunning = async () => {
    if (stop.aborted) return false;
    if (Date.now() - statusCheckedAt < STATUS_CHECK_MS) return true;
    statusCheckedAt = Date.now();
    return (await currentStatus(db, runId)) === "running";
  };

  /** An executing step: its attempts (R17) until it succeeds, fails for good, or the run is stopped. */
  let halted = false;
  let crash: { error: unknown } | null = null;
  const execute = async (step: Step, prior: LedgerRow | undefined): Promise<void> => {
    let previous = prior;
    let result: AttemptResult;
    for (;;) {
      result = await attempt(deps, stop, { run, step, prior: previous, context, publish });
      if (result.status !== "retrying") break;
      try {
        await sleep(result.delayMs, undefined, { signal: AbortSignal.any([deps.signal, stop]) });
      } catch {
        if (stop.aborted) {
          halted = true;
          return;
        }
        throw new ShutdownAbort();
      }
      previous = result.row;
      if ((await currentStatus(db, runId)) !== "running") {
        halted = true;
        return;
      }
    }
    if (result.status === "stopped") {
      halted = true;
    } else if (result.status === "succeeded") {
      settled.set(step.id, { status: "succeeded", output: result.output, branch: result.branch });
      context.steps[step.id] = { output: result.output };
    } else {
      settled.set(step.id, { status: "failed" });
      failure ??= { stepId: step.id, message: `Step ${label(step)} failed: ${result.error}` };
    }
  };

  // R6: dataflow — a step is decided once all its predecessors are; independent branches execute
  // concurrently within the delivery. Decisions are made in topological order, so the ledger and the
  // events of a linear graph come out in order.
  const order = topologicalOrder(definition);
  const decided = (stepId: string) => settled.has(stepId) || waiting.has(stepId);
  const running = new Map<string, Promise<void>>();
  try {
    for (;;) {
      let changed = true;
      while (changed && !halted && !crash) {
        changed = false;
        for (const stepId of order) {
          if (halted || crash) break;
          if (decided(stepId) || running.has(stepId)) continue;
          const step = steps.get(stepId)!;
          const prior = latest.get(stepId);

          // R5: a settled attempt is reused, never executed again.
          if (prior?.status === "succeeded") {
            settled.set(stepId, { status: "succeeded", output: prior.output, branch: branchOf(step, prior.output) });
            context.steps[stepId] = { output: prior.output };
            changed = true;
            continue;
          }
          if (prior?.status === "skipped") {
            settled.set(stepId, { status: "skipped" });
            changed = true;
            continue;
          }
          if (prior?.status === "failed" && !failure) {
            // Recorded failed (retries used up or not retryable) just before a crash: the run fails (R8).
            settled.set(stepId, { status: "failed" });
            failure = { stepId, message: `Step ${label(step)} failed: ${prior.error ?? "unknown error"}` };
            changed = true;
            continue;
          }
          // R8: after a failure nothing else starts; every step not yet settled (and not executing) is skipped.
          if (failure) {
            await skip(step);
            changed = true;
            continue;
          }
          const edges = incoming.get(stepId)!;
          if (edges.some((edge) => !decided(edge.source))) continue; // a predecessor is still executing
          // R13: a step behind a waiting delay waits too (it is decided once the delay is over).
          if (edges.some((edge) => waiting.has(edge.source))) {
            waiting.set(stepId, null);
            changed = true;
            continue;
          }
          // R6: a step with incoming edges runs when at least one of them is taken, else it is skipped.
          if (edges.length && !edges.some((edge) => taken(edge, steps, settled))) {
            await skip(step);
            changed = true;
            continue;
          }
          // R15: a run canceled (or timed out) meanwhile starts nothing more.
          if (!(await stillRunning())) {
            halted = true;
            break;
          }
          if (step.type === "delay") {
            const result = await delayStep(deps, run, step, prior, publish);
            if (result.status === "waiting") waiting.set(stepId, result.resumeAt);
            else if (result.status === "succeeded") {
              settled.set(stepId, { status: "succeeded", output: result.output });
              context.steps[stepId] = { output: result.output };
            } else {
              settled.set(stepId, { status: "failed" });
              failure = { stepId, message: `Step ${label(step)} failed: ${result.error}` };
            }
            changed = true;
            continue;
          }
          const task = execute(step, prior)
            .catch((error: unknown) => {
              crash ??= { error };
            })
            .finally(() => running.delete(stepId));
          running.set(stepId, task);
        }
      }
      if (!running.size) break;
      await Promise.race(running.values());
    }
  } finally {
    // Nothing is left executing behind the engine's back, whatever happened.
    await Promise.allSettled(running.values());
  }
  if (crash) throw (crash as { error: unknown }).error;
  if (halted) return stopped();

  if (failure) {
    // R8 + R13: delays that were waiting and the steps behind them are not needed any more.
    const fresh = waiting.size ? await readLedger(db, runId) : latest;
    for (const stepId of waiting.keys()) {
      const step = steps.get(stepId)!;
      const open = fresh.get(stepId);
      if (open && OPEN_STATUSES.includes(open.status)) {
        await db.runStep.updateMany({ where: { id: open.id, status: open.status }, data: { status: "skipped", finishedAt: new Date() } });
        settled.set(stepId, { status: "skipped" });
        await publish({ type: "step.skipped", stepId, status: "skipped" });
      } else {
        await skipStep(db, runId, step, open, settled, publish);
      }
    }
    return finish("failed", { error: failure.message });
  }
  if (waiting.size) {
    // R13: nothing else can run before the earliest delay is over; the job waits in BullMQ's delayed set.
    const times = [...waiting.values()].filter((time): time is Date => time !== null);
    throw new SuspendRun(new Date(Math.min(...times.map((time) => time.getTime()))));
  }
  // R16: the run's output is the outputs of its succeeded sink steps (no outgoing edges), by step id.
  const output: Record<string, unknown> = {};
  for (const step of definition.steps) {
    if (outgoing.get(step.id)!.length === 0 && settled.get(step.id)?.status === "succeeded") output[step.id] = settled.get(step.id)!.output;
  }
  return finish("succeeded", { output });
}

async function skipStep(
  db: Db,
  runId: string,
  step: Step,
  prior: LedgerRow | undefined,
  settled: Map<string, Settled>,
  publish: Publish,
  error: string | null = null,
): Promise<void> {
  settled.set(step.id, { status: "skipped" });
  try {
    await db.runStep.create({
      data: {
        id: newId("rst"),
        runId,
        stepId: step.id,
        type: step.type,
        attempt: (prior?.attempt ?? 0) + 1,
        status: "skipped",
        error,
        finishedAt: new Date(),
      },
    });
  } catch (caught) {
    if (isUniqueViolation(caught)) throw new DuplicateDelivery(runId, step.id);
    throw caught;
  }
  await publish({ type: "step.skipped", stepId: step.id, status: "skipped", ...(error ? { error } : {}) });
}

/**
 * R15: a run stopped from outside (canceled, or failed by the reconciler's timeout). Its open attempt (the
 * one that was interrupted, or a delay that was waiting) is closed as failed, every step that never settled
 * is recorded as skipped, both with the reason ("Run canceled"). Runs that never started are left alone.
 */
async function closeStoppedRun(
  deps: EngineDeps,
  runId: string,
  definition: WorkflowDefinition,
  latest: Map<string, LedgerRow>,
  settled: Map<string, Settled>,
  publish: Publish,
): Promise<void> {
  const { db } = deps;
  if (latest.size === 0) return; // never started: nothing to close (R1)
  const open = [...latest.values()].filter((row) => OPEN_STATUSES.includes(row.status));
  const unsettled = definition.steps.filter((step) => !latest.has(step.id) && !settled.has(step.id));
  if (!open.length && !unsettled.length) return;
  const reason = await stopReason(db, runId);
  for (const row of open) {
    const closed = await db.runStep.updateMany({
      where: { id: row.id, status: row.status },
      data: { status: "failed", error: reason, finishedAt: new Date() },
    });
    if (closed.count) await publish({ type: "step.failed", stepId: row.stepId, status: "failed", error: reason });
  }
  for (const step of unsettled) {
    try {
      await skipStep(db, runId, step, undefined, settled, publish, reason);
    } catch (error) {
      if (!(error instanceof DuplicateDelivery)) throw error; // closed meanwhile by another delivery
    }
  }
}

async function stopReason(db: Db, runId: string): Promise<string> {
  const row = await db.run.findUnique({ where: { id: runId }, select: { status: true, error: true } });
  if (!row || row.status === "canceled") return "Run canceled";
  return row.error ?? `Run ${row.status}`;
}

function taken(edge: Edge, steps: Map<string, Step>, settled: Map<string, Settled>): boolean {
  const source = settled.get(edge.source);
  if (source?.status !== "succeeded") return false;
  if (steps.get(edge.source)!.type !== "condition") return true;
  return edge.label === source.branch;
}

function branchOf(step: Step, output: unknown): "true" | "false" | undefined {
  if (step.type !== "condition") return undefined;
  return (output as { result?: unknown } | null)?.result === true ? "true" : "false";
}

/** The step's config: the re-run's edited input for its `fromStepId` (R21), else the definition's. */
function stepConfig(run: RunState, step: Step): { config: unknown; error?: undefined } | { config?: undefined; error: string; raw: unknown } {
  const raw = step.id === run.fromStepId && run.stepInputOverride !== null && run.stepInputOverride !== undefined ? run.stepInputOverride : step.config;
  try {
    return { config: parseStepConfig(step.type as StepType, raw) };
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const message = issues
      ? issues.map((issue) => `${issue.path.map(String).join(".") || "config"}: ${issue.message}`).join("; ")
      : errorMessage(error);
    return { error: `Invalid config: ${message}`, raw };
  }
}

/**
 * R13: a delay records its resume time on a `running` row and then holds no worker: the walk goes on with
 * the steps that do not depend on it, and the job is moved to BullMQ's delayed set. A delivery at or after
 * the resume time closes the row as succeeded.
 */
async function delayStep(
  deps: EngineDeps,
  run: RunState,
  step: Step,
  prior: LedgerRow | undefined,
  publish: Publish,
): Promise<{ status: "waiting"; resumeAt: Date } | { status: "succeeded"; output: unknown } | { status: "failed"; error: string }> {
  const { db } = deps;
  const resolved = stepConfig(run, step);
  let row = prior && prior.status === "running" && resumeAtOf(prior.output) ? prior : undefined;
  if (!row) {
    if (prior && OPEN_STATUSES.includes(prior.status)) {
      await db.runStep.updateMany({ where: { id: prior.id, status: prior.status }, data: { status: "failed", error: "Interrupted before the delay was recorded", finishedAt: new Date() } });
    }
    const startedAt = new Date();
    const durationMs = resolved.error === undefined ? (resolved.config as { durationMs: number }).durationMs : 0;
    const resumeAt = new Date(startedAt.getTime() + durationMs);
    const id = newId("rst");
    try {
      await db.runStep.create({
        data: {
          id,
          runId: run.runId,
          stepId: step.id,
          type: step.type,
          attempt: (prior?.attempt ?? 0) + 1,
          status: "running",
          input: jsonValue(resolved.error === undefined ? resolved.config : resolved.raw),
          output: jsonValue({ resumeAt: resumeAt.toISOString() }),
          startedAt,
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateDelivery(run.runId, step.id);
      throw error;
    }
    await publish({ type: "step.started", stepId: step.id, status: "running", output: { resumeAt: resumeAt.toISOString() } });
    row = { id, stepId: step.id, attempt: (prior?.attempt ?? 0) + 1, status: "running", output: { resumeAt: resumeAt.toISOString() }, error: null, startedAt };
    if (resolved.error !== undefined) {
      await db.runStep.update({ where: { id }, data: { status: "failed", error: resolved.error, finishedAt: new Date() } });
      await publish({ type: "step.failed", stepId: step.id, status: "failed", error: resolved.error });
      return { status: "failed", error: resolved.error };
    }
  }
  const resumeAt = resumeAtOf(row.output)!;
  if (resumeAt.getTime() > Date.now()) return { status: "waiting", resumeAt };
  const waitedMs = Math.max(0, resumeAt.getTime() - (row.startedAt ?? resumeAt).getTime());
  const output = { waitedMs, resumeAt: resumeAt.toISOString() };
  const done = await db.runStep.updateMany({
    where: { id: row.id, status: "running" },
    data: { status: "succeeded", output: jsonValue(output), finishedAt: new Date() },
  });
  if (done.count === 0) throw new DuplicateDelivery(run.runId, step.id);
  await publish({ type: "step.succeeded", stepId: step.id, status: "succeeded", output });
  return { status: "succeeded", output };
}

function resumeAtOf(output: unknown): Date | null {
  const text = (output as { resumeAt?: unknown } | null)?.resumeAt;
  if (typeof text !== "string") return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

type AttemptResult =
  | { status: "succeeded"; output: unknown; branch?: "true" | "false" }
  | { status: "failed"; error: string }
  | { status: "retrying"; delayMs: number; row: LedgerRow }
  | { status: "stopped" };

/** R17: how often a step is attempted, and the backoff before the next attempt (exponential, with jitter). */
export function retryPolicy(type: StepType, config: unknown): { maxAttempts: number; backoffMs: number } {
  const own = (config as { retry?: { maxAttempts?: number; backoffMs?: number } } | null)?.retry;
  const atMostOnce = stepTypes[type].sideEffects === "at-most-once";
  return {
    maxAttempts: own?.maxAttempts ?? (atMostOnce ? RETRY_DEFAULTS.atMostOnceAttempts : RETRY_DEFAULTS.idempotentAttempts),
    backoffMs: own?.backoffMs ?? RETRY_DEFAULTS.backoffMs,
  };
}

/** Backoff before attempt `failedAttempt + 1`: backoffMs · 2^(failedAttempt−1), capped, then 50–100 % of that. */
export function backoffDelay(backoffMs: number, failedAttempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_DEFAULTS.maxBackoffMs, backoffMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

/** R19: the step's own `timeoutMs` when its type has one, else a per-type default, else the engine's. */
export function stepTimeout(type: StepType, config: unknown): number {
  const own = (config as { timeoutMs?: unknown } | null)?.timeoutMs;
  return typeof own === "number" ? own : (STEP_TIMEOUT_DEFAULTS[type] ?? ENGINE_STEP_TIMEOUT_MS);
}

/**
 * One attempt of one step: a ledger row, step.started, the executor, then step.succeeded, step.retrying
 * (a retryable failure with attempts left) or step.failed (R5, R9, R17).
 */
async function attempt(
  deps: EngineDeps,
  stop: AbortSignal,
  args: { run: RunState; step: Step; prior: LedgerRow | undefined; context: RunContext; publish: Publish },
): Promise<AttemptResult> {
  const { db, logger } = deps;
  const { run, step, prior, context, publish } = args;
  const { runId } = run;
  const type = step.type as StepType; // validated in executeRun (R3)
  const atMostOnce = isStepType(type) && stepTypes[type].sideEffects === "at-most-once";

  if (prior?.status === "retrying") {
    // R17: the previous attempt failed retryably; it is closed as failed when the next one starts.
    await db.runStep.updateMany({ where: { id: prior.id, status: "retrying" }, data: { status: "failed" } });
  } else if (prior && (prior.status === "running" || prior.status === "pending")) {
    // R10: an attempt left `running` was interrupted (crash or shutdown). Close it; repeat the step only
    // when repeating it is safe (sideEffects "none" or "idempotent").
    const error = atMostOnce
      ? "Interrupted while running; outcome unknown — not repeated because it may already have taken effect"
      : "Interrupted while running (the worker stopped); attempted again";
    await db.runStep.updateMany({ where: { id: prior.id, status: prior.status }, data: { status: "failed", error, finishedAt: new Date() } });
    if (atMostOnce) {
      await publish({ type: "step.failed", stepId: step.id, status: "failed", error });
      return { status: "failed", error };
    }
  }

  const attemptNo = (prior?.attempt ?? 0) + 1;
  const rowId = newId("rst");
  const resolved = stepConfig(run, step);
  try {
    await db.runStep.create({
      data: {
        id: rowId,
        runId,
        stepId: step.id,
        type: step.type,
        attempt: attemptNo,
        status: "running",
        input: jsonValue(resolved.error === undefined ? resolved.config : resolved.raw),
        startedAt: new Date(),
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DuplicateDelivery(runId, step.id);
    throw error;
  }
  await publish({ type: "step.started", stepId: step.id, status: "running", attempt: attemptNo });

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
  const chunks = chunkPublisher(publish, step.id, logger);

  let result: ExecutorResult;
  try {
    if (resolved.error !== undefined) throw new StepError(resolved.error);
    const executor = executors[type] as (args: ExecutorArgs<StepType>) => Promise<ExecutorResult>;
    if (!executor) throw new StepError(`No executor for step type "${step.type}"`);
    // The race bounds executors that cannot be interrupted (the abort wins; their late result is ignored).
    result = await Promise.race([
      executor({
        config: resolved.config as ExecutorArgs<StepType>["config"],
        context,
        signal,
        env: deps.env,
        logger: deps.logger,
        stepId: step.id,
        runId,
        attempt: attemptNo,
        idempotencyKey: `${runId}:${step.id}:${attemptNo}`,
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
    logger.info("step failed", { runId, stepId: step.id, type, attempt: attemptNo, error: message, retryable, retry });
    const status = retry ? "retrying" : "failed";
    await db.runStep.update({
      where: { id: rowId },
      data: { status, error: message, output: output === undefined ? undefined : jsonValue(output), finishedAt: new Date() },
    });
    if (retry) {
      const delayMs = backoffDelay(policy.backoffMs, attemptNo);
      await publish({
        type: "step.retrying",
        stepId: step.id,
        status: "retrying",
        attempt: attemptNo,
        error: message,
        output: { attempt: attemptNo, maxAttempts: policy.maxAttempts, retryInMs: delayMs },
      });
      return {
        status: "retrying",
        delayMs,
        row: { id: rowId, stepId: step.id, attempt: attemptNo, status: "retrying", output: null, error: message, startedAt: null },
      };
    }
    await publish({ type: "step.failed", stepId: step.id, status: "failed", attempt: attemptNo, error: message, ...(output === undefined ? {} : { output }) });
    return { status: "failed", error: message };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }

  const output = toJson(result.output);
  const done = await updatedIf(
    db.runStep.update({
      where: { id: rowId, status: "running" },
      data: {
        status: "succeeded",
        output: jsonValue(output),
        ...(result.input === undefined ? {} : { input: jsonValue(toJson(result.input)) }),
        finishedAt: new Date(),
      },
      select: { id: true },
    }),
  );
  if (!done) return { status: "stopped" }; // closed by a cancel meanwhile (R15)
  await publish({ type: "step.succeeded", stepId: step.id, status: "succeeded", attempt: attemptNo, output });
  return { status: "succeeded", output, branch: result.branch };
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

/** A credential of the run's workspace, decrypted and checked against its type's schema (never logged). */
export async function loadCredential<C extends CredentialType>(deps: Pick<EngineDeps, "db" | "env">, workspaceId: string, id: string, type: C): Promise<CredentialSecret<C>> {
  const row = await deps.db.credential.findFirst({ where: { id, workspaceId }, select: { name: true, type: true, secret: true } });
  if (!row) throw new StepError(`Credential "${id}" does not exist in this workspace`);
  if (row.type !== type) throw new StepError(`Credential "${row.name}" is a ${row.type} credential, not ${type}`);
  let secret: unknown;
  try {
    secret = decryptSecret(deps.env.CREDENTIALS_KEY, row.secret);
  } catch {
    throw new StepError(`Credential "${row.name}" cannot be decrypted (was CREDENTIALS_KEY changed?)`);
  }
  const parsed = credentialTypes[type].secretSchema.safeParse(secret);
  if (!parsed.success) throw new StepError(`Credential "${row.name}" is not a valid ${type} credential`);
  return parsed.data as CredentialSecret<C>;
}

async function currentStatus(db: Db, runId: string): Promise<RunStatus | null> {
  const row = await db.run.findUnique({ where: { id: runId }, select: { status: true } });
  return row?.status ?? null;
}

/** A step's output as plain JSON (undefined → null; dates → strings). */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/** Prisma wants JsonNull for a JSON null in a nullable Json column. */
function jsonValue(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}
