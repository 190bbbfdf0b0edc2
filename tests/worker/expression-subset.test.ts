/**
 * R57: the statically bounded subset of JSONata evaluated in the worker (worker/expression-subset.ts).
 * A differential test against the sandbox (R7) over a corpus of expressions and contexts; hostile
 * expressions and oversized inputs still go to the sandbox and fail there as before; the worker never
 * changes the context it evaluates against.
 */
import { beforeAll, describe, expect, it } from "vitest";
import jsonata from "jsonata";
import { EXPRESSION_LIMITS, evaluateExpression, evaluateInSandbox, expressionCounts } from "../../worker/expressions.js";
import { evaluateInWorker, outsideSubset, SUBSET_LIMITS } from "../../worker/expression-subset.js";
import type { RunContext } from "../../worker/executors/types.js";

const contexts: RunContext[] = [
  {
    input: {
      body: { n: 21, f: 2.5, s: "Hello World", empty: "", zero: 0, nil: null, t: true, tags: ["x", "y", "z"], nested: { a: { b: [1, [2, 3], { c: 4 }] } },
        items: [{ x: 1, name: "a", price: 9.99 }, { x: -2, name: "b", price: 0.01 }, { x: 3, name: "c", price: 100 }] },
      headers: { "content-type": "application/json", "x-id": "abc" },
      query: {},
    },
    steps: { shape: { output: { value: 42, list: [] } }, big: { output: { result: true, value: true } } },
  },
  { input: { body: [] }, steps: {} },
  { input: null, steps: { a: { output: "text" } } },
  { input: { body: { items: [{ x: 5 }] } }, steps: {} },
];

/** Each is evaluated against every context, in the worker (when inside the subset) and in the sandbox. */
const corpus = [
  // paths, filters, literals
  "input.body.n", "input.body.nested.a.b", "input.body.nested.a.b.c", "input.body.items[0]", "input.body.items[-1].name",
  "input.body.items[x > 0].name", "input.body.items[x > 0 and price < 50]", "input.body.items.x[]", "input.body.items[1][0].name",
  "input.body.tags[1]", "input.body.missing", "input.body.missing.deeper", "steps.shape.output.value", "steps.shape.output.list",
  "input.headers.`content-type`", "input.body.items.name", "input.body.items[name = 'b'].price", "$", "input.body.items[99]",
  `"text"`, "42", "-7.5", "true", "null", "[]", "{}", "[1, 'a', null, [2]]", "[[1,2]]", "input.body.items[[0,1]]",
  // arithmetic, comparisons, boolean ops, strings
  "input.body.n * 2", "input.body.n / 0", "input.body.n % 4", "-input.body.n", "input.body.f + input.body.n - 1",
  "input.body.n > 10", "input.body.n = 21", "input.body.s != 'x'", "input.body.n <= 21 and input.body.t", "input.body.zero or input.body.empty",
  "input.body.s & '!'", "input.body.n & input.body.t", "'x' in input.body.tags", "input.body.n in [1, 21]", "input.body.items = input.body.items",
  "input.body.s + 1", "input.body.missing + 1", "input.body.tags * 2", "input.body.s < 3", "1 / 3",
  // conditionals, blocks, constructors
  "input.body.n > 10 ? 'big' : 'small'", "input.body.missing ? 1", "input.body.missing ?: 'default'", "input.body.nil ?? 'fallback'",
  "(input.body.n; input.body.s)", `{ "value": input.body.n * 2, "name": input.body.s, "first": input.body.items[0].name }`,
  `{ "result": "big", "value": steps.shape.output.value }`, `{ input.body.s: 1 }`, `{ "a": input.body.missing }`, "[input.body.items.x, input.body.tags]",
  "steps.shape.output.value > 10", "steps.big.output.result = true",
  // vetted built-ins
  "$count(input.body.items)", "$sum(input.body.items.price)", "$max(input.body.items.x)", "$min([])", "$average(input.body.items.x)",
  "$string(input.body.items)", "$string(input.body.n)", "$string(input.body.nested, true)", "$length(input.body.s)", "$substring(input.body.s, 2, 3)",
  "$substringBefore(input.body.s, ' ')", "$substringAfter(input.body.s, ' ')", "$uppercase(input.body.s)", "$lowercase(input.body.s)", "$trim('  a  b ')",
  "$contains(input.body.s, 'World')", "$number('12.5')", "$number(input.body.s)", "$abs(-3)", "$floor(2.7)", "$ceil(2.1)", "$round(2.345, 2)",
  "$boolean(input.body.empty)", "$not(input.body.t)", "$exists(input.body.missing)", "$type(input.body.items)", "$append(input.body.tags, [1])",
  "$reverse(input.body.tags)", "$keys(input.body)", "$lookup(input.body.items, 'name')", "$merge(input.body.items)", `$join(input.body.tags, ", ")`,
  "$join(input.body.tags)", `$split(input.body.s, " ")`, `$split(input.body.s, "", 3)`, `$error("boom")`, `$assert(input.body.n = 1, "not one")`,
  "$sum(input.body.tags)", "$uppercase(input.body.n)",
];

const outcome = async (evaluate: () => Promise<unknown>) => {
  try {
    return { value: await evaluate() };
  } catch (error) {
    return { error: (error as Error).message, name: (error as Error).constructor.name };
  }
};

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
};

beforeAll(() => evaluateInSandbox("1", contexts[0]!)); // boots a sandbox

