import { evaluateExpression } from "../expressions.js";
import type { Executor } from "./types.js";

/** transform (R7): the output is the JSONata expression's value over `{ input, steps }`. */
export const transform: Executor<"transform"> = async ({ config, context, signal }) => ({
  output: await evaluateExpression(config.expression, context, signal),
});
