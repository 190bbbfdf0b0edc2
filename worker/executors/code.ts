import { runCode } from "../code-sandbox.js";
import type { Executor } from "./types.js";

/**
 * code (R44–R46): the config's JavaScript body runs in the QuickJS sandbox over `{ input, steps }`; the output
 * is `{ result, logs }` — what the code returned (JSON) and its console lines.
 */
export const code: Executor<"code"> = async ({ config, context, signal }) => {
  const { value, logs } = await runCode(config.code, context, { timeoutMs: config.timeoutMs, memoryLimitMb: config.memoryLimitMb }, signal);
  return { output: { result: value, logs } };
};
