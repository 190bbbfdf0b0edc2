/** executeRun: load the run, start it (R2), decide its steps in dataflow order (R6), finish it. Overview in worker/engine.ts. */
import { FINAL_RUN_STATUSES, outgoingEdges, topologicalOrder, validateDefinition, WorkflowDefinition, type Edge, type Step } from "@algorythmos/domain";
import { finishRun, isDuplicateKey, loadAndStartRun, repairFinalEvent, type RunLifecycleDeps, type RunToExecute } from "@algorythmos/platform";
import { setTimeout as sleep } from "node:timers/promises";
import { DuplicateDelivery, ShutdownAbort, SuspendRun, errorMessage } from "../errors.js";
import type { RunContext } from "../executors/index.js";
import { attempt, type AttemptResult } from "./attempt.js";
import { delayStep } from "./delay.js";
import { closeStoppedRun, currentStatus, OPEN_STATUSES, readLedger, skipStep, updateStep } from "./ledger.js";
import { STATUS_CHECK_MS } from "./policy.js";
import type { EngineDeps, Finish, LedgerRow, Publish, RunControl, RunOutcome, RunState, Settled } from "./types.js";
import { createPublish } from "./writer.js";

const NEVER = new AbortController().signal;

export async function executeRun(deps: EngineDeps, runId: string, control: RunControl = {}): Promise<RunOutcome> {
  const { db, logger } = deps;
  const stop = control.stop ?? NEVER;
  const lifecycle = lifecycleOf(deps);
  // R2: the run, and queued → running with its run.started — one statement (once; a re-delivery finds it
  // running and continues).
  const loaded = await loadAndStartRun(lifecycle, runId);
  if (!loaded) {
    logger.warn("run not found; job dropped", { runId });
    return "missing";
  }
  const { run, started } = loaded;
  if (run.status === "queued") return executeRun(deps, runId, control); // changed under us (canceled, or another delivery): look again
  const loadedAt = Date.now();

  // Events are stored with their ledger writes, then published; the ledger is the truth, so an event that
  // cannot be published (Redis restarting) is logged and the run goes on (worker/engine/writer.ts).
  const publish = createPublish(deps, { runId, workflowId: run.workflowId });
  try {
    return await executeLoaded(deps, stop, run, { started: started !== null, loadedAt }, publish);
  } finally {
    await publish.close();
  }
}

async function executeLoaded(
  deps: EngineDeps,
  stop: AbortSignal,
  run: RunToExecute,
  loaded: { started: boolean; loadedAt: number },
  publish: ReturnType<typeof createPublish>,
): Promise<RunOutcome> {
  const { db, logger } = deps;
  const runId = run.id;
  const lifecycle = lifecycleOf(deps);
  if (FINAL_RUN_STATUSES.includes(run.status)) {
    // R1: a final run is never executed again; a missing run.finished is repaired. R15: one stopped from
    // outside (canceled, timed out) while a step was open gets its open attempts and unsettled steps closed, once.
    await repairFinalEvent(lifecycle, runId);
    if (run.status !== "succeeded") {
      const parsed = WorkflowDefinition.safeParse(run.definition);
      if (parsed.success) await closeStoppedRun(deps, runId, parsed.data, await readLedger(db, runId), new Map(), publish);
    }
    return "skipped";
  }

  // R16: the final state with its run.finished, one statement — with the in-process steps' rows still carried.
  const finish: Finish = async (status, result) => {
    const carried = await publish.take();
    let done: boolean;
    try {
      done = await finishRun(lifecycle, { runId, workflowId: run.workflowId, status, output: result.output, error: result.error ?? null }, carried);
    } catch (error) {
      if (isDuplicateKey(error)) throw new DuplicateDelivery(runId, "(carried)");
      publish.restore(carried);
      throw error;
    }
    if (!done) return (await currentStatus(db, runId)) ?? "missing";
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
    return await walk(deps, stop, state, publish, finish, loaded);
  } catch (error) {
    if (error instanceof ShutdownAbort || error instanceof DuplicateDelivery || error instanceof SuspendRun) throw error;
    // R9: every unexpected error still ends the run in a recorded failed state.
    logger.error("run crashed", { runId, error });
    return finish("failed", { error: `Internal error: ${errorMessage(error)}` });
  }
}

