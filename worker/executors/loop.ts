import { StepError } from "../errors.js";
import type { Executor } from "./types.js";

/** loop (R25) is run by the engine (worker/engine/loop.ts), which walks its body once per item. */
export const loop: Executor<"loop"> = async () => {
  throw new StepError("A loop is run by the engine, not as one executor");
};
