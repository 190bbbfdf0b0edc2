import { evaluateExpression } from "../expressions.js";
import { truthy } from "./condition.js";
import type { Executor } from "./types.js";

/**
 * switch (R26): the cases' JSONata expressions are evaluated in order; the first truthy one (condition's
 * truthiness) names the branch — the edges labelled with its key are taken — else the branch is "default".
 * Output `{ branch, value }`: the matching expression's value (absent for default).
 */
export const switchStep: Executor<"switch"> = async ({ config, context, signal }) => {
  for (const entry of config.cases) {
    const value = await evaluateExpression(entry.expression, context, signal);
    if (truthy(value)) return { output: { branch: entry.key, value: value ?? null } };
  }
  return { output: { branch: "default" } };
};
