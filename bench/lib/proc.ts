import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export const benchRoot = path.resolve(import.meta.dirname, "..");
export const repoRoot = path.resolve(benchRoot, "..");

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** What the child reported when ready (e.g. `{ url }`). */
  info: Record<string, any>;
  stop(): Promise<void>;
}

/**
 * Starts a bench server (a .ts file under bench/servers) in its own Node process and waits for its
 * `{ ready: true, ... }` IPC message. `nodeArgs` go before the script (e.g. --cpu-prof).
 */
export async function startChild(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Child> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", path.join(benchRoot, "servers", script)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  track(child);
  const info = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
    child.on("message", (message: any) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve(message);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
  return { name, process: child, pid: child.pid!, info, stop: () => stopProcess(child) };
}

/** Every process the bench started and has not stopped yet: stopped at the end even if a scenario timed out. */
const running = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/** Stops whatever the bench started and is still running (a scenario that timed out leaves its processes). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Resident set size (bytes) of a process and all its descendants, from /proc. */
export function treeRss(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) for (const [pid, ppid] of parents) if (ppid === pids[i]) pids.push(pid);
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Samples the RSS of process trees every `everyMs` until stopped; returns the peak (bytes). */
export function sampleRss(pids: number[], everyMs = 200): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const total = pids.reduce((sum, pid) => sum + (pid === process.pid ? process.memoryUsage.rss() : treeRss(pid)), 0);
    peak = Math.max(peak, total);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** A free TCP port on loopback (for processes that must be told their port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface EntryPointChild extends Child {
  collectGarbage(): Promise<void>;
  /** process.memoryUsage() right after a full collection (null if the inspector did not answer). */
  memoryAfterGc(): Promise<MemoryReading | null>;
  eventLoopLag(): Promise<LagReading | null>;
}

/**
 * Starts one of the project's own entry points (server/main.ts, collab/main.ts, worker/main.ts: the
 * production layout, one process each) and waits until `ready()` holds (bounded).
 */
export async function startEntryPoint(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<EntryPointChild> {
  // The inspector (loopback, a free port) lets the bench collect a process's garbage before reading its RSS.
  const child = spawn(process.execPath, ["--inspect=127.0.0.1:0", "--import", "tsx", path.join(repoRoot, script)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "inherit", "pipe"],
  });
  track(child);
  let inspectorUrl: string | null = null;
  let pending = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
      if (match) inspectorUrl = match[1]!;
      else if (!/^For help, see: https:\/\/nodejs.org\/en\/docs\/inspector|^Debugger (attached|ending on)/.test(line)) process.stderr.write(`${line}\n`);
    }
  });
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`${name} exited with code ${code} before it was ready`))));
  exited.catch(() => {});
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) await exited;
      if (await ready().catch(() => false)) break;
      if (performance.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  /** One DevTools protocol call on the process's inspector (a socket per call: calls are rare). */
  const inspect = async (method: string, params: object = {}): Promise<Record<string, any> | null> => {
    if (!inspectorUrl) return null;
    const { default: WebSocket } = await import("ws");
    const socket = new WebSocket(inspectorUrl);
    return new Promise((resolve) => {
      const timer = setTimeout(() => (socket.terminate(), resolve(null)), 10_000);
      socket.once("error", () => (clearTimeout(timer), resolve(null)));
      socket.once("open", () => socket.send(JSON.stringify({ id: 1, method, params })));
      socket.on("message", (data: Buffer) => {
        const answer = JSON.parse(data.toString()) as { id?: number; result?: Record<string, any> };
        if (answer.id !== 1) return;
        clearTimeout(timer);
        socket.close();
        resolve(answer.result ?? null);
      });
    });
  };
  /** Evaluates an expression in the process's main context (no code of ours changes: the bench started it with --inspect). */
  const evaluate = async <T>(expression: string): Promise<T | null> => {
    const result = await inspect("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    return (result?.result?.value as T | undefined) ?? null;
  };
  return {
    name,
    process: child,
    pid: child.pid!,
    info: {},
    stop: () => stopProcess(child),
    async collectGarbage() {
      await inspect("HeapProfiler.collectGarbage");
    },
    async memoryAfterGc() {
      await inspect("HeapProfiler.collectGarbage");
      return evaluate<MemoryReading>(MEMORY_EXPRESSION);
    },
    async eventLoopLag() {
      return evaluate<LagReading>(LAG_EXPRESSION);
    },
  };
}

export interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
/** Event-loop delay since the previous reading (ms); the first reading starts the histogram. */
export interface LagReading {
  mean: number;
  p99: number;
  max: number;
}

const MEMORY_EXPRESSION = `(() => { const m = process.memoryUsage(); return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }; })()`;
// Installed once per process through the inspector, read and reset on each call.
const LAG_EXPRESSION = `(() => {
  const h = (globalThis.__benchLag ??= (() => { const x = process.getBuiltinModule("node:perf_hooks").monitorEventLoopDelay({ resolution: 10 }); x.enable(); return x; })());
  const reading = { mean: h.mean / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  h.reset();
  return reading;
})()`;

/** Event-loop delay and CPU of the bench process itself (the load generator shares the machine's cores). */
export function meterSelf(): { stop(): { cpuShare: number; lag: LagReading } } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  return {
    stop() {
      histogram.disable();
      const used = process.cpuUsage(cpu);
      const wallUs = (performance.now() - started) * 1000;
      return { cpuShare: (used.user + used.system) / (wallUs || 1), lag: { mean: histogram.mean / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 } };
    },
  };
}

/** Forces a full garbage collection in the bench process itself and returns its memory (V8 flag set at runtime). */
export function selfMemoryAfterGc(): MemoryReading {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** True when `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status === 200;
}

/** CPU time (ms, user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name; USER_HZ is 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The machine's 1-minute load average against its cores: other work on a shared machine, named beside a figure it moves. */
export function machineLoad(): string {
  return `machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
}
