/**
 * `npm run bench sandbox` (or `npx tsx bench/sandbox.ts` on its own): the two sandboxes the `code` step could
 * run on (issue #16, docs/decisions/0008-code-sandbox.md), measured in one process, one after the other:
 * - QuickJS compiled to WebAssembly (quickjs-emscripten 0.32, release-sync build), the one we use;
 * - isolated-vm 5 (V8 isolates, a native addon), measured for the decision only (an optional dependency: a machine without a C++ toolchain skips it).
 * Figures: cold start (a fresh instance + context — for QuickJS both a fresh WebAssembly instance and a runtime
 * on an already instantiated module, which is what the step does), the cost of one call of a small function
 * with its JSON input copied in and its JSON result copied out, and memory per instance (resident memory grown
 * by holding 50 live instances, divided by 50). The ratio column is QuickJS / isolated-vm.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSWASMModule } from "quickjs-emscripten";
import { latency, median, round } from "./lib/stats.js";
import { row, type Row, type Scenario, type ScenarioResult } from "./lib/types.js";

const NAME = "sandbox";
const COLD_SAMPLES = 40;
const CALL_SAMPLES = 2_000;
const HELD_INSTANCES = 50;
const MEMORY_LIMIT_BYTES = 64 * 2 ** 20;
const SMALL_FUNCTION = `(function (input) { return { total: input.items.reduce((sum, item) => sum + item.price * item.quantity, 0), count: input.items.length }; })`;
/** A CPU-bound body: an interpreter (QuickJS) against a JIT (V8), the other side of the choice. */
const HEAVY = `(function () { let sum = 0; for (let i = 0; i < 1000000; i++) sum = (sum + i * i) % 1000003; return sum; })()`;
const HEAVY_SAMPLES = 10;
const INPUT = { items: Array.from({ length: 10 }, (_, index) => ({ price: index + 0.5, quantity: index % 3 })) };

type Ivm = typeof import("isolated-vm");

function time(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

async function quickjsFigures() {
  // The compiled WebAssembly.Module is shared, as the step's sandbox threads do: "cold" is an instantiation.
  const wasmModule = await WebAssembly.compile(await import("node:fs").then((fs) => fs.readFileSync(createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm"))));
  const variant = newVariant(RELEASE_SYNC, { wasmModule });
  const newModule = () => newQuickJSWASMModuleFromVariant(variant);
  const instantiate: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    const started = performance.now();
    const module = await newModule();
    const runtime = module.newRuntime();
    const context = runtime.newContext();
    instantiate.push(performance.now() - started);
    context.dispose();
    runtime.dispose();
  }
  const module = await newModule();
  const runtimeCold: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    runtimeCold.push(time(() => {
      const runtime = module.newRuntime();
      runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
      const context = runtime.newContext();
      context.dispose();
      runtime.dispose();
    }));
  }
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(MEMORY_LIMIT_BYTES);
  const context = runtime.newContext();
  const fn = context.unwrapResult(context.evalCode(SMALL_FUNCTION));
  const jsonObject = context.getProp(context.global, "JSON");
  const parse = context.getProp(jsonObject, "parse");
  const stringify = context.getProp(jsonObject, "stringify");
  const call = () => {
    const json = context.newString(JSON.stringify(INPUT));
    const parsed = context.unwrapResult(context.callFunction(parse, jsonObject, json));
    const result = context.unwrapResult(context.callFunction(fn, context.undefined, parsed));
    const text = context.unwrapResult(context.callFunction(stringify, jsonObject, result));
    const value = JSON.parse(context.getString(text));
    for (const handle of [json, parsed, result, text]) handle.dispose();
    return value;
  };
  const expected = call();
  const calls: number[] = [];
  for (let i = 0; i < CALL_SAMPLES; i++) calls.push(time(call));
  if (JSON.stringify(call()) !== JSON.stringify(expected) || expected.count !== 10) throw new Error("QuickJS answered a wrong result");
  const heavy: number[] = [];
  for (let i = 0; i < HEAVY_SAMPLES; i++) heavy.push(time(() => context.evalCode(HEAVY).dispose()));
  for (const handle of [fn, parse, stringify, jsonObject]) handle.dispose();
  context.dispose();
  runtime.dispose();
  const perInstance = await heldMemory(async () => {
    const held: { dispose(): void }[] = [];
    const modules: QuickJSWASMModule[] = [];
    for (let i = 0; i < HELD_INSTANCES; i++) {
      // One WebAssembly instance each: the strongest isolation (own linear memory), and the heaviest.
      const own = await newModule();
      modules.push(own);
      const r = own.newRuntime();
      const c = r.newContext();
      c.evalCode(SMALL_FUNCTION).dispose();
      held.push(r, c); // released in reverse: each context before its runtime
    }
    return () => held.reverse().forEach((item) => item.dispose());
  });
  const perRuntime = await heldMemory(async () => {
    const held: { dispose(): void }[] = [];
    for (let i = 0; i < HELD_INSTANCES; i++) {
      const r = module.newRuntime();
      const c = r.newContext();
      c.evalCode(SMALL_FUNCTION).dispose();
      held.push(r, c); // released in reverse: each context before its runtime
    }
    return () => held.reverse().forEach((item) => item.dispose());
  });
  return { instantiate, runtimeCold, calls, heavy, perInstance, perRuntime };
}

async function isolatedVmFigures(ivm: Ivm) {
  const cold: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    const started = performance.now();
    const isolate = new ivm.Isolate({ memoryLimit: MEMORY_LIMIT_BYTES / 2 ** 20 });
    const context = isolate.createContextSync();
    cold.push(performance.now() - started);
    context.release();
    isolate.dispose();
  }
  const isolate = new ivm.Isolate({ memoryLimit: MEMORY_LIMIT_BYTES / 2 ** 20 });
  const context = isolate.createContextSync();
  const fn = context.evalSync(SMALL_FUNCTION, { reference: true }) as import("isolated-vm").Reference<(input: unknown) => unknown>;
  // The same boundary as QuickJS: JSON in, JSON out (ExternalCopy would be the alternative; it is not faster here).
  const wrapped = context.evalSync(`(function (f) { return function (json) { return JSON.stringify(f(JSON.parse(json))); }; })`, { reference: true }) as import("isolated-vm").Reference<(f: unknown) => unknown>;
  const jsonFn = wrapped.applySync(undefined, [fn.derefInto()], { result: { reference: true } }) as unknown as import("isolated-vm").Reference<(json: string) => string>;
  const jsonCall = () => JSON.parse(jsonFn.applySync(undefined, [JSON.stringify(INPUT)], { result: { copy: true } }) as string);
  const expected = jsonCall();
  if (expected.count !== 10) throw new Error("isolated-vm answered a wrong result");
  const calls: number[] = [];
  for (let i = 0; i < CALL_SAMPLES; i++) calls.push(time(jsonCall));
  const heavy: number[] = [];
  for (let i = 0; i < HEAVY_SAMPLES; i++) heavy.push(time(() => context.evalSync(HEAVY)));
  context.release();
  isolate.dispose();
  const perInstance = await heldMemory(async () => {
    const held: { isolate: import("isolated-vm").Isolate; context: import("isolated-vm").Context }[] = [];
    for (let i = 0; i < HELD_INSTANCES; i++) {
      const own = new ivm.Isolate({ memoryLimit: MEMORY_LIMIT_BYTES / 2 ** 20 });
      const c = own.createContextSync();
      c.evalSync(SMALL_FUNCTION);
      held.push({ isolate: own, context: c });
    }
    return () => held.forEach(({ isolate: own, context: c }) => (c.release(), own.dispose()));
  });
  return { cold, calls, heavy, perInstance };
}

/** Resident memory grown while `hold` keeps HELD_INSTANCES alive, per instance (bytes). */
async function heldMemory(hold: () => Promise<() => void>): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const release = await hold();
  const after = process.memoryUsage().rss;
  release();
  globalThis.gc?.();
  return Math.max(0, after - before) / HELD_INSTANCES;
}

