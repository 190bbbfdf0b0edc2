/**
 * R57 — the statically bounded subset of JSONata that the worker evaluates itself, without the sandbox's IPC
 * round trip (docs/run-engine.md R57, docs/security.md "Expression sandbox"). An expression qualifies when its
 * AST (jsonata's own parser) holds only: paths of field names (with filters), literals, arithmetic,
 * comparisons, `and`/`or`, `&`, `in`, conditionals, blocks, object/array constructors, the context `$`, and
 * calls of the vetted built-ins below — no regex, range (`..`), function definition, variable binding, `~>`,
 * sort, grouping, wildcard or descendant, no `$$`, no `$eval`. Everything else goes to the sandbox (R7) as
 * before, and so does any evaluation that leaves the bounds while it runs: it is abandoned and evaluated
 * again in the sandbox, which is harmless (the subset is pure).
 *
 * Why this bounds the worker's time and memory: the built-ins allowed are linear in their arguments and do
 * no work in native code that JSONata's checks cannot see (no regex, no `$pad`); the context is at most
 * SUBSET_LIMITS.contextBytes; the evaluation makes at most SUBSET_LIMITS.evaluations node evaluations (one
 * callback before each); every value it produces is checked after each node (a string at most
 * SUBSET_LIMITS.stringChars, an array at most SUBSET_LIMITS.items). So one evaluation costs at most
 * evaluations × (context bytes + string chars) of work and holds no value larger than the limits.
 */
import jsonata from "jsonata";
import type { RunContext } from "./executors/types.js";

export const SUBSET_LIMITS = {
  /** Length of the expression's text (the config schema allows 10 000; longer ones are rare and go out). */
  expressionChars: 2_000,
  /** AST nodes. */
  nodes: 200,
  /** The context's JSON size, estimated by a bounded walk (strings by length, 1 per scalar, keys + 4). */
  contextBytes: 16 * 1024,
  /** Node evaluations of one evaluation (jsonata's `evaluate` calls). */
  evaluations: 2_000,
  /** The longest string any node may produce. */
  stringChars: 16 * 1024,
  /** The longest array / sequence any node may produce. */
  items: 5_000,
} as const;

/**
 * Built-ins with a cost linear in their arguments, no callbacks, no regex and a result no larger than their
 * arguments (up to a constant). Deliberately absent: $eval, $match/$replace/$split with patterns beyond a
 * literal string, $pad (its width is unbounded), $formatNumber/$formatBase/$formatInteger (pictures),
 * $now/$millis (one shared timestamp per compiled expression), $random/$shuffle (not reproducible),
 * $sort/$distinct (super-linear), every higher-order function ($map, $filter, $reduce, $each, $sift, $single).
 */
