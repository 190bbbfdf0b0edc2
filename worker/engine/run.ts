/** executeRun: load the run, start it (R2), decide its steps in dataflow order (R6), finish it. Overview in worker/engine.ts. */
import { FINAL_RUN_STATUSES, isTriggerType, loopOwners, outgoingEdges, runStartTriggers, stepAndDescendants, topologicalOrder, validateDefinition, WorkflowDefinition, type Edge, type Step } from "@algorythmos/domain";
import { finishRun, isDuplicateKey, loadAndStartRun, repairFinalEvent, type RunLifecycleDeps, type RunToExecute } from "@algorythmos/platform";
import { setTimeout as sleep } from "node:timers/promises";
import { DuplicateDelivery, ShutdownAbort, SuspendRun, errorMessage } from "../errors.js";
import type { RunContext } from "../executors/types.js";
import { attempt, type AttemptResult } from "./attempt.js";
import { engineStepHandler, FAR_RESUME_MS } from "./engine-steps.js";
import { pinnedOutputsOf, recordPinned } from "./pinned.js";
import { runLoop } from "./loop.js";
import { definitionProblems, parseCapturedDefinition, stepConfig } from "./step-config.js";
import { closeStoppedRun, currentStatus, OPEN_STATUSES, readLedger, skipStep, updateStep } from "./ledger.js";
import { STATUS_CHECK_MS } from "./policy.js";
import type { EngineDeps, Finish, LedgerRow, Publish, RunControl, RunOutcome, RunState, Settled } from "./types.js";
import { exposeStepOutput, ledgerIdIn, scopeSteps, type Decided, type Scope, type ScopeResult, type Walk } from "./scope.js";
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
    // R3: the captured definition must parse and validate, else the run fails with the reasons (R58: parsed once per definition).
    const parsed = parseCapturedDefinition(run.definition);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join(".") || "definition"}: ${issue.message}`);
      return await finish("failed", { error: `Invalid workflow definition: ${reasons.join("; ")}` });
    }
    const definition = parsed.data;
    const problems = definitionProblems(definition);
    if (problems.length) {
      return await finish("failed", { error: `Invalid workflow definition: ${problems.map((p) => p.message).join("; ")}` });
    }
    // R4: the run starts at the trigger that started it; the other triggers are skipped.
    const start = runStartTriggers(definition, run.trigger, run.triggerStepId);
    if (start.error) return await finish("failed", { error: start.error });
    const state: RunState = {
      runId,
      workspaceId: run.workspaceId,
      input: run.input,
      definition,
      fromStepId: run.fromStepId,
      stepInputOverride: run.stepInputOverride,
      startTriggers: start.ids,
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

  // R5: the ledger — the latest attempt of every step recorded so far. A run this delivery started has none,
  // unless it is a re-run from a step (R21), whose reused rows were committed with it.
  const latest = loaded.started && run.fromStepId === null ? new Map<string, LedgerRow>() : await readLedger(db, runId);

  // R15: a cancel message aborts `stop` at once; the database is asked too, in case the message was lost, but
  // at most every STATUS_CHECK_MS, so a chain of fast steps does not pay a query per step.
  let statusCheckedAt = loaded.loadedAt; // the load just read it
  const stillRunning = async () => {
    if (stop.aborted) return false;
    if (Date.now() - statusCheckedAt < STATUS_CHECK_MS) return true;
    statusCheckedAt = Date.now();
    return (await currentStatus(db, runId)) === "running";
  };
  const shared: Walk = {
    deps,
    stop,
    run,
    publish,
    latest,
    steps: new Map(definition.steps.map((step) => [step.id, step])),
    outgoing: outgoingEdges(definition),
    order: topologicalOrder(definition),
    owners: loopOwners(definition),
    rerun: run.fromStepId === null ? null : stepAndDescendants(definition, run.fromStepId),
    stillRunning,
    failing: false,
    pinned: await pinnedOutputsOf(deps, run),
  };
  const context: RunContext = { input: run.input, steps: {} };
  const result = await walkScope(shared, { loopId: null, path: "", context, since: null });

  if (result.halted) {
    // R15: stopped from outside. The canceller (or the reconciler) owns the run's final state. What is carried
    // is stored first: the ledger read below must see a deferred result, not close its row a second time.
    await publish.flush();
    const fresh = await readLedger(db, runId);
    await closeStoppedRun(deps, runId, definition, fresh, result.settled, publish);
    const status = await currentStatus(db, runId);
    if (status && FINAL_RUN_STATUSES.includes(status)) await repairFinalEvent(lifecycleOf(deps), runId);
    // Told to stop while the run is still `running` (should not happen): it ends rather than hangs.
    if (status === "running") return finish("failed", { error: "Run stopped" });
    return status ?? "missing";
  }
  if (result.handBack) throw new ShutdownAbort(); // R10: the next delivery goes on from the ledger
  if (result.failure) return finish("failed", { error: result.failure.message });
  if (result.waiting.size) {
    // R13: nothing else can run before the earliest wait is over; the job waits in BullMQ's delayed set. A step
    // waiting "until woken" (null) is promoted by whoever wakes it; FAR_RESUME_MS heals a lost wake-up.
    const times = [...result.waiting.values()].filter((time): time is Date => time !== null);
    throw new SuspendRun(new Date(times.length ? Math.min(...times.map((time) => time.getTime())) : Date.now() + FAR_RESUME_MS));
  }
  // R16: the run's output is the outputs of its succeeded sink steps (no outgoing edges; a loop's body is
  // inside the loop), by step id.
  const output: Record<string, unknown> = {};
  for (const stepId of scopeSteps(shared, null).sinks) {
    const decided = result.settled.get(stepId);
    if (decided?.status === "succeeded") output[stepId] = decided.output;
  }
  return finish("succeeded", { output });
}

/**
 * Decides the steps of one scope (R6): the top level, or one iteration of a loop body (R25), whose steps are
 * recorded under `<stepId>@<path>`. A loop step walks its body once per item (worker/engine/loop.ts).
 */
export async function walkScope(walk: Walk, scope: Scope): Promise<ScopeResult> {
  const { deps, stop, run, publish, latest, steps } = walk;
  const { db } = deps;
  const { runId } = run;
  const { members } = scopeSteps(walk, scope.loopId);
  const memberSet = new Set(members);
  const incoming = new Map<string, Edge[]>(members.map((id) => [id, []]));
  for (const id of members) for (const edge of walk.outgoing.get(id)!) if (memberSet.has(edge.target)) incoming.get(edge.target)!.push(edge);
  const ledgerIdOf = (stepId: string) => ledgerIdIn(scope, stepId);

  const settled = new Map<string, Decided>();
  /** R13: steps still waiting (their resume time) and the steps held back behind them. */
  const waiting = new Map<string, Date | null>();
  const context = scope.context;
  let failure: { stepId: string; message: string } | null = null;

  const label = (step: Step) => {
    const id = ledgerIdOf(step.id);
    return step.name && step.name !== step.id ? `"${step.name}" (${id})` : `"${id}"`;
  };
  /** R5: the step's latest row, and whether it can be reused (R29: not a row a re-run copied for a step it executes again). */
  const priorOf = (step: Step) => {
    const row = latest.get(ledgerIdOf(step.id));
    const copied = !!row && scope.since !== null && !!walk.rerun?.has(step.id) && row.startedAt !== null && new Date(row.startedAt).getTime() < scope.since.getTime();
    return { row, reusable: copied ? undefined : row };
  };
  const skip = (step: Step, prior: LedgerRow | undefined) => skipStep(runId, step, prior, settled, publish, null, ledgerIdOf(step.id));
  const succeed = (step: Step, output: unknown) => {
    settled.set(step.id, { status: "succeeded", output });
    exposeStepOutput(walk, context, step, output);
  };
  /** R27: a failed step — the run fails (onError "fail"), or the walk goes on with `{ error }` / along its error edges. */
  const fail = (step: Step, error: string) => {
    const onError = step.onError ?? "fail";
    if (onError === "fail") {
      settled.set(step.id, { status: "failed" });
      failure ??= { stepId: ledgerIdOf(step.id), message: `Step ${label(step)} failed: ${error}` };
      if (scope.loopId === null) walk.failing = true;
      return;
    }
    const resolved = stepConfig(run, step);
    const output = onError === "branch" ? { error, input: resolved.error === undefined ? resolved.config : resolved.raw } : { error };
    settled.set(step.id, { status: "succeeded", output, errored: onError });
    exposeStepOutput(walk, context, step, output);
  };

  /** An executing step: its attempts (R17) until it succeeds, fails for good, or the run is stopped. */
  let halted = false;
  let crash: { error: unknown } | null = null;
  const execute = async (step: Step, prior: LedgerRow | undefined): Promise<void> => {
    let previous = prior;
    let result: AttemptResult;
    for (;;) {
      result = await attempt(deps, stop, { run, step, ledgerId: ledgerIdOf(step.id), prior: previous, context, publish });
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
    if (result.status === "stopped") halted = true;
    else if (result.status === "succeeded") succeed(step, result.output);
    else fail(step, result.error);
  };

  // R6: dataflow — a step is decided once all its predecessors are; independent branches execute
  // concurrently within the delivery. Decisions are made in topological order, so the ledger and the
  // events of a linear graph come out in order.
  const decided = (stepId: string) => settled.has(stepId) || waiting.has(stepId);
  const running = new Map<string, Promise<void>>();
  /** R10: the worker is draining and a step was left unstarted: the run is handed back once nothing executes. */
  let handBack = false;
  try {
    for (;;) {
      let changed = true;
      while (changed && !halted && !crash && !handBack) {
        changed = false;
        for (const stepId of members) {
          if (halted || crash) break;
          if (decided(stepId) || running.has(stepId)) continue;
          const step = steps.get(stepId)!;
          const { row: prior, reusable } = priorOf(step);

          // R5: a settled attempt is reused, never executed again.
          if (reusable?.status === "succeeded") {
            succeed(step, reusable.output);
            changed = true;
            continue;
          }
          if (reusable?.status === "skipped") {
            settled.set(stepId, { status: "skipped" });
            changed = true;
            continue;
          }
          if (reusable?.status === "failed" && !failure) {
            // Recorded failed (retries used up or not retryable) just before a crash: its onError decides (R8, R27).
            fail(step, reusable.error ?? "unknown error");
            changed = true;
            continue;
          }
          // R8: after a failure nothing else starts; every step not yet settled (and not executing) is skipped.
          if (failure) {
            await skip(step, prior);
            changed = true;
            continue;
          }
          const edges = incoming.get(stepId)!;
          // R4: at the top level only the run's own trigger starts; another trigger, and a step no edge leads to
          // (no trigger reaches it), is skipped with the reason — the skip spreads to what only they reach (R6).
          if (scope.loopId === null && !edges.length) {
            const reason = notStartedReason(step, run, steps);
            if (reason) {
              await skipStep(runId, step, prior, settled, publish, reason, ledgerIdOf(stepId));
              changed = true;
              continue;
            }
          }
          if (edges.some((edge) => !decided(edge.source))) continue; // a predecessor is still executing
          // R13: a step behind a waiting step waits too (it is decided once the wait is over).
          if (edges.some((edge) => waiting.has(edge.source))) {
            waiting.set(stepId, null);
            changed = true;
            continue;
          }
          // R6: a step with incoming edges runs when at least one of them is taken, else it is skipped.
          if (edges.length && !edges.some((edge) => taken(edge, steps, settled))) {
            await skip(step, prior);
            changed = true;
            continue;
          }
          // R10: a draining worker starts no new step; the steps in flight finish first.
          if (deps.draining?.aborted) {
            handBack = true;
            break;
          }
          // R15: a run canceled (or timed out) meanwhile starts nothing more.
          if (!(await walk.stillRunning())) {
            halted = true;
            break;
          }
          // R47 (pinned data): a draft run uses a pinned output instead of executing the step.
          if (scope.loopId === null && walk.pinned.has(stepId)) {
            succeed(step, recordPinned(run, step, prior, walk.pinned.get(stepId), publish));
            changed = true;
            continue;
          }
          if (step.type === "loop") {
            // R25: the loop walks its body per item, concurrently with the rest of this scope.
            const task = runLoop(walk, scope, step, ledgerIdOf(stepId), prior, walkScope)
              .then((result) => {
                if (result.status === "halted") halted = true;
                else if (result.status === "handBack") handBack = true;
                else if (result.status === "waiting") waiting.set(stepId, result.resumeAt);
                else if (result.status === "succeeded") succeed(step, result.output);
                else fail(step, result.error);
              })
              .catch((error: unknown) => {
                crash ??= { error };
              })
              .finally(() => running.delete(stepId));
            running.set(stepId, task);
            continue;
          }
          const handler = engineStepHandler(step.type);
          if (handler) {
            const result = await handler({ deps, run, step, ledgerId: ledgerIdOf(stepId), prior, ledger: latest, publish, context, stop });
            if (result.status === "waiting") waiting.set(stepId, result.resumeAt);
            else if (result.status === "succeeded") succeed(step, result.output);
            else fail(step, result.error);
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

  if (failure && !halted && !handBack && waiting.size) {
    // R8 + R13: steps that were waiting and the steps behind them are not needed any more.
    const fresh = await readLedger(db, runId);
    for (const stepId of waiting.keys()) {
      const step = steps.get(stepId)!;
      const ledgerId = ledgerIdOf(stepId);
      const open = fresh.get(ledgerId);
      if (open && OPEN_STATUSES.includes(open.status)) {
        await updateStep(publish, { id: open.id, from: [open.status] }, { status: "skipped" }, { type: "step.skipped", stepId: ledgerId, status: "skipped" });
        settled.set(stepId, { status: "skipped" });
      } else {
        await skipStep(runId, step, open, settled, publish, null, ledgerId);
      }
      // A waiting loop (R25): the rows its iterations left open (a delay in the body) are not needed either.
      if (step.type === "loop") {
        const prefix = scope.path ? `${scope.path}.` : "";
        for (const row of fresh.values()) {
          const [base, path] = row.stepId.split("@") as [string, string | undefined];
          if (path === undefined || !path.startsWith(prefix) || !OPEN_STATUSES.includes(row.status) || !insideLoop(walk, base, stepId)) continue;
          await updateStep(publish, { id: row.id, from: [row.status] }, { status: "skipped" }, { type: "step.skipped", stepId: row.stepId, status: "skipped" });
        }
      }
    }
    waiting.clear();
  }
  return { settled, failure, halted, handBack, waiting };
}

/** R4: why a top-level step without incoming edges does not run in this run, or null when it starts it. */
function notStartedReason(step: Step, run: RunState, steps: Map<string, Step>): string | null {
  if (!isTriggerType(step.type)) return "Not run: no trigger leads to this step";
  if (!run.startTriggers || run.startTriggers.has(step.id)) return null;
  const started = [...run.startTriggers].map((id) => steps.get(id)?.name || id);
  return `Not started: this run started at ${started.length === 1 ? `trigger "${started[0]}"` : `triggers ${started.map((name) => `"${name}"`).join(", ")}`}`;
}

/** R6, R26, R27: whether an edge is taken, from how its source was decided. */
function taken(edge: Edge, steps: Map<string, Step>, settled: Map<string, Decided>): boolean {
  const source = settled.get(edge.source);
  if (source?.status !== "succeeded") return false;
  if (source.errored === "branch") return edge.label === "error";
  if (edge.label === "error" || edge.label === "body") return false;
  if (source.errored === "continue") return edge.label === undefined;
  const type = steps.get(edge.source)!.type;
  if (type === "condition" || type === "switch") return edge.label === branchOf(type, source.output);
  return true;
}

/** The branch a condition (R6) or a switch (R26) chose, read from its output (so a reused row gives the same). */
function branchOf(type: string, output: unknown): string | undefined {
  if (type === "condition") return (output as { result?: unknown } | null)?.result === true ? "true" : "false";
  const branch = (output as { branch?: unknown } | null)?.branch;
  return typeof branch === "string" ? branch : undefined;
}

/** Whether a step is in a loop's body, at any depth (R25). */
function insideLoop(walk: Walk, stepId: string, loopId: string): boolean {
  for (let owner = walk.owners.get(stepId) ?? null; owner !== null; owner = walk.owners.get(owner) ?? null) if (owner === loopId) return true;
  return false;
}
