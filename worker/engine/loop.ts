/**
 * R25, R28: a loop step walks its body once per item. Its own ledger row is written `running` with the items
 * (evaluated once, so every delivery walks the same ones), each iteration's steps are recorded under
 * `<stepId>@<index>` (`@<outer>.<inner>` in nested loops) and reused like any row (R5): a re-delivery walks
 * the finished iterations from the ledger without executing anything and goes on at the first unfinished one.
 */
import { newId, type Step, type StepConfig } from "@algorythmos/domain";
import { DuplicateDelivery, ShutdownAbort, errorMessage } from "../errors.js";
import type { RunContext } from "../executors/types.js";
import { evaluateExpression } from "../expressions.js";
import type { EngineStepResult } from "./engine-step-contract.js";
import { insertStep, OPEN_STATUSES, toJson, updateStep } from "./ledger.js";
import { scopeSteps, type Scope, type ScopeResult, type Walk } from "./scope.js";
import { stepConfig } from "./step-config.js";
import type { LedgerRow } from "./types.js";

export type LoopOutcome = EngineStepResult | { status: "halted" } | { status: "handBack" };

/** What a loop body's expressions see besides `input` and `steps`. */
export type LoopContext = RunContext & { item: unknown; index: number };

export async function runLoop(
  walk: Walk,
  parent: Scope,
  step: Step,
  ledgerId: string,
  prior: LedgerRow | undefined,
  walkBody: (walk: Walk, scope: Scope) => Promise<ScopeResult>,
): Promise<LoopOutcome> {
  const { deps, run, publish, stop } = walk;
  const resolved = stepConfig(run, step);
  const config = resolved.config as StepConfig<"loop"> | undefined;

  let row = prior && prior.status === "running" && itemsOf(prior.output) ? prior : undefined;
  if (!row) {
    let items: unknown[] = [];
    let error = resolved.error;
    if (config) {
      try {
        items = toItems(await evaluateExpression(config.items, parent.context, AbortSignal.any([deps.signal, stop])));
      } catch (caught) {
        if (stop.aborted) return { status: "halted" };
        if (deps.signal.aborted) throw new ShutdownAbort();
        error = `Items: ${errorMessage(caught)}`;
      }
      if (error === undefined && items.length > config.maxItems) {
        error = `The items expression gave ${items.length} items; the loop's maxItems is ${config.maxItems}`;
      }
    }
    const id = newId("rst");
    const attempt = (prior?.attempt ?? 0) + 1;
    const startedAt = new Date();
    const output = { itemCount: items.length, items: toJson(items) };
    // The row and its step.started, one statement (R5), closing an attempt interrupted before it recorded its items.
    const interrupted = prior && OPEN_STATUSES.includes(prior.status) ? { id: prior.id, from: prior.status, error: "Interrupted before the loop recorded its items" } : undefined;
    await insertStep(
      publish,
      { id, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "running", input: config ?? (resolved.error !== undefined ? resolved.raw : null), output, startedAt },
      { type: "step.started", stepId: ledgerId, status: "running", attempt, output: { itemCount: items.length } },
      interrupted,
    );
    if (error !== undefined) return closeFailed(walk, id, ledgerId, attempt, error);
    row = { id, stepId: ledgerId, attempt, status: "running", output, error: null, startedAt };
  }
  if (!config) return closeFailed(walk, row.id, ledgerId, row.attempt, resolved.error ?? "Invalid config");

  const items = itemsOf(row.output)!;
  const since = row.startedAt ? new Date(row.startedAt) : new Date(0);
  const { sinks } = scopeSteps(walk, step.id);
  const outputs: unknown[] = new Array(items.length).fill(null);
  let failure: string | null = null;
  let halted = false;
  let handBack = false;
  const waits: (Date | null)[] = [];
  let next = 0;
  let done = 0;

  // R28: at most `concurrency` iterations at once; an iteration that waits (a delay in the body) keeps its slot.
  const lane = async () => {
    while (next < items.length && failure === null && !halted && !handBack && !walk.failing) {
      const index = next++;
      const context: LoopContext = { input: parent.context.input, steps: { ...parent.context.steps }, item: items[index], index };
      const path = parent.path ? `${parent.path}.${index}` : String(index);
      const result = await walkBody(walk, { loopId: step.id, path, context, since });
      if (result.halted) halted = true;
      else if (result.handBack) handBack = true;
      else if (result.failure) {
        if (config.onItemError === "continue") {
          outputs[index] = { error: result.failure.message };
          done++;
        } else {
          failure ??= `Item ${index} failed: ${result.failure.message}`;
        }
      } else if (result.waiting.size) {
        waits.push(...result.waiting.values());
        return;
      } else {
        outputs[index] = sinkOutput(sinks, result);
        done++;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(config.concurrency, items.length) }, lane));
  const crashed = lanes.find((lane): lane is PromiseRejectedResult => lane.status === "rejected");
  if (crashed) throw crashed.reason;

  if (halted) return { status: "halted" };
  if (handBack) return { status: "handBack" };
  if (failure !== null) return closeFailed(walk, row.id, ledgerId, row.attempt, failure);
  if (waits.length) {
    const times = waits.filter((time): time is Date => time !== null).map((time) => time.getTime());
    return { status: "waiting", resumeAt: times.length ? new Date(Math.min(...times)) : null };
  }
  // R8: the run failed elsewhere while the loop had items left: it is not finished, and stops here.
  if (done < items.length) return closeFailed(walk, row.id, ledgerId, row.attempt, `Stopped after ${done} of ${items.length} items: another step failed`);

  const output = toJson(outputs);
  const closed = await updateStep(publish, { id: row.id, from: ["running"] }, { status: "succeeded", output }, { type: "step.succeeded", stepId: ledgerId, status: "succeeded", attempt: row.attempt, output });
  if (!closed) {
    if (stop.aborted) return { status: "halted" }; // closed by a cancel meanwhile (R15)
    throw new DuplicateDelivery(run.runId, ledgerId);
  }
  return { status: "succeeded", output };
}

async function closeFailed(walk: Walk, rowId: string, ledgerId: string, attempt: number, error: string): Promise<LoopOutcome> {
  const closed = await updateStep(walk.publish, { id: rowId, from: ["running"] }, { status: "failed", error }, { type: "step.failed", stepId: ledgerId, status: "failed", attempt, error });
  if (!closed) {
    if (walk.stop.aborted) return { status: "halted" };
    throw new DuplicateDelivery(walk.run.runId, ledgerId);
  }
  return { status: "failed", error };
}

/** An iteration's output: its one sink's output, or its sinks' outputs by step id (succeeded ones). */
function sinkOutput(sinks: string[], result: ScopeResult): unknown {
  if (sinks.length === 1) {
    const decided = result.settled.get(sinks[0]!);
    return decided?.status === "succeeded" ? (decided.output ?? null) : null;
  }
  const output: Record<string, unknown> = {};
  for (const id of sinks) {
    const decided = result.settled.get(id);
    if (decided?.status === "succeeded") output[id] = decided.output;
  }
  return output;
}

/** The items a loop row recorded when it started (R25), or null when the row is not a loop's. */
function itemsOf(output: unknown): unknown[] | null {
  const items = (output as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? items : null;
}

/** JSONata sequences: nothing (or null) is no items, an array its elements, any other single value one item. */
function toItems(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
