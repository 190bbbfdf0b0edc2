/**
 * Engine steps: step types the walk (run.ts) hands to a handler instead of one executor attempt (attempt.ts) —
 * steps that wait without holding a worker (delay, approval, workflow.call) or that record steps of their own
 * (ai.agent). Add a type to the registry in engine-steps.ts, not in run.ts; its `stepTypes` entry and the `executors` map still exist (the
 * executor may throw: it is never called for a type registered here).
 *
 * The contract of a handler:
 * - It is called when the step is ready to run (its predecessors decided, one of its edges taken), and again on
 *   every later delivery while it is waiting. `prior` is the latest ledger row under `ledgerId` (undefined when
 *   the step never started in this run). A handler is idempotent over deliveries: it reads `prior` and goes on
 *   from there (R5) — a crash may interrupt it anywhere, and a re-delivery calls it again with the newest row.
 * - It records its own ledger row(s) and events with ledger.ts's insertStep / updateStep (each one statement with
 *   its event, R5), under `ledgerId` — never `step.id`: inside a loop body the ledger id is `<stepId>@<i>`.
 *   insertStep throwing DuplicateDelivery (another delivery recorded the same attempt) must be let through.
 * - It returns:
 *     `{ status: "waiting", resumeAt }` — its row stays open (`running`, or `waiting` for a step that waits for
 *       someone); the steps behind it wait too; once nothing else can run the job is moved to BullMQ's delayed
 *       set until the earliest `resumeAt`, or, when every waiter says `null` ("until woken"), until
 *       FAR_RESUME_MS from now — whoever wakes it promotes the delayed job (as a cancel does, R15).
 *     `{ status: "succeeded", output }` — its row is closed succeeded (by the handler); the walk goes on with it.
 *     `{ status: "failed", error }` — its row is closed failed (by the handler); the step's onError decides.
 * - `stop` is aborted when the run is stopped from outside (R15): return `waiting` (the walk then closes what
 *   is open) rather than throw. `deps.signal` aborted (shutdown): throw ShutdownAbort.
 * - `context` is what expressions see (`{ input, steps, item?, index? }`); read it, do not change it.
 *
 * Sub-steps (an agent's model calls and tool calls) are ledger rows of their own, with ids from `subStepId`
 * (`<ledgerId>/model-1`, `<ledgerId>/tool-1`, …), recorded with insertStep / updateStep like any row: they show in
 * the trace, and a re-delivery finds them in `subSteps(ledger, ledgerId)` and reuses the succeeded ones. The walk
 * never executes or skips them (they are not steps of the definition).
 */
import type { Step } from "@algorythmos/domain";
import type { RunContext } from "../executors/types.js";
import type { EngineDeps, LedgerRow, Publish, RunState } from "./types.js";

export interface EngineStepArgs {
  deps: EngineDeps;
  run: RunState;
  step: Step;
  /** The id of the step's ledger rows and events: `step.id`, or `<step.id>@<i>` inside a loop body. */
  ledgerId: string;
  prior: LedgerRow | undefined;
  /** Every ledger row of the run read by this delivery, by ledger id (for sub-steps); do not change it. */
  ledger: ReadonlyMap<string, LedgerRow>;
  publish: Publish;
  context: RunContext;
  stop: AbortSignal;
}

export type EngineStepResult =
  | { status: "waiting"; resumeAt: Date | null }
  | { status: "succeeded"; output: unknown }
  | { status: "failed"; error: string };

export type EngineStepHandler = (args: EngineStepArgs) => Promise<EngineStepResult>;

/** When every waiting step waits "until woken", the job is still looked at this often (a lost wake-up heals). */
export const FAR_RESUME_MS = 60 * 60_000;

/** A sub-step's ledger id: `<ledgerId>/<kind>-<n>` (n from 1). */
export function subStepId(ledgerId: string, kind: string, n: number): string {
  return `${ledgerId}/${kind}-${n}`;
}

/** The sub-steps recorded under a step's ledger id, in order of n per kind. */
export function subSteps(ledger: ReadonlyMap<string, LedgerRow>, ledgerId: string): LedgerRow[] {
  const prefix = `${ledgerId}/`;
  return [...ledger.values()]
    .filter((row) => row.stepId.startsWith(prefix) && !row.stepId.slice(prefix.length).includes("/"))
    .sort((a, b) => a.stepId.localeCompare(b.stepId, "en", { numeric: true }));
}

/** The definition step id of a ledger id (`fetch@3` → `fetch`, `agent/tool-2` → `agent`). */
export function baseStepId(ledgerId: string): string {
  return ledgerId.split(/[@/]/)[0]!;
}
