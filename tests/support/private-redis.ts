/**
 * A redis-server of the test's own (never the machine's), for fault tests: kill -9 it, restart it with its
 * AOF data or empty, on the same port so clients reconnect by themselves.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./collab.js";

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL: no shutdown save; the AOF (fsync every write) holds what was acknowledged. */
  kill(): Promise<void>;
  /** Starts it again on the same port; `empty` first removes its data. */
  start(options?: { empty?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let dir = mkdtempSync(path.join(tmpdir(), "algo-redis-"));
  let child: ChildProcess | null = null;

  async function start(options: { empty?: boolean } = {}) {
    if (options.empty) {
      rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(path.join(tmpdir(), "algo-redis-"));
    }
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir], { stdio: "ignore" });
    running.add(child);
    const started = child;
    started.once("exit", () => running.delete(started));
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error("redis-server did not start");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    probe.disconnect();
  }

  async function kill() {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
