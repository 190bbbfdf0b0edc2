import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/** workflow.call (R30) is handled by the engine (worker/engine/call.ts): it waits for its child run without holding a worker. This executor is never called; every step type has one. */
export const workflowCallExecutor: Executor<"workflow.call"> = async () => {
  throw new StepError("workflow.call steps are handled by the engine, not executed");
};
