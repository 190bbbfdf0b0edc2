import type { RunContext } from "./executors/types.js";

/**
 * `{{ path }}` templates in http.request fields (R12): a dotted path into the run context, e.g.
 * `{{ input.user.id }}` or `{{ steps.fetch.output.body.items.0.name }}` — no expressions. A string that is
 * one template only keeps the value's type (so a body can be a whole object); inside a longer string values
 * are interpolated (objects as JSON). A path that does not exist resolves to null / "".
 */
const TEMPLATE = /\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}$/;

export function lookupPath(context: RunContext, path: string): unknown {
  let value: unknown = context;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function renderString(text: string, context: RunContext): string {
  return text.replace(TEMPLATE, (_, path: string) => {
    const value = lookupPath(context, path);
    if (value === undefined || value === null) return "";
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

/** Renders every string inside a JSON value. */
export function renderValue(value: unknown, context: RunContext): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return lookupPath(context, whole[1]!) ?? null;
    return renderString(value, context);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, context)]));
  }
  return value;
}
