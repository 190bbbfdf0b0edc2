import { StepError } from "../errors.js";
import type { Executor } from "../executors/types.js";

/**
 * ai.agent is an engine step (worker/engine/agent.ts, R41): it records its model and tool calls as sub-steps
 * of the ledger, which a plain executor cannot. This executor is never called; every step type has one.
 */
export const aiAgent: Executor<"ai.agent"> = async () => {
  throw new StepError("ai.agent steps are executed by the engine (worker/engine/agent.ts), not by an executor");
};
