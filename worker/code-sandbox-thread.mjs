// A code-step sandbox thread (worker/code-sandbox.ts starts a few of them; docs/decisions/0008-code-sandbox.md).
// Plain JavaScript on purpose, like expression-sandbox.mjs: it runs on bare `node` under every runner.
// The user's code runs in QuickJS compiled to WebAssembly: it has no host objects at all (no require, process,
// fetch, timers, import), its heap is QuickJS's own inside the WebAssembly memory with a hard limit, and an
// interrupt handler stops it at its deadline. Every run gets a fresh QuickJS runtime + context, so nothing a
// run does to its globals or prototypes is seen by the next one; a run that used memory also leaves with its own
// WebAssembly instance (instanceFor).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parentPort } from "node:worker_threads";
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from "quickjs-emscripten";

/** The name stack frames of the user's code carry; frames of our own prelude carry another. */
const FILE = "code.js";
/** The user's code is a function body; the header is on its first line so line numbers are the user's. */
const HEADER = "(function (input, steps) {";
const ASYNC_HEADER = "(async function (input, steps) {";
/**
 * QuickJS's own stack limit: well inside the thread's native stack (4 MiB), so deep recursion is QuickJS's
 * "stack overflow", never the host's RangeError in the middle of WebAssembly.
 */
const STACK_BYTES = 256 * 1024;
/**
 * QuickJS counts its allocations against `setMemoryLimit`, but not all of them (a growing array's realloc escapes
 * it in this build): the WebAssembly memory itself is the wall, at the limit plus room for QuickJS's own static
 * data and stack. Past it, malloc fails inside QuickJS, which throws "out of memory".
 */
const MEMORY_HEADROOM_BYTES = 16 * 2 ** 20;
const PAGE_BYTES = 65_536;
/** The build's own initial memory (16 MiB). */
const INITIAL_PAGES = 256;

const require = createRequire(import.meta.url);
// Compiled once per thread; instantiated per run that needs a fresh instance (a few ms; instanceFor).
const wasmModule = new WebAssembly.Module(readFileSync(require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm")));

// Defined inside each fresh context before the user's code: console (bounded, through one host function the
// user's code never sees) and the result serializer, which holds JSON.stringify from before the code ran.
const PRELUDE = `(function (send, maxLine) {
  "use strict";
  const stringify = JSON.stringify;
  const StringOf = String;
  const isFiniteNumber = Number.isFinite;
  const format = (value) => {
    if (typeof value === "string") return value;
    try { const json = stringify(value); if (json !== undefined) return json; } catch {}
    return StringOf(value);
  };
  // Each argument is cut to the log's size before joining: a huge string is never copied whole.
  const cut = (text) => (text.length > maxLine ? text.slice(0, maxLine) + "… (cut)" : text);
  const line = (level) => (...args) => { send(level, cut(args.map((arg) => cut(format(arg))).join(" "))); };
  globalThis.console = Object.freeze({ log: line("log"), info: line("info"), warn: line("warn"), error: line("error"), debug: line("debug") });
  const where = (key) => (key === "" ? "as the result" : "at key " + stringify(key));
  return function serialize(value, limit) {
    if (typeof value === "string" && value.length > limit) return value; // refused by the host by its length
    return stringify(value === undefined ? null : value, (key, item) => {
      const type = typeof item;
      if (type === "function" || type === "symbol" || type === "bigint") throw new TypeError("a " + type + " " + where(key));
      if (type === "number" && !isFiniteNumber(item)) throw new TypeError(StringOf(item) + " " + where(key));
      return item;
    });
  };
})`;

/**
 * A WebAssembly instance of QuickJS whose memory cannot grow past the run's limit (+ headroom). The last one is
 * reused for the next run with the same limit while its memory never grew (a small run; the runtime and context
 * are new each time regardless); any other run gets a fresh one, so a big run's memory goes with it.
 */
let lastInstance = null;
function instanceFor(memoryBytes) {
  const last = lastInstance;
  if (last && last.memoryBytes === memoryBytes && last.wasmMemory.buffer.byteLength === INITIAL_PAGES * PAGE_BYTES && last.runs < 100) {
    last.runs++;
    return last;
  }
  lastInstance = freshInstance(memoryBytes);
  return lastInstance;
}

function freshInstance(memoryBytes) {
  const maximum = Math.max(INITIAL_PAGES, Math.ceil((memoryBytes + MEMORY_HEADROOM_BYTES) / PAGE_BYTES));
  const wasmMemory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum });
  return { memoryBytes, runs: 1, wasmMemory, grewNear: (limit) => wasmMemory.buffer.byteLength >= 0.9 * limit && wasmMemory.buffer.byteLength > INITIAL_PAGES * PAGE_BYTES, full: () => wasmMemory.buffer.byteLength + PAGE_BYTES > maximum * PAGE_BYTES, module: newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule, wasmMemory })) };
}

