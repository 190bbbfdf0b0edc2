import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/** approval (R33) is handled by the engine (worker/engine/approval.ts): it waits for a decision without holding a worker. This executor is never called; every step type has one. */
export const approvalExecutor: Executor<"approval"> = async () => {
  throw new StepError("approval steps are handled by the engine, not executed");
};
