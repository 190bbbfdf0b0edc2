import type { Result } from "~/lib/errors";
import type { RunStepAttempt } from "~/lib/operations";
import type { StepDisplayState } from "~/lib/runs";

/** What the run page's action returns when it does not redirect (cancel, or a refused re-run). */
export type TraceActionResult = Result<{ message: string }>;

/** A step as the run captured it: the workflow may have changed since. */
export interface CapturedStep {
  name: string;
  type: string;
  config: unknown;
  /** Its place in the captured graph (predecessors first): orders attempts that start at the same time. */
  order?: number;
}

/** One row of the waterfall: a step attempt, loaded or (`live`) known so far only from its events. */
export interface TraceRow extends Omit<RunStepAttempt, "id"> {
  key: string;
  live: boolean;
  /** What the row shows (lib/runs stepDisplayState): its status, or canceled / reused. */
  display: StepDisplayState;
}
