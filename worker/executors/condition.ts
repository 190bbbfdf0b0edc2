import { evaluateExpression } from "../expressions.js";
import type { Executor } from "./types.js";

/**
 * condition (R6, R7): the JSONata expression's truthiness (JSONata's boolean() rules: empty string, 0, null,
 * empty array/object are false) selects the outgoing edges labelled "true" or "false".
 */
export const condition: Executor<"condition"> = async ({ config, context, signal }) => {
  const value = await evaluateExpression(config.expression, context, signal);
  const result = truthy(value);
  return { output: { result, value }, branch: result ? "true" : "false" };
};

export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (value && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}