parentPort.on("message", async (task) => {
  let answer;
  const instance = instanceFor(task.limits.memoryBytes);
  try {
    answer = run(await instance.module, task);
    // At the wall, whatever the code threw (often nothing: QuickJS could not even allocate the error) is that.
    if (!answer.ok && answer.kind !== "time" && (instance.full() || (answer.thrownNull && instance.grewNear(task.limits.memoryBytes)))) answer = { kind: "memory", message: "out of memory", logs: answer.logs };
  } catch (error) {
    lastInstance = null;
    // QuickJS itself failed (an abort inside WebAssembly, e.g. an allocation it could not recover from at the
    // memory wall); the instance is dropped with this run anyway.
    answer = instance.full()
      ? { kind: "memory", message: "out of memory", logs: [] }
      : { kind: "internal", message: error instanceof Error ? error.message : String(error), logs: [] };
  }
  parentPort.postMessage({ id: task.id, ...answer });
});
parentPort.postMessage({ ready: true });

/**
 * One run: { code, input, steps (JSON text), limits { memoryBytes, deadline (epoch ms), logBytes, outputBytes } }.
 * Answers { ok: true, json, logs } or { kind, message, logs } where kind says which failure it was.
 */
function run(module, { code, input, steps, limits }) {
  const runtime = module.newRuntime();
  const logs = { lines: [], bytes: 0, dropped: 0 };
  const handles = [];
  const keep = (handle) => (handles.push(handle), handle);
  let context;
  let interrupted = false;
  try {
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(STACK_BYTES);
    runtime.setInterruptHandler(() => (interrupted = Date.now() > limits.deadline));
    context = runtime.newContext();
    const vm = context;

    const send = keep(vm.newFunction("send", (levelHandle, textHandle) => {
      if (vm.typeof(textHandle) !== "string") return;
      // Read the length first: a 50 MB line is never copied out of the sandbox.
      const lengthHandle = vm.getProp(textHandle, "length");
      const length = vm.getNumber(lengthHandle);
      lengthHandle.dispose();
      if (logs.bytes + length > limits.logBytes) {
        logs.dropped++;
        return;
      }
      const text = vm.getString(textHandle);
      logs.bytes += text.length;
      logs.lines.push({ level: vm.getString(levelHandle), message: text });
    }));
    const prelude = keep(vm.unwrapResult(vm.evalCode(PRELUDE, "sandbox.js")));
    const serialize = keep(vm.unwrapResult(vm.callFunction(prelude, vm.undefined, send, keep(vm.newNumber(limits.logBytes)))));
    const parse = (json) => {
      const jsonObject = keep(vm.getProp(vm.global, "JSON"));
      return keep(vm.unwrapResult(vm.callFunction(keep(vm.getProp(jsonObject, "parse")), jsonObject, keep(vm.newString(json)))));
    };
    const inputHandle = parse(input);
    const stepsHandle = parse(steps);

    // A plain function when the body has no top-level await (it compiles so); else an async one. (Plain first:
    // an async function that runs out of memory can lose its error.)
    let compiled = vm.evalCode(`${HEADER}${code}\n})`, FILE);
    if (compiled.error) {
      compiled.error.dispose();
      compiled = vm.evalCode(`${ASYNC_HEADER}${code}\n})`, FILE);
      if (compiled.error) return failure(vm, keep(compiled.error), "syntax", logs, interrupted, ASYNC_HEADER);
    }
    const fn = keep(compiled.value);
    // Only a body that closes the wrapper early (e.g. "}), (") makes this anything else.
    if (vm.typeof(fn) !== "function") return { kind: "syntax", message: "the code must be a function body", frames: [], logs: finalLogs(logs) };
    const called = vm.callFunction(fn, vm.undefined, inputHandle, stepsHandle);
    if (called.error) return failure(vm, keep(called.error), "thrown", logs, interrupted);
    const promise = keep(called.value);
    // Promise jobs run until the async function settles; the interrupt handler bounds them as well.
    const jobs = runtime.executePendingJobs();
    if (jobs.error) return failure(vm, keep(jobs.error), "thrown", logs, interrupted);
    const state = vm.getPromiseState(promise);
    if (state.type === "pending") {
      return { kind: "pending", message: "Code returned a promise that never settles (the sandbox has no timers or I/O to wait for)", logs: finalLogs(logs) };
    }
    if (state.type === "rejected") return failure(vm, keep(state.error), "thrown", logs, interrupted);
    const value = keep(state.value);
    const serialized = vm.callFunction(serialize, vm.undefined, value, keep(vm.newNumber(limits.outputBytes)));
    if (serialized.error) return failure(vm, keep(serialized.error), "result", logs, interrupted);
    const text = keep(serialized.value);
    const length = vm.getNumber(keep(vm.getProp(text, "length")));
    if (length > limits.outputBytes) return { kind: "size", message: String(length), logs: finalLogs(logs) };
    return { ok: true, json: vm.getString(text), logs: finalLogs(logs) };
  } finally {
    try {
      for (const handle of handles.reverse()) if (handle.alive) handle.dispose();
      context?.dispose();
      runtime.dispose();
    } catch {
      // QuickJS leaks objects on some out-of-memory paths and then aborts when its runtime is freed: the run's
      // answer stands, the instance is not used again.
      lastInstance = null;
    }
  }
}

