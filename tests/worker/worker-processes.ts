/**
 * Worker processes (tests/worker/worker-process.ts) on a harness's environment, for the tests that kill them
 * (SIGKILL, SIGTERM). Each test file keeps its own set and ends what is left after each test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import type { Harness } from "./harness.js";

/** Short BullMQ locks, so a SIGKILLed worker's job is handed over in about 2 s instead of the defaults' 30 s. */
export const QUICK_RECOVERY = { WORKER_LOCK_DURATION_MS: "1500", WORKER_STALLED_INTERVAL_MS: "1000" };

export async function killProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, "exit");
}

export function workerProcesses() {
  const running: ChildProcess[] = [];
  return {
    /** A worker process with the harness's environment plus `extra`; resolves once it says it is ready. */
    async spawn(h: Harness, extra: Record<string, string> = {}): Promise<ChildProcess> {
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NODE_ENV: "test",
        DATABASE_URL: h.env.DATABASE_URL,
        REDIS_URL: h.env.REDIS_URL,
        REDIS_PREFIX: h.env.REDIS_PREFIX,
        JWT_SECRET: h.env.JWT_SECRET,
        CREDENTIALS_KEY: h.env.CREDENTIALS_KEY,
        HTTP_ALLOW_HOSTS: h.env.HTTP_ALLOW_HOSTS.join(","),
        WORKER_CONCURRENCY: "4",
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
        ...extra,
      };
      // Its stderr shows only when TEST_LOG_LEVEL is set: a Redis restart makes ioredis complain, as expected.
      const child = spawn(process.execPath, ["--import", "tsx", path.resolve("tests/worker/worker-process.ts")], {
        env: env as NodeJS.ProcessEnv,
        stdio: ["ignore", "pipe", process.env.TEST_LOG_LEVEL ? "inherit" : "ignore"],
      });
      running.push(child);
      await new Promise<void>((resolve, reject) => {
        let output = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("ready")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`worker process exited early (${code})`)));
      });
      return child;
    },
    /** SIGKILLs every process still running (for afterEach / afterAll). */
    async killAll(): Promise<void> {
      await Promise.all(running.splice(0).map((child) => killProcess(child)));
    },
  };
}
