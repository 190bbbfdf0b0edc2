/**
 * What an expression can refer to, for the expression editor's autocomplete and live preview (issue #17 UX-3):
 * `input`, the steps that run before this one (`steps.<key>.output`, docs/ydoc-layout.md L12), and `item` /
 * `index` inside a loop's body. Field names come from three sources, merged: the last run's real values, pinned
 * outputs (R47) and the registry's output schemas (R51). Pure: the editor and the tests share it.
 */
import { isTriggerType, loopOwners, predecessors, stepOutputJsonSchema, stepRefName, isStepType, type WorkflowDefinition } from "@algorythmos/domain";

export interface ScopeStep {
  id: string;
  /** What expressions call it: its key, or its id while it has none. */
  ref: string;
  name: string;
  type: string;
  /** The output schema from the registry (JSON Schema), when the type is known. */
  schema: JsonSchemaLike | null;
  pinned: { value: unknown } | null;
  lastRun: { value: unknown } | null;
}

export interface ExpressionScope {
  steps: ScopeStep[];
  /** Values `input` held: the last run's input, and pinned trigger outputs (a trigger's output is the input). */
  inputSamples: unknown[];
  inLoop: boolean;
  /** The last run's real values as the engine exposes them (R55: by id and by key), for the preview; null without a run. */
  previewContext: { input: unknown; steps: Record<string, { output: unknown }> } | null;
}

export interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  items?: JsonSchemaLike;
  anyOf?: JsonSchemaLike[];
  oneOf?: JsonSchemaLike[];
  description?: string;
}

export interface LastRunValues {
  input: unknown;
  outputs: Record<string, unknown>;
}