const PURE_FUNCTIONS = new Set([
  "string", "length", "substring", "substringBefore", "substringAfter", "uppercase", "lowercase", "trim", "contains",
  "number", "abs", "floor", "ceil", "round", "sum", "max", "min", "average", "count",
  "boolean", "not", "exists", "type",
  "append", "reverse", "keys", "lookup", "merge",
  "error", "assert",
]);
/** Built-ins allowed only when the argument at this index is absent or a string literal (bounded growth). */
const LITERAL_ARGUMENT: Record<string, number> = { join: 1, split: 1 };
const BINARY_OPERATORS = new Set(["+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "and", "or", "&", "in"]);
/** Per node type, the keys it may carry (anything else — a tuple binding `#`/`@`, a group, a focus — goes out). */
const ALLOWED_KEYS: Record<string, Set<string>> = {
  path: new Set(["type", "steps", "position", "keepSingletonArray", "keepArray"]),
  name: new Set(["type", "value", "position", "stages", "keepArray"]),
  string: new Set(["type", "value", "position"]),
  number: new Set(["type", "value", "position"]),
  value: new Set(["type", "value", "position"]),
  variable: new Set(["type", "value", "position"]),
  binary: new Set(["type", "value", "position", "lhs", "rhs"]),
  unary: new Set(["type", "value", "position", "expression", "expressions", "lhs", "consarray"]),
  condition: new Set(["type", "position", "condition", "then", "else"]),
  block: new Set(["type", "position", "expressions"]),
  function: new Set(["type", "value", "position", "arguments", "procedure", "name"]),
  filter: new Set(["type", "position", "expr"]),
};

type Node = Record<string, unknown> & { type: string };

/** Why an expression is outside the subset (for tests and the bench note); null when it is inside. */
export function outsideSubset(ast: unknown): string | null {
  let nodes = 0;
  const visit = (value: unknown, where: "step" | "any" = "any"): string | null => {
    if (!value || typeof value !== "object" || Array.isArray(value)) return "not a node";
    const node = value as Node;
    if (++nodes > SUBSET_LIMITS.nodes) return `more than ${SUBSET_LIMITS.nodes} nodes`;
    const allowed = ALLOWED_KEYS[node.type];
    if (!allowed) return `a ${node.type} node`;
    for (const key of Object.keys(node)) if (!allowed.has(key)) return `${node.type} with ${key}`;
    const all = (list: unknown, as: "step" | "any" = "any") => {
      if (!Array.isArray(list)) return "not a list";
      for (const item of list) {
        const reason = visit(item, as);
        if (reason) return reason;
      }
      return null;
    };
    switch (node.type) {
      case "string":
      case "number":
      case "value":
        return null;
      case "name":
        return node.stages === undefined ? null : all(node.stages);
      case "filter":
        return visit(node.expr);
      case "variable":
        // Only `$`, the context item. `$$` (the root, reached from inside a filter) and named variables
        // (bindings, function references such as a bare `$uppercase`) go out.
        return node.value === "" ? null : `the variable $${String(node.value)}`;
      case "path": {
        const steps = node.steps as unknown[];
        if (!Array.isArray(steps) || !steps.length) return "an empty path";
        // Past the first step a path only descends by field name: each item is then visited once per
        // copy of its parent, so a step never multiplies the items it maps over.
        for (let index = 0; index < steps.length; index++) {
          const step = steps[index] as Node;
          if (index > 0 && step?.type !== "name") return `a ${String(step?.type)} step inside a path`;
          const reason = visit(step, "step");
          if (reason) return reason;
        }
        return null;
      }
      case "binary":
        if (!BINARY_OPERATORS.has(node.value as string)) return `the operator ${String(node.value)}`;
        return visit(node.lhs) ?? visit(node.rhs);
      case "unary":
        if (node.value === "-") return visit(node.expression);
        if (node.value === "[") return all(node.expressions);
        if (node.value === "{") {
          if (!Array.isArray(node.lhs)) return "an object constructor without pairs";
          for (const pair of node.lhs) {
            if (!Array.isArray(pair) || pair.length !== 2) return "an odd object constructor";
            const reason = visit(pair[0]) ?? visit(pair[1]);
            if (reason) return reason;
          }
          return null;
        }
        return `the unary ${String(node.value)}`;
      case "condition":
        return visit(node.condition) ?? visit(node.then) ?? (node.else === undefined ? null : visit(node.else));
      case "block":
        return all(node.expressions);
      case "function": {
        const procedure = node.procedure as Node | undefined;
        if (procedure?.type !== "variable" || typeof procedure.value !== "string") return "a call of something other than a built-in";
        const name = procedure.value;
        const args = node.arguments as unknown[];
        if (!Array.isArray(args)) return "a call without arguments";
        if (!PURE_FUNCTIONS.has(name)) {
          const literal = LITERAL_ARGUMENT[name];
          if (literal === undefined) return `the function $${name}`;
          const arg = args[literal] as Node | undefined;
          if (arg !== undefined && arg.type !== "string") return `$${name} with a separator that is not a string literal`;
        }
        // `?` in an argument list is a partial application (a function value): out.
        for (const arg of args) if ((arg as Node)?.type === "operator" || (arg as Node)?.value === "?") return "a partial application";
        return all(args);
      }
      default:
        return `a ${node.type} node`;
    }
  };
  return visit(ast);
}

/** A lower bound of the value's JSON size, counted until it passes `limit` (as the sandbox's `atLeast`). */
export function jsonSizeAtLeast(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length && size <= limit) {
    const item = stack.pop();
    if (typeof item === "string") size += item.length + 2;
    else if (Array.isArray(item)) {
      size += item.length + 1;
      for (let i = 0; i < item.length && size <= limit; i++) stack.push(item[i]);
    } else if (item && typeof item === "object") {
      for (const key of Object.keys(item)) {
        if (size > limit) break;
        size += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    } else size += 1;
  }
  return size;
}

/** Thrown from jsonata's per-node callbacks when an evaluation leaves the bounds: the sandbox takes it over. */
class OutOfBounds extends Error {}

const ENTRY = Symbol.for("jsonata.__evaluate_entry");
const EXIT = Symbol.for("jsonata.__evaluate_exit");
/** Per evaluation, jsonata's root frame (`environment.base`, one per `evaluate`) carries the count. */
const COUNT = Symbol("algorythmos.evaluations");

type Compiled = ReturnType<typeof jsonata>;
/** Per expression text: its compiled form when it is in the subset, or null (the sandbox evaluates it). */
const compiledCache = new Map<string, Compiled | null>();
const CACHE_SIZE = 2_000;

function compile(expression: string, limits: { timeoutMs: number; stack: number; sequence: number }): Compiled | null {
  if (compiledCache.has(expression)) {
    const hit = compiledCache.get(expression)!;
    // Refresh its place (least recently used goes first).
    compiledCache.delete(expression);
    compiledCache.set(expression, hit);
    return hit;
  }
  let compiled: Compiled | null = null;
  if (expression.length <= SUBSET_LIMITS.expressionChars) {
    try {
      // The same options as the sandbox's, so stack and sequence errors read the same.
      const candidate = jsonata(expression, { timeout: limits.timeoutMs, stack: limits.stack, sequence: limits.sequence } as never);
      if (outsideSubset(candidate.ast()) === null) {
        candidate.assign(ENTRY as never, ((_expr: unknown, _input: unknown, environment: { base: Record<symbol, number> }) => {
          const base = environment.base;
          base[COUNT] = (base[COUNT] ?? 0) + 1;
          if (base[COUNT] > SUBSET_LIMITS.evaluations) throw new OutOfBounds();
        }) as never);
        candidate.assign(EXIT as never, ((_expr: unknown, _input: unknown, _environment: unknown, result: unknown) => {
          if (typeof result === "string" ? result.length > SUBSET_LIMITS.stringChars : Array.isArray(result) && result.length > SUBSET_LIMITS.items) throw new OutOfBounds();
        }) as never);
        compiled = candidate;
      }
    } catch {
      // A syntax error (or a parser that gave up): the sandbox reports it, in its words.
    }
  }
  if (compiledCache.size >= CACHE_SIZE) compiledCache.delete(compiledCache.keys().next().value!);
  compiledCache.set(expression, compiled);
  return compiled;
}

export type SubsetOutcome = { handled: false } | { handled: true; ok: true; json: string } | { handled: true; ok: false; kind: "runtime" | "timeout" | "size"; message: string };

/**
 * Evaluates `expression` in the worker when it and the context are inside the subset's bounds. `handled:
 * false`: the sandbox must evaluate it (outside the subset, context too large, or the evaluation left the
 * bounds). Otherwise the outcome has the sandbox's shape: the result as JSON text, or a runtime error with
 * JSONata's message.
 */
export async function evaluateInWorker(expression: string, context: RunContext, limits: { timeoutMs: number; stack: number; sequence: number; outputBytes: number }): Promise<SubsetOutcome> {
  const compiled = compile(expression, limits);
  if (!compiled) return { handled: false };
  if (jsonSizeAtLeast(context, SUBSET_LIMITS.contextBytes) > SUBSET_LIMITS.contextBytes) return { handled: false };
  let value: unknown;
  try {
    value = await compiled.evaluate(context);
  } catch (error) {
    if (error instanceof OutOfBounds) return { handled: false };
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== "string") return { handled: false }; // not JSONata's own error: let the sandbox decide
    return { handled: true, ok: false, kind: code === "D1012" ? "timeout" : "runtime", message: messageOf(error) };
  }
  // No function can be produced inside the subset (no function references); the check stays for safety.
  if (typeof value === "function" || (value as { _jsonata_lambda?: unknown })?._jsonata_lambda) return { handled: false };
  if (jsonSizeAtLeast(value, limits.outputBytes) > limits.outputBytes) return { handled: true, ok: false, kind: "size", message: "" };
  let json: string;
  try {
    json = value === undefined ? "null" : (JSON.stringify(value) ?? "null");
  } catch {
    return { handled: false };
  }
  if (Buffer.byteLength(json) > limits.outputBytes) return { handled: true, ok: false, kind: "size", message: "" };
  return { handled: true, ok: true, json };
}

/** The sandbox's wording of an error (expression-sandbox.mjs `messageOf`). */
function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") return (error as { message: string }).message;
  return String(error);
}
