import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/**
 * email.postmark (R14) fails clearly until it is implemented with the `postmark` SDK (installed); that
 * needs a configurable API host so tests can stand in for Postmark.
 */
export const notImplemented = (label: string): Executor<"email.postmark"> =>
  async () => {
    throw new StepError(`The ${label} step is not implemented yet`);
  };
