import jsonata from "jsonata";

/** Where and why a JSONata expression does not parse. */
export interface ExpressionSyntaxError {
  /** JSONata's message, e.g. `Expected ")", got "]"`. */
  message: string;
  /** The offset (UTF-16 units) just after the token it stopped at, as JSONata reports it; null when unknown. */
  position: number | null;
  /** JSONata's error code (S0202, …), when it gives one. */
  code: string | null;
}

/**
 * The syntax check of a JSONata expression: the parse of the `jsonata` package, the same one the worker's
 * sandbox compiles with (worker/expression-sandbox.mjs), so the studio's inline errors, validation problems
 * and a run's "Invalid expression" agree. null when it parses. Nothing is evaluated.
 */
export function expressionSyntaxError(source: string): ExpressionSyntaxError | null {
  try {
    jsonata(source);
    return null;
  } catch (error) {
    const { message, position, code } = (error ?? {}) as { message?: unknown; position?: unknown; code?: unknown };
    return {
      message: typeof message === "string" && message ? message : "syntax error",
      position: typeof position === "number" && Number.isFinite(position) ? position : null,
      code: typeof code === "string" ? code : null,
    };
  }
}
