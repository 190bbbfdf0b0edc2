import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/**
 * delay (R13) is scheduled by the engine itself: it records the resume time on the step's ledger row and the
 * worker moves the job to BullMQ's delayed set, so no worker slot is held while it waits (up to the domain
 * maximum of 30 days). This executor is never called; it is here because every step type has one.
 */
export const delay: Executor<"delay"> = async () => {
  throw new StepError("delay steps are scheduled by the engine, not executed");
};