/** The steps that always run before `stepId`: its ancestors along the edges, in the definition's order. */
function ancestors(definition: WorkflowDefinition, stepId: string): Set<string> {
  const preds = predecessors(definition);
  const seen = new Set<string>();
  const stack = [...(preds.get(stepId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(preds.get(id) ?? []));
  }
  return seen;
}

export function expressionScope(definition: WorkflowDefinition, stepId: string, lastRun: LastRunValues | null): ExpressionScope {
  const before = ancestors(definition, stepId);
  const pinned = definition.pinned ?? {};
  const steps: ScopeStep[] = definition.steps
    .filter((step) => before.has(step.id))
    .map((step) => ({
      id: step.id,
      ref: stepRefName(step),
      name: step.name,
      type: step.type,
      schema: isStepType(step.type) ? (stepOutputJsonSchema(step.type) as JsonSchemaLike) : null,
      pinned: Object.hasOwn(pinned, step.id) ? { value: pinned[step.id] } : null,
      lastRun: lastRun && Object.hasOwn(lastRun.outputs, step.id) ? { value: lastRun.outputs[step.id] } : null,
    }));
  const inputSamples: unknown[] = [];
  if (lastRun && lastRun.input !== undefined && lastRun.input !== null) inputSamples.push(lastRun.input);
  for (const step of definition.steps) if (isTriggerType(step.type) && Object.hasOwn(pinned, step.id)) inputSamples.push(pinned[step.id]);
  let previewContext: ExpressionScope["previewContext"] = null;
  if (lastRun) {
    const exposed: Record<string, { output: unknown }> = {};
    for (const step of definition.steps) {
      if (!Object.hasOwn(lastRun.outputs, step.id)) continue;
      const entry = { output: lastRun.outputs[step.id] };
      exposed[step.id] = entry;
      if (step.key && !definition.steps.some((other) => other.id === step.key)) exposed[step.key] = entry;
    }
    previewContext = { input: lastRun.input, steps: exposed };
  }
  return { steps, inputSamples, inLoop: loopOwners(definition).get(stepId) != null, previewContext };
}

export type CompletionKind = "variable" | "step" | "property" | "function";
export interface ScopeCompletion {
  label: string;
  kind: CompletionKind;
  /** Short text beside the label: a step's name, a field's type or sample value. */
  detail: string;
}

/** JSONata functions people reach for most; the full list is in JSONata's docs. */
const FUNCTIONS = ["$string", "$number", "$boolean", "$exists", "$count", "$sum", "$max", "$min", "$average", "$length", "$substring", "$uppercase", "$lowercase", "$trim", "$contains", "$split", "$join", "$replace", "$keys", "$lookup", "$map", "$filter", "$reduce", "$sort", "$distinct", "$merge", "$now", "$millis", "$round", "$not"];

const sample = (value: unknown): string => {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array (${value.length})`;
  if (typeof value === "object") return "object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};

const schemaType = (schema: JsonSchemaLike): string => {
  if (schema.type) return Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null").join(" | ") : schema.type;
  const variants = schema.anyOf ?? schema.oneOf;
  return variants ? [...new Set(variants.map(schemaType))].join(" | ") : "any";
};

/** One level down a value: an object's field, or (for an array) the field of its first item. */
function valueAt(value: unknown, field: string): unknown {
  if (Array.isArray(value)) value = value[0];
  if (value && typeof value === "object") return (value as Record<string, unknown>)[field];
  return undefined;
}

function schemaAt(schema: JsonSchemaLike | undefined, field: string): JsonSchemaLike | undefined {
  if (!schema) return undefined;
  if (schema.items && !schema.properties) schema = schema.items;
  if (schema.properties?.[field]) return schema.properties[field];
  for (const variant of schema.anyOf ?? schema.oneOf ?? []) {
    const found = schemaAt(variant, field);
    if (found) return found;
  }
  return undefined;
}

function fieldsOfValue(value: unknown, into: Map<string, string>) {
  if (Array.isArray(value)) value = value[0];
  if (!value || typeof value !== "object") return;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) if (!into.has(key)) into.set(key, sample(field));
}

function fieldsOfSchema(schema: JsonSchemaLike | undefined, into: Map<string, string>) {
  if (!schema) return;
  if (schema.items && !schema.properties) schema = schema.items;
  for (const [key, field] of Object.entries(schema.properties ?? {})) if (!into.has(key)) into.set(key, schemaType(field));
  for (const variant of schema.anyOf ?? schema.oneOf ?? []) fieldsOfSchema(variant, into);
}

/**
 * The completions after `path` (the dotted names before the caret, e.g. ["steps", "fetch_user", "output"]; []
 * at the top level). Real values first (their samples as detail), then schema fields (their types).
 */
export function completionsAt(scope: ExpressionScope, path: readonly string[]): ScopeCompletion[] {
  if (path.length === 0) {
    const top: ScopeCompletion[] = [
      { label: "input", kind: "variable", detail: "the run's input" },
      { label: "steps", kind: "variable", detail: `${scope.steps.length} earlier step${scope.steps.length === 1 ? "" : "s"}` },
    ];
    if (scope.inLoop) top.push({ label: "item", kind: "variable", detail: "the loop's current item" }, { label: "index", kind: "variable", detail: "its index" });
    return [...top, ...FUNCTIONS.map((name) => ({ label: name, kind: "function" as const, detail: "function" }))];
  }
  const [root, ...rest] = path;
  const fields = new Map<string, string>();
  if (root === "input") {
    for (let sampleValue of scope.inputSamples) {
      for (const field of rest) sampleValue = valueAt(sampleValue, field);
      fieldsOfValue(sampleValue, fields);
    }
  } else if (root === "steps") {
    if (rest.length === 0) return scope.steps.map((step) => ({ label: step.ref, kind: "step", detail: step.name ? `${step.name} · ${step.type}` : step.type }));
    const step = scope.steps.find((candidate) => candidate.ref === rest[0] || candidate.id === rest[0]);
    if (!step) return [];
    if (rest.length === 1) return [{ label: "output", kind: "property", detail: step.lastRun ? "from the last run" : step.pinned ? "pinned" : schemaType(step.schema ?? {}) }];
    if (rest[1] !== "output") return [];
    const below = rest.slice(2);
    for (const source of [step.lastRun, step.pinned]) {
      if (!source) continue;
      let value = source.value;
      for (const field of below) value = valueAt(value, field);
      fieldsOfValue(value, fields);
    }
    let schema: JsonSchemaLike | undefined = step.schema ?? undefined;
    for (const field of below) schema = schemaAt(schema, field);
    fieldsOfSchema(schema, fields);
  }
  return [...fields].map(([label, detail]) => ({ label, kind: "property", detail }));
}

/** The dotted path before the caret and the word being typed: "steps.fetch_user.out" → { path: ["steps","fetch_user"], word: "out" }. */
export function pathBeforeCaret(textBefore: string): { path: string[]; word: string; from: number } | null {
  const match = /(?:[A-Za-z_$][\w$]*\s*\.\s*)*[A-Za-z_$]?[\w$]*$/.exec(textBefore);
  if (!match) return null;
  const chain = match[0];
  // Inside a string literal or after a digit (1.5) there is nothing to complete.
  const start = textBefore.length - chain.length;
  const previous = textBefore[start - 1];
  if (previous && /[\w$.'"`]/.test(previous)) return null;
  const parts = chain.split(/\s*\.\s*/);
  const word = parts.pop() ?? "";
  return { path: parts, word, from: textBefore.length - word.length };
}

export interface PreviewResult {
  ok: boolean;
  text: string;
}

/** The preview's value as text: JSON (pretty, cut at `max` characters) or "nothing" for JSONata's undefined. */
export function formatPreview(value: unknown, max = 2000): string {
  if (value === undefined) return "(nothing: the expression matches no value)";
  if (typeof value === "function") return "(a function, not a value)";
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
