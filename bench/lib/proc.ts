import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

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