function finalLogs(logs) {
  return logs.dropped ? [...logs.lines, { level: "warn", message: `… ${logs.dropped} more console line(s) dropped: the log is limited` }] : logs.lines;
}

/** Classifies an error the code threw (or QuickJS threw for it) and keeps only stack frames of the user's code. */
function failure(vm, errorHandle, kind, logs, interrupted, header = HEADER) {
  const error = vm.dump(errorHandle);
  // QuickJS throws null when it could not even allocate the "out of memory" error.
  if (error === null && kind === "thrown") return { kind, name: "", message: "null", frames: [], logs: finalLogs(logs), thrownNull: true };
  const isObject = error && typeof error === "object";
  const name = isObject && typeof error.name === "string" ? error.name : "";
  const message = isObject && typeof error.message === "string" ? error.message : String(error);
  if (name === "InternalError" && message === "interrupted" && interrupted) return { kind: "time", message, logs: finalLogs(logs) };
  if (name === "InternalError" && message === "out of memory") return { kind: "memory", message, logs: finalLogs(logs) };
  if (name === "InternalError" && message === "stack overflow") return { kind: "stack", message, logs: finalLogs(logs) };
  const stack = isObject && typeof error.stack === "string" ? error.stack : "";
  const frames = stack
    .split("\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame.includes(`(${FILE}:`) || frame.startsWith(`at ${FILE}:`))
    // Columns of the first line count from the start of the user's code, not of the wrapper's header.
    .map((frame) => frame.replace(new RegExp(`${FILE}:1:(\\d+)`), (_, column) => `${FILE}:1:${Math.max(1, Number(column) - header.length)}`))
    .filter((frame) => !frame.startsWith("at <eval>"))
    .slice(0, 10);
  return { kind, name, message, frames, logs: finalLogs(logs) };
}