export async function measureSandboxes(): Promise<ScenarioResult> {
  const notes: string[] = [];
  const q = await quickjsFigures();
  let ivm: Ivm | null = null;
  try {
    ivm = createRequire(import.meta.url)("isolated-vm") as Ivm;
  } catch (error) {
    notes.push(`isolated-vm did not load (${(error as Error).message.split("\n")[0]}): QuickJS figures only`);
  }
  const v = ivm ? await isolatedVmFigures(ivm) : null;
  const side = (name: string, samples: number[]) => ({ name, value: round(median(samples), 4), latency: latency(samples) });
  const rows: Row[] = [
    row(NAME, "cold start: new WebAssembly instance + runtime + context vs new Isolate + context", "median", "ms", false, side("QuickJS", q.instantiate), v ? side("isolated-vm", v.cold) : null),
    row(NAME, "cold start: runtime + context on a loaded module (what a code step pays) vs new Isolate + context", "median", "ms", false, side("QuickJS", q.runtimeCold), v ? side("isolated-vm", v.cold) : null),
    row(NAME, "one call of a small function, JSON in and out", "median", "ms", false, side("QuickJS", q.calls), v ? side("isolated-vm", v.calls) : null),
    row(NAME, "a CPU-bound loop of 10^6 iterations", "median", "ms", false, side("QuickJS", q.heavy), v ? side("isolated-vm", v.heavy) : null),
    row(NAME, `memory per instance (RSS grown by ${HELD_INSTANCES} live ones): own WebAssembly instance vs isolate`, "per instance", "KiB", false, { name: "QuickJS", value: Math.round(q.perInstance / 1024) }, v ? { name: "isolated-vm", value: Math.round(v.perInstance / 1024) } : null),
    row(NAME, `memory per instance: runtime + context on one module vs isolate`, "per instance", "KiB", false, { name: "QuickJS", value: Math.round(q.perRuntime / 1024) }, v ? { name: "isolated-vm", value: Math.round(v.perInstance / 1024) } : null),
  ];
  notes.push(`${COLD_SAMPLES} cold starts and ${CALL_SAMPLES} calls each, one process, QuickJS first; memory without --expose-gc is approximate`);
  return { name: NAME, title: "code step sandboxes: QuickJS (WebAssembly) vs isolated-vm", rows, goals: [], notes };
}

export const sandbox: Scenario = { name: NAME, title: "code step sandboxes: QuickJS (WebAssembly) vs isolated-vm", timeoutMs: 3 * 60_000, run: measureSandboxes };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await measureSandboxes();
  for (const r of result.rows) {
    const peer = r.peer ? `${r.peer.name} ${r.peer.value} ${r.unit}` : "—";
    console.log(`${r.case}\n  ${r.ours.name} ${r.ours.value} ${r.unit} | ${peer} | ratio ${r.ratio === null ? "—" : round(r.ratio, 2)}`);
  }
  for (const note of result.notes) console.log(`note: ${note}`);
}
