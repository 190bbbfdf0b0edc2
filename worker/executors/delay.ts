import { setTimeout as sleep } from "node:timers/promises";
import { ShutdownAbort, StepError } from "../errors.js";
import type { Executor } from "./types.js";

/**
 * delay (R13) — for now an in-process sleep, bounded by MAX_INLINE_DELAY_MS; longer delays fail clearly
 * instead of holding a worker slot for hours. (Later: a delayed job that resumes the run from the ledger.)
 */
export const MAX_INLINE_DELAY_MS = 5 * 60 * 1000;

export const delay: Executor<"delay"> = async ({ config, signal }) => {
  if (config.durationMs > MAX_INLINE_DELAY_MS) {
    throw new StepError(`Delays longer than ${MAX_INLINE_DELAY_MS / 60_000} minutes are not supported yet`);
  }
  try {
    await sleep(config.durationMs, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw new ShutdownAbort();
    throw error;
  }
  return { output: { waitedMs: config.durationMs } };
};
