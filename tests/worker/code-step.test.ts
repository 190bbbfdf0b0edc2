/**
 * The `code` step (issue #16, R44–R46): JavaScript in the QuickJS sandbox, through the real worker (PostgreSQL,
 * Redis, BullMQ) — results, logs, limits and errors as the ledger records them — and the sandbox's answers
 * directly (worker/code-sandbox.ts) for what the domain's edit-time check keeps out of a run.
 */
import { parseStepConfig, validateDefinition, type WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCode } from "../../worker/code-sandbox.js";
import { StepError } from "../../worker/errors.js";
import { startHarness, workflow, type FinishedRun, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const codeStep = (code: string, extra: Record<string, unknown> = {}) => workflow([["code", "code", { code, ...extra }]], [["start", "code"]]);
const stepRow = (run: FinishedRun, stepId = "code") => run.steps.filter((step) => step.stepId === stepId);
const context = { input: { n: 3 }, steps: {} };
const limits = { timeoutMs: 5_000, memoryLimitMb: 64 };

describe("R44: a code step runs a function body over input and earlier steps and returns JSON", () => {
  it("R44: the output is { result, logs }; a later step reads the result; console lines are captured", async () => {
    const definition = workflow(
      [
        ["double", "transform", { expression: "input.items.(price * 2)" }],
        ["code", "code", { code: `console.log("items", input.items.length, { first: input.items[0] });\nconsole.warn("careful");\nconst total = steps.double.output.reduce((sum, x) => sum + x, 0);\nreturn { total, names: input.items.map((item) => item.name.toUpperCase()) };` }],
        ["after", "transform", { expression: "steps.code.output.result.total + 1" }],
      ],
      [["start", "double"], ["double", "code"], ["code", "after"]],
    );
    const run = await h.run(definition, { items: [{ name: "ada", price: 2 }, { name: "bo", price: 5 }] });
    expect(run.status).toBe("succeeded");
    expect(stepRow(run)[0]!.output).toEqual({
      result: { total: 14, names: ["ADA", "BO"] },
      logs: [
        { level: "log", message: `items 2 {"first":{"name":"ada","price":2}}` },
        { level: "warn", message: "careful" },
      ],
    });
    expect(stepRow(run, "after")[0]!.output).toBe(15);
  });

  it("R44: await works (promises settle inside the sandbox); no return is null", async () => {
    const run = await h.run(codeStep(`const values = await Promise.all([1, 2, 3].map(async (x) => x * input.n));\nreturn values;`), { n: 10 });
    expect(run.status).toBe("succeeded");
    expect(stepRow(run)[0]!.output).toEqual({ result: [10, 20, 30], logs: [] });
    await expect(runCode(`let x = 1;`, context, limits)).resolves.toMatchObject({ value: null });
    // ES2023 built-ins are there.
    await expect(runCode(`return [[3, 1, 2].toSorted(), [1, 2, 3].findLast((x) => x < 3), [1, 2].at(-1), Object.hasOwn({ a: 1 }, "a")]`, context, limits)).resolves.toMatchObject({ value: [[1, 2, 3], 2, 2, true] });
  });

  it("R44: a syntax error is a validation problem at edit time, with line:column", () => {
    expect(() => parseStepConfig("code", { code: "const a = 1;\nconst b = = 2;" })).toThrow(/Syntax error at 2:11: Unexpected token/);
    expect(() => parseStepConfig("code", { code: "   " })).toThrow(/Code is required/);
    expect(parseStepConfig("code", { code: "return await input.x" })).toEqual({ code: "return await input.x", timeoutMs: 5_000, memoryLimitMb: 64 });
    expect(() => parseStepConfig("code", { code: "return 1", timeoutMs: 60_000 })).toThrow();
    expect(() => parseStepConfig("code", { code: "return 1", memoryLimitMb: 512 })).toThrow();
    const definition = codeStep("return (1 +;") as unknown as WorkflowDefinition;
    const problems = validateDefinition({ ...definition, settings: {} } as WorkflowDefinition);
    expect(problems.map((problem) => problem.message).join("\n")).toMatch(/Syntax error at 1:12/);
  });

  it("R44: the sandbox parses again at run time: a syntax error fails the step with line:column", async () => {
    await expect(runCode(`let x = 1;\n  x = = 2;`, context, limits)).rejects.toThrow(/^Code has a syntax error at 2:7: unexpected token/);
    // A body that closes the sandbox's function wrapper early is no function body: refused at edit time. (At
    // run time it could only run more code in the same sandbox, under the same limits.)
    expect(() => parseStepConfig("code", { code: "}), (function () {" })).toThrow(/Syntax error at 1:1/);
  });

  it("R44: a value that is not JSON fails the step clearly", async () => {
    const cases: [string, RegExp][] = [
      [`return { handler() {} }`, /not JSON: a function at key "handler"/],
      [`return [1, Symbol("s")]`, /not JSON: a symbol at key "1"/],
      [`return { big: 10n }`, /not JSON: a bigint at key "big"/],
      [`return { ratio: 0 / 0 }`, /not JSON: NaN at key "ratio"/],
      [`return () => 1`, /not JSON: a function as the result/],
      [`const a = { name: "loop" }; a.self = a; return a`, /not JSON: circular reference/],
    ];
    for (const [code, message] of cases) await expect(runCode(code, context, limits), code).rejects.toThrow(message);
    const run = await h.run(codeStep(`const a = []; a.push(a); return a`));
    expect(run.status).toBe("failed");
    expect(stepRow(run)[0]).toMatchObject({ status: "failed", error: "Code returned a value that is not JSON: circular reference" });
  });
});

describe("R45: limits per run — time, memory, stack, result and log size", () => {
  it("R45: an endless loop fails with the time limit, once (not retried), within the step's timeout", async () => {
    const started = Date.now();
    const run = await h.run(codeStep(`let i = 0; while (true) { i++ }`, { timeoutMs: 1_000 }));
    expect(run.status).toBe("failed");
    expect(stepRow(run)).toHaveLength(1);
    expect(stepRow(run)[0]).toMatchObject({ status: "failed", error: "Code exceeded its time limit (1000 ms)" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("R45: the memory limit is the step's memoryLimitMb (default 64 MiB), enforced even where QuickJS's own accounting misses", async () => {
    // Growing arrays: QuickJS's realloc accounting misses them; the WebAssembly memory's maximum does not.
    const arrays = `const rows = []; while (true) rows.push(new Array(100000).fill(1.5));`;
    const run = await h.run(codeStep(arrays, { timeoutMs: 20_000 }));
    expect(stepRow(run)[0]).toMatchObject({ status: "failed", error: "Code exceeded its memory limit (64 MiB)" });
    // 100 arrays of 100,000 numbers (~80 MB): too much for 64 MiB, fine with 256.
    const hundred = `const rows = []; for (let i = 0; i < 100; i++) rows.push(new Array(100000).fill(i)); return rows.length`;
    await expect(runCode(hundred, context, { timeoutMs: 20_000, memoryLimitMb: 64 })).rejects.toThrow("Code exceeded its memory limit (64 MiB)");
    await expect(runCode(hundred, context, { timeoutMs: 20_000, memoryLimitMb: 256 })).resolves.toMatchObject({ value: 100 });
    await expect(runCode(`return "x".repeat(2 ** 27).length`, context, limits)).rejects.toThrow("Code exceeded its memory limit (64 MiB)");
  });

  it("R45: deep recursion fails with the stack limit", async () => {
    await expect(runCode(`function down(n) { return down(n + 1) + 1 }\nreturn down(0)`, context, limits)).rejects.toThrow("Code exceeded its stack limit (recursion too deep)");
  });

  it("R45: a result over 1 MiB of JSON is refused; console output is bounded and says what it dropped", async () => {
    await expect(runCode(`return "y".repeat(1024 * 1024 + 1)`, context, limits)).rejects.toThrow(/^Code returned a result larger than 1 MiB as JSON/);
    await expect(runCode(`return Array.from({ length: 200000 }, (_, i) => i)`, context, limits)).rejects.toThrow(/larger than 1 MiB/);
    const logged = await runCode(`for (let i = 0; i < 20000; i++) console.log("line " + i); console.log("z".repeat(5_000_000)); return 1`, context, limits);
    expect(logged.value).toBe(1);
    const chars = logged.logs.reduce((sum, line) => sum + line.message.length, 0);
    expect(chars).toBeLessThan(70 * 1024);
    expect(logged.logs[0]).toEqual({ level: "log", message: "line 0" });
    expect(logged.logs.at(-1)).toMatchObject({ level: "warn", message: expect.stringMatching(/more console line\(s\) dropped/) });
  });
});

describe("R46: errors name the user's code only; failures are final; cancel stops the code", () => {
  it("R46: a thrown error gives its message and the stack frames inside the user's code; the logs so far are the failed attempt's output", async () => {
    const run = await h.run(codeStep(`console.log("before");\nfunction check(order) {\n  if (!order.id) throw new TypeError("order has no id");\n}\ncheck(input);`));
    expect(run.status).toBe("failed");
    const [row] = stepRow(run);
    expect(stepRow(run)).toHaveLength(1);
    expect(row!.error).toBe("Code threw TypeError: order has no id\n    at check (code.js:3:37)\n    at <anonymous> (code.js:5:6)");
    expect(row!.output).toEqual({ logs: [{ level: "log", message: "before" }] });
    const error = await runCode(`throw "plain"`, context, limits).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).retryable).toBe(false);
    expect((error as StepError).message).toBe("Code threw plain");
    await expect(runCode(`await Promise.reject(new RangeError("late"))`, context, limits)).rejects.toThrow(/^Code threw RangeError: late\n    at <anonymous> \(code\.js:1:/);
    await expect(runCode(`await new Promise(() => {})`, context, limits)).rejects.toThrow(/never settles/);
  });

  it("R46: canceling a run stops its running code at once", async () => {
    const runId = await h.createRun(codeStep(`while (true) {}`, { timeoutMs: 30_000 }));
    await h.enqueue(runId);
    await h.until("the run to start", async () => (await h.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status === "running");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const canceledAt = Date.now();
    await h.cancel(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(Date.now() - canceledAt).toBeLessThan(5_000);
    // The sandbox pool goes on.
    await expect(runCode(`return input.n * 2`, context, limits)).resolves.toMatchObject({ value: 6 });
  });

  it("R46 R10: a worker that shuts down mid-code stops the code (its thread is terminated) and the next delivery runs it again", async () => {
    const own = await startHarness({}, { worker: false });
    try {
      const first = await own.startWorker(300);
      // Busy for 3 s, then done.
      const runId = await own.createRun(codeStep(`const end = Date.now() + 3000;\nwhile (Date.now() < end) {}\nreturn "done";`, { timeoutMs: 10_000 }));
      await own.enqueue(runId);
      await own.until("the run to start", async () => (await own.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status === "running");
      await new Promise((resolve) => setTimeout(resolve, 300));
      const closing = Date.now();
      await first.close();
      expect(Date.now() - closing, "closed after its drain time, not after the code's 3 s").toBeLessThan(2_000);
      // The code itself stopped (its thread was terminated), not only the engine's wait for it: this process (whose
      // pool ran it) is all but idle for the next second, where the busy loop would burn most of it.
      const cpu = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const used = process.cpuUsage(cpu);
      const usedMs = (used.user + used.system) / 1000;
      expect(usedMs).toBeLessThan(400);
      expect((await own.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status).toBe("running");
      await own.startWorker();
      const run = await own.waitForFinal(runId);
      expect(run.status).toBe("succeeded");
      expect(stepRow(run).at(-1)).toMatchObject({ status: "succeeded", output: { result: "done", logs: [] } });
    } finally {
      await own.close();
    }
  });
});
