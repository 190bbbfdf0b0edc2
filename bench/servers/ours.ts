/**
 * Our processes for the bench: server + collab + worker in one Node process (scripts/stack.ts, what
 * `npm start` runs), on the bench database and Redis prefix given in the environment. Reports its URL over
 * IPC; on request it CPU-profiles itself (node:inspector) for exactly the measured window, or collects its
 * garbage and reports its RSS (memory per connection and per room).
 */
import { createLogger, loadEnv, onShutdown } from "@algorythmos/platform";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { startStack } from "../../scripts/stack.js";

const env = loadEnv();
const logger = createLogger("bench-ours", env.LOG_LEVEL);
const stack = await startStack(env, logger, { studio: false });
onShutdown(logger, () => stack.close(), { timeoutMs: 20_000 });

let session: Session | null = null;
process.on("message", (message: { profile?: "start" | "stop"; file?: string; gc?: boolean }) => {
  void (async () => {
    if (!process.connected) return;
    if (message.gc) {
      // Started with --expose-gc by the bench: memory figures are taken after a full collection.
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ collected: true, rss: process.memoryUsage.rss() });
    } else if (message.profile === "start" && !session) {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 500 });
      await session.post("Profiler.start");
      process.send?.({ profiling: true });
    } else if (message.profile === "stop" && session && message.file) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      session = null;
      writeFileSync(message.file, JSON.stringify(profile));
      process.send?.({ profiled: message.file });
    }
  })();
});
process.send?.({ ready: true, url: `http://127.0.0.1:${stack.port}` });
// The bench died without stopping us: shut down rather than live on as an orphan (and never send to it again).
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