/** The run lifecycle (platform run-events.ts) owns every change of the run's own state, each with its event. */
function lifecycleOf(deps: EngineDeps): RunLifecycleDeps {
  return { db: deps.db, redis: deps.redis, redisPrefix: deps.env.REDIS_PREFIX, logger: deps.logger };
}

async function walk(
  deps: EngineDeps,
  stop: AbortSignal,
  run: RunState,
  publish: Publish,
  finish: Finish,
  loaded: { started: boolean; loadedAt: number },
): Promise<RunOutcome> {
  const { db } = deps;
  const { runId, definition } = run;
  const steps = new Map(definition.steps.map((step) => [step.id, step]));
  const outgoing = outgoingEdges(definition);
  const incoming = new Map<string, Edge[]>(definition.steps.map((step) => [step.id, []]));
  for (const edges of outgoing.values()) for (const edge of edges) incoming.get(edge.target)!.push(edge);

  // R5: the ledger — the latest attempt of every step recorded so far. A run this delivery started has none,
  // unless it is a re-run from a step (R21), whose reused rows were committed with it.
  const latest = loaded.started && run.fromStepId === null ? new Map<string, LedgerRow>() : await readLedger(db, runId);
  const settled = new Map<string, Settled>();
  /** R13: delay steps still waiting (their resume time) and the steps held back behind them. */
  const waiting = new Map<string, Date | null>();
  const context: RunContext = { input: run.input, steps: {} };
  let failure: { stepId: string; message: string } | null = null;

  const label = (step: Step) => (step.name && step.name !== step.id ? `"${step.name}" (${step.id})` : `"${step.id}"`);
  const skip = (step: Step) => skipStep(runId, step, latest.get(step.id), settled, publish);
  const stopped = async (): Promise<RunOutcome> => {
    // R15: stopped from outside. The canceller (or the reconciler) owns the run's final state. What is carried
    // is stored first: the ledger read below must see a deferred result, not close its row a second time.
    await publish.flush();
    const fresh = await readLedger(db, runId);
    await closeStoppedRun(deps, runId, definition, fresh, settled, publish);
    const status = await currentStatus(db, runId);
    if (status && FINAL_RUN_STATUSES.includes(status)) await repairFinalEvent(lifecycleOf(deps), runId);
    // Told to stop while the run is still `running` (should not happen): it ends rather than hangs.
    if (status === "running") return finish("failed", { error: "Run stopped" });
    return status ?? "missing";
  };

  // R15: a cancel message aborts `stop` at once; the database is asked too, in case the message was lost, but
  // at most every STATUS_CHECK_MS, so a chain of fast steps does not pay a query per step.
  let statusCheckedAt = loaded.loadedAt; // the load just read it
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
        // R10: a drain does not wait out a backoff: the next delivery starts the next attempt at once (R17).
        await sleep(result.delayMs, undefined, { signal: AbortSignal.any([deps.signal, stop, ...(deps.draining ? [deps.draining] : [])]) });
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
  /** R10: the worker is draining and a step was left unstarted: the run is handed back once nothing executes. */
  let handBack = false;
  try {
    for (;;) {
      let changed = true;
      while (changed && !halted && !crash && !handBack) {
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
          // R10: a draining worker starts no new step; the steps in flight finish first.
          if (deps.draining?.aborted) {
            handBack = true;
            break;
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
  if (handBack) throw new ShutdownAbort(); // R10: the next delivery goes on from the ledger

  if (failure) {
    // R8 + R13: delays that were waiting and the steps behind them are not needed any more.
    const fresh = waiting.size ? await readLedger(db, runId) : latest;
    for (const stepId of waiting.keys()) {
      const step = steps.get(stepId)!;
      const open = fresh.get(stepId);
      if (open && OPEN_STATUSES.includes(open.status)) {
        await updateStep(publish, { id: open.id, from: [open.status] }, { status: "skipped" }, { type: "step.skipped", stepId, status: "skipped" });
        settled.set(stepId, { status: "skipped" });
      } else {
        await skipStep(runId, step, open, settled, publish);
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
