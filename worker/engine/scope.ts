/** The scopes a walk decides (the top level, each loop iteration) and what they share: run.ts walks them, loop.ts nests them. */
import type { Edge, Step } from "@algorythmos/domain";
import type { RunContext } from "../executors/types.js";
import type { EngineDeps, LedgerRow, Publish, RunState, Settled } from "./types.js";

/** What every scope of one delivery's walk shares: the run, its ledger and its graph. */
export interface Walk {
  deps: EngineDeps;
  stop: AbortSignal;
  run: RunState;
  publish: Publish;
  /** R5: the latest attempt of every ledger id recorded so far, as this delivery read it. */
  latest: Map<string, LedgerRow>;
  steps: Map<string, Step>;
  outgoing: Map<string, Edge[]>;
  /** R6: the definition's topological order. */
  order: string[];
  /** R25: the innermost loop whose body holds each step (null: top level). */
  owners: Map<string, string | null>;
  /** R29: the steps a re-run from a step executes again (null when the run is no re-run). */
  rerun: Set<string> | null;
  /** R15: false once the run was stopped from outside (asks the database at most every STATUS_CHECK_MS). */
  stillRunning(): Promise<boolean>;
  /** R8: the run is failing — loops start no new iteration. */
  failing: boolean;
  /** R47: pinned outputs a draft run takes instead of executing those steps (top level only). */
  pinned: Map<string, unknown>;
}

/** A graph one walk decides: the top level, or one iteration of a loop's body (R25). */
export interface Scope {
  loopId: string | null;
  /** "" at the top level; the iteration's index in a loop body, "<outer>.<inner>" in nested ones. */
  path: string;
  /** What expressions see: `{ input, steps }`, and `item` / `index` in a loop body. */
  context: RunContext;
  /** In a loop body: when the loop's row started (R29: an older row of a re-run step was copied from the old run). */
  since: Date | null;
}

/** How a step was decided. `errored`: it failed and its onError ("continue" / "branch") let the walk go on. */
export type Decided = Settled & { errored?: "continue" | "branch" };

export interface ScopeResult {
  settled: Map<string, Decided>;
  failure: { stepId: string; message: string } | null;
  /** R15: stopped from outside. */
  halted: boolean;
  /** R10: draining; a step was left unstarted. */
  handBack: boolean;
  /** R13: steps waiting (their resume time; null: until woken, or held back behind a waiting step). */
  waiting: Map<string, Date | null>;
}

/**
 * R55: a settled step's output as expressions see it — `steps.<id>.output` always (old workflows, the public API,
 * templates written before keys), and `steps.<key>.output` when the step has a readable key (L12). A key never
 * shadows another step's id: validation refuses such a key (DUPLICATE_STEP_KEY), and here the id wins.
 */
export function exposeStepOutput(walk: Pick<Walk, "steps">, context: RunContext, step: Step, output: unknown): void {
  const entry = { output };
  context.steps[step.id] = entry;
  if (step.key && step.key !== step.id && !walk.steps.has(step.key)) context.steps[step.key] = entry;
}

/** The ledger id of a step in a scope: its id, or `<stepId>@<path>` inside a loop body (R25). */
export function ledgerIdIn(scope: Pick<Scope, "path">, stepId: string): string {
  return scope.path ? `${stepId}@${scope.path}` : stepId;
}

/** The steps a scope decides (in topological order), and its sinks (no outgoing edge inside the scope). */
export function scopeSteps(walk: Walk, loopId: string | null): { members: string[]; sinks: string[] } {
  const members = walk.order.filter((id) => walk.owners.get(id) === loopId);
  const sinks = members.filter((id) => !walk.outgoing.get(id)!.some((edge) => walk.owners.get(edge.target) === loopId));
  return { members, sinks };
}

