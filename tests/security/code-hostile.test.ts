/**
 * Hostile code in a `code` step (issue #16, R45 R46): every case goes the real worker path — a run on BullMQ,
 * taken by a worker in a process of its own (tests/worker/worker-process.ts), executed by the code executor in
 * the QuickJS sandbox — and fails the step cleanly (or, for prototype tricks, stays inside its own run), and the
 * worker process stays healthy: alive, its memory bounded, the next run works, other runs go on meanwhile.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCode } from "../../worker/code-sandbox.js";
import { startHarness, workflow, type FinishedRun, type Harness } from "../worker/harness.js";
import { workerProcesses } from "../worker/worker-processes.js";

let h: Harness;
let worker: ChildProcess;

const workers = workerProcesses();

/** Resident memory of the worker process (MiB), from /proc. */
function workerRssMiB(): number {
  const status = readFileSync(`/proc/${worker.pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

beforeAll(async () => {
  h = await startHarness({}, { worker: false });
  worker = await workers.spawn(h);
});
afterAll(async () => {
  await workers.killAll();
  await h?.close();
});

const codeRun = (code: string, extra: Record<string, unknown> = {}, input: unknown = {}) =>
  h.run(workflow([["code", "code", { code, ...extra }]], [["start", "code"]]), input);
const codeRow = (run: FinishedRun) => run.steps.filter((step) => step.stepId === "code");

/** The worker is alive and answers the next run correctly. */
async function expectHealthy() {
  expect(worker.exitCode).toBeNull();
  expect(worker.signalCode).toBeNull();
  const run = await codeRun(`return input.n + 1`, {}, { n: 41 });
  expect(run.status).toBe("succeeded");
  expect(codeRow(run)[0]!.output).toEqual({ result: 42, logs: [] });
}

/** Runs hostile code and expects the step to have failed once, with `error`. */
async function expectCleanFailure(code: string, error: string | RegExp, extra: Record<string, unknown> = {}) {
  const run = await codeRun(code, extra);
  expect(run.status, code).toBe("failed");
  const rows = codeRow(run);
  expect(rows, "failed once, not retried").toHaveLength(1);
  expect(rows[0]!.status).toBe("failed");
  if (typeof error === "string") expect(rows[0]!.error).toBe(error);
  else expect(rows[0]!.error).toMatch(error);
  expect(rows[0]!.error).not.toMatch(/node_modules|worker\/|quickjs\.c|wasm-function/); // no host stack
  await expectHealthy();
}

describe("hostile code fails the step cleanly; the worker process stays healthy", () => {
  it("R45: an infinite loop (also one that catches everything, and a busy wait on the clock) stops at the time limit", async () => {
    await expectCleanFailure(`while (true) {}`, "Code exceeded its time limit (1000 ms)", { timeoutMs: 1_000 });
    await expectCleanFailure(`for (;;) { try { while (true) {} } catch (e) {} }`, "Code exceeded its time limit (1000 ms)", { timeoutMs: 1_000 });
    await expectCleanFailure(`const end = Date.now() + 1e9; while (Date.now() < end) {}`, "Code exceeded its time limit (1000 ms)", { timeoutMs: 1_000 });
  });

  it("R45: a catastrophic regular expression stops at the time limit", async () => {
    await expectCleanFailure(`return /(a+)+$/.test("a".repeat(40) + "!")`, "Code exceeded its time limit (1000 ms)", { timeoutMs: 1_000 });
  });

  it("R45: while one run's code loops, the worker runs other runs (its event loop is free)", async () => {
    const loopId = await h.createRun(workflow([["code", "code", { code: `while (true) {}`, timeoutMs: 8_000 }]], [["start", "code"]]));
    await h.enqueue(loopId);
    await h.until("the loop run to start", async () => (await h.db.run.findUniqueOrThrow({ where: { id: loopId }, select: { status: true } })).status === "running");
    const started = Date.now();
    const quick = await h.run(workflow([["shape", "transform", { expression: "input.n * 2" }], ["code", "code", { code: "return steps.shape.output + 1" }]], [["start", "shape"], ["shape", "code"]]), { n: 4 });
    const quickMs = Date.now() - started;
    expect(quick.status).toBe("succeeded");
    expect(codeRow(quick)[0]!.output).toEqual({ result: 9, logs: [] });
    expect((await h.db.run.findUniqueOrThrow({ where: { id: loopId }, select: { status: true } })).status, "the loop is still running").toBe("running");
    expect(quickMs, "well before the loop's 8 s limit").toBeLessThan(6_000);
    const loop = await h.waitForFinal(loopId);
    expect(codeRow(loop)[0]!.error).toBe("Code exceeded its time limit (8000 ms)");
    console.log(`[code-hostile] a run next to a looping code step finished in ${quickMs} ms`);
  });

  it("R45: huge allocations stop at the memory limit and the process's memory stays bounded", async () => {
    const before = workerRssMiB();
    await expectCleanFailure(`const rows = []; while (true) rows.push(new Array(100000).fill(1.5));`, "Code exceeded its memory limit (64 MiB)", { timeoutMs: 20_000 });
    await expectCleanFailure(`return "x".repeat(2 ** 28).length`, "Code exceeded its memory limit (64 MiB)");
    await expectCleanFailure(`const s = "x".repeat(1 << 20); const parts = []; while (true) parts.push(s + parts.length);`, "Code exceeded its memory limit (64 MiB)", { timeoutMs: 20_000 });
    await expectCleanFailure(`const big = []; for (let i = 0; ; i++) big.push({ i, name: "row " + i });`, /^Code exceeded its (memory limit \(64 MiB\)|time limit)/, { timeoutMs: 20_000 });
    const after = workerRssMiB();
    console.log(`[code-hostile] worker RSS ${before.toFixed(0)} MiB before the memory bombs, ${after.toFixed(0)} MiB after`);
    // Each sandbox's memory has a hard maximum (limit + 16 MiB) and is released with its run.
    expect(after - before).toBeLessThan(300);
  });

  it("R45: deep recursion stops at the stack limit", async () => {
    await expectCleanFailure(`function down(n) { return down(n + 1) + 1 }\nreturn down(0)`, "Code exceeded its stack limit (recursion too deep)");
    await expectCleanFailure(`const deep = (n) => [deep(n + 1)]; return deep(0)`, "Code exceeded its stack limit (recursion too deep)");
  });

  it("R46: prototype pollution stays inside its own run: not in the next run, not in the host", async () => {
    const polluted = await codeRun(`Object.prototype.polluted = "yes";\nArray.prototype.push = () => 0;\nJSON.stringify = () => "hacked";\nglobalThis.leftover = 1;\nreturn { seen: ({}).polluted }`);
    expect(polluted.status).toBe("succeeded");
    // The result serializer was taken before the code ran: the replaced JSON.stringify changes nothing.
    expect(codeRow(polluted)[0]!.output).toEqual({ result: { seen: "yes" }, logs: [] });
    const next = await codeRun(`return [({}).polluted ?? null, [1].push(2), JSON.stringify({ a: 1 }), typeof leftover]`);
    expect(codeRow(next)[0]!.output).toEqual({ result: [null, 2, `{"a":1}`, "undefined"], logs: [] });
    // The host side of the sandbox (here: this process) is untouched as well.
    await runCode(`Object.prototype.hostLeak = 1; Array.prototype.hostLeak = 1; return 1`, { input: {}, steps: {} }, { timeoutMs: 5_000, memoryLimitMb: 64 });
    expect(({} as Record<string, unknown>).hostLeak).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).hostLeak).toBeUndefined();
    // Nor can the input be used to reach the host: it arrives as JSON text, parsed inside the sandbox.
    const proto = await codeRun(`return [Object.getPrototypeOf(input) === Object.prototype, typeof input.constructor.constructor("return process")]`, {}, JSON.parse(`{"__proto__": {"x": 1}}`));
    expect(codeRow(proto)[0]!.output).toEqual({ result: [true, "function"], logs: [] });
    await expectHealthy();
  });

  it("R46: constructor.constructor, require, import() and eval reach nothing of the host", async () => {
    await expectCleanFailure(`return (function () {}).constructor.constructor("return process")()`, /^Code threw ReferenceError: 'process' is not defined/);
    await expectCleanFailure(`return this.constructor.constructor("return require")()("fs")`, /^Code threw ReferenceError: 'require' is not defined/);
    await expectCleanFailure(`return require("child_process")`, /^Code threw ReferenceError: 'require' is not defined/);
    await expectCleanFailure(`const fs = await import("fs"); return fs.readFileSync("/etc/passwd", "utf8")`, /^Code threw ReferenceError: could not load module 'fs'/);
    await expectCleanFailure(`return await import("node:child_process")`, /^Code threw ReferenceError: could not load module 'node:child_process'/);
    await expectCleanFailure(`return eval("typeof process === 'undefined' ? fetch('http://127.0.0.1/') : process.env")`, /^Code threw ReferenceError: 'fetch' is not defined/);
    await expectCleanFailure(`setTimeout(() => {}, 10)`, /^Code threw ReferenceError: 'setTimeout' is not defined/);
  });

  it("R46: probing globalThis finds only the language's built-ins and console", async () => {
    const run = await codeRun(`const global = (0, eval)("this");\nreturn { names: Object.getOwnPropertyNames(globalThis).sort(), same: global === globalThis, console: Object.keys(console).sort() }`);
    expect(run.status).toBe("succeeded");
    const { names, same, console: consoleKeys } = (codeRow(run)[0]!.output as { result: { names: string[]; same: boolean; console: string[] } }).result;
    expect(same).toBe(true);
    expect(consoleKeys).toEqual(["debug", "error", "info", "log", "warn"]);
    const host = ["require", "process", "module", "exports", "Buffer", "global", "fetch", "XMLHttpRequest", "WebSocket", "setTimeout", "setInterval", "setImmediate", "std", "os", "__dirname", "__filename", "Deno", "Bun", "send", "scriptArgs", "print"];
    expect(names.filter((name) => host.includes(name))).toEqual([]);
    // Everything else is an ECMAScript built-in (or console).
    const language = /^(Object|Function|Array|Number|Boolean|String|Symbol|BigInt|Math|JSON|Reflect|Proxy|Promise|Date|RegExp|Map|Set|WeakMap|WeakSet|WeakRef|FinalizationRegistry|ArrayBuffer|SharedArrayBuffer|DataView|Atomics|Iterator|globalThis|console|eval|parseInt|parseFloat|isNaN|isFinite|decodeURI|decodeURIComponent|encodeURI|encodeURIComponent|escape|unescape|Infinity|NaN|undefined|\w*Error|\w*Array|Generator\w*|Async\w*|Performance|performance|queueMicrotask|structuredClone|navigator)$/;
    expect(names.filter((name) => !language.test(name))).toEqual([]);
  });

  it("R44: a cyclic result and a 50 MB string result fail clearly", async () => {
    await expectCleanFailure(`const node = { name: "a" }; node.next = { back: node }; return node`, "Code returned a value that is not JSON: circular reference");
    await expectCleanFailure(`return "z".repeat(50 * 1024 * 1024)`, /^Code (returned a result larger than 1 MiB as JSON \(52428800 characters\)|exceeded its memory limit)/);
    await expectCleanFailure(`console.log("z".repeat(50 * 1024 * 1024)); return { ok: true, fn: function () {} }`, `Code returned a value that is not JSON: a function at key "fn"`);
  });

  it("the worker process is alive and serving at the end", async () => {
    await expectHealthy();
    console.log(`[code-hostile] worker RSS at the end ${workerRssMiB().toFixed(0)} MiB`);
  });
});
