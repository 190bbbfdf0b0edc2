import jsonata from "jsonata";
import { StepError, errorMessage } from "./errors.js";
import type { RunContext } from "./executors/types.js";

/** Limits of one JSONata evaluation (R7): wall time, call depth and sequence length. */
export const EXPRESSION_LIMITS = { timeoutMs: 1_000, stack: 500, sequence: 100_000 } as const;

/**
 * Evaluates a JSONata expression against the run context. Syntax errors, runtime errors and exceeded limits
 * are non-retryable step failures (the same expression would fail again).
 */
export async function evaluateExpression(expression: string, context: RunContext): Promise<unknown> {
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(expression, {
      timeout: EXPRESSION_LIMITS.timeoutMs,
      stack: EXPRESSION_LIMITS.stack,
      sequence: EXPRESSION_LIMITS.sequence,
    });
  } catch (error) {
    throw new StepError(`Invalid expression: ${errorMessage(error)}`, { cause: error });
  }
  try {
    const value = await compiled.evaluate(context);
    return normalise(value);
  } catch (error) {
    throw new StepError(`Expression failed: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * JSONata results may be `undefined` (no match) or carry internal markers (sequence flags, functions);
 * a step output is plain JSON, so round-trip it. `undefined` becomes `null`.
 */
function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "function") throw new StepError("Expression returned a function, not a value");
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}
