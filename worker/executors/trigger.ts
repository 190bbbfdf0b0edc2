import type { Executor } from "./types.js";

/** Trigger steps (R4) succeed at once; their output is the run's input. */
export const trigger: Executor<"trigger.manual" | "trigger.webhook" | "trigger.cron"> = async ({ context }) => ({
  output: context.input,
  input: null,
});