describe("R57: the bounded JSONata subset in the worker", () => {
  it("gives the sandbox's result or error for every expression of the corpus, and evaluates most of it in the worker", async () => {
    const before = { ...expressionCounts };
    const differences: string[] = [];
    for (const context of contexts) {
      for (const expression of corpus) {
        const ours = await outcome(() => evaluateExpression(expression, context));
        const sandbox = await outcome(() => evaluateInSandbox(expression, context));
        if (JSON.stringify(ours) !== JSON.stringify(sandbox)) differences.push(`${expression} on ${JSON.stringify(context).slice(0, 40)}: ${JSON.stringify(ours)} vs ${JSON.stringify(sandbox)}`);
      }
    }
    expect(differences).toEqual([]);
    // Every corpus expression is inside the subset: none of them went to the sandbox through evaluateExpression.
    const outside = corpus.filter((expression) => outsideSubset(jsonata(expression).ast()) !== null);
    expect(outside).toEqual([]);
    expect(expressionCounts.inWorker - before.inWorker).toBe(corpus.length * contexts.length);
    expect(expressionCounts.sandbox - before.sandbox).toBe(0);
  });

  it("never changes the context: a deeply frozen context evaluates the same, and stays equal to a copy", async () => {
    const copy = structuredClone(contexts[0]!);
    const frozen = deepFreeze(structuredClone(contexts[0]!));
    for (const expression of corpus) {
      const onFrozen = await outcome(() => evaluateExpression(expression, frozen));
      const onCopy = await outcome(() => evaluateExpression(expression, structuredClone(copy)));
      expect(onFrozen, expression).toEqual(onCopy);
    }
    expect(frozen).toEqual(copy);
    // The result is a copy too: changing it leaves the context alone.
    const result = (await evaluateExpression("input.body.items", contexts[0]!)) as { x: number }[];
    result[0]!.x = 999;
    expect((contexts[0]!.input as { body: { items: { x: number }[] } }).body.items[0]!.x).toBe(1);
  });

  it("sends hostile and unbounded expressions to the sandbox, where they fail cleanly as before", async () => {
    const context = contexts[0]!;
    const hostile: [string, RegExp | null][] = [
      [`$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)`, null], // ReDoS: sandbox-runaway.test.ts times it
      [`$pad("", 20000000)`, null],
      [`$split($pad("", 100000000, "a"), "")`, null],
      [`[1..10000000]`, /^Expression failed: The maximum sequence length/],
      [`$count([1..200000])`, /^Expression failed: The maximum sequence length/],
      [`( $f := function($n) { 1 + $f($n + 1) }; $f(0) )`, /^Expression failed: Stack overflow/],
      [`function($x) { $x }`, /returned a function/],
      [`$eval("1 + 1")`, null],
      [`$replace(input.body.s, /o/, "0")`, null],
      [`$map(input.body.tags, function($t) { $t })`, null],
      [`input.body ~> $keys()`, null],
      [`$$.input.body.n`, null],
      [`$uppercase`, /returned a function/],
      [`$substring(?, 1)`, /returned a function/],
      [`input.body.items^(x)`, null],
      [`input.body.items{name: x}`, null],
      [`**.x`, null],
      [`input.*`, null],
      [`input.body.items#$i[$i > 0]`, null],
      [`input.body.items.(x)`, null],
      [`$now()`, null],
      [`$random()`, null],
      [`$join(input.body.tags, input.body.s)`, null],
    ];
    for (const [expression] of hostile) {
      const outcome = await evaluateInWorker(expression, context, EXPRESSION_LIMITS);
      expect(outcome.handled, expression).toBe(false);
    }
    // The cheap ones among them, end to end: the sandbox's errors, unchanged.
    for (const [expression, error] of hostile) {
      if (error) await expect(evaluateExpression(expression, context), expression).rejects.toThrow(error);
    }
    await expect(evaluateExpression(`$pad("", 1100000, "Z")`, context)).rejects.toThrow(/^Expression failed: its result is larger than 1 MiB/);
    // A syntax error is the sandbox's to report, in its words.
    await expect(evaluateExpression(`1 +`, context)).rejects.toThrow(/^Invalid expression: /);
    expect((await evaluateInWorker(`1 +`, context, EXPRESSION_LIMITS)).handled).toBe(false);
  });

  it("leaves the bounds to the sandbox: a large context, too many evaluations, a long string or array — same results", async () => {
    const items = Array.from({ length: 700 }, (_, index) => ({ v: index, w: "y" }));
    const small: RunContext = { input: { body: { s: "x".repeat(3_000), items } }, steps: {} };
    const large: RunContext = { input: { body: { s: "x".repeat(SUBSET_LIMITS.contextBytes) } }, steps: {} };
    const cases: [string, RunContext][] = [
      ["$length(input.body.s)", large], // the context is over its bound
      ["input.body.items[[$, $, $, $, $, $, $, $, $, $].w = 'z'].v", small], // > SUBSET_LIMITS.evaluations node evaluations
      ["[$string($), $string($), $string($), $string($), $string($), $string($)]", small], // each string within the bound: stays
      ["$string($) & $string($) & $string($) & $string($) & $string($) & $string($)", small], // a string over the bound
      ["$split(input.body.s, '')", { input: { body: { s: "x".repeat(SUBSET_LIMITS.items + 1) } }, steps: {} }], // an array over the bound
    ];
    const handled = [];
    for (const [expression, context] of cases) {
      const started = performance.now();
      const inWorker = await evaluateInWorker(expression, context, EXPRESSION_LIMITS);
      const tookMs = performance.now() - started;
      handled.push(inWorker.handled);
      // Even abandoned, an evaluation stays short (the bound: SUBSET_LIMITS.evaluations node evaluations);
      // 250 ms is far above it, for a loaded CI machine.
      expect(tookMs, expression).toBeLessThan(250);
      expect(await outcome(() => evaluateExpression(expression, context)), expression).toEqual(await outcome(() => evaluateInSandbox(expression, context)));
    }
    expect(handled).toEqual([false, false, true, false, false]);
  });
});
