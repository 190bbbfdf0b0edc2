import type { Logger } from "./logger.js";

type Stop = () => Promise<void>;

let stopping = false;
let registered: { logger: Logger; stop: Stop; timeoutMs: number } | null = null;

/** Runs the registered stop once, then exits with `code`; a stop that hangs exits anyway. */
function shutDown(reason: string, code: number): void {
  if (stopping) process.exit(code || 1);
  stopping = true;
  if (!registered) process.exit(code);
  const { logger, stop, timeoutMs } = registered;
  logger.info("shutting down", { reason });
  const timer = setTimeout(() => {
    logger.error("shutdown timed out; exiting");
    process.exit(1);
  }, timeoutMs);
  timer.unref();
  stop().then(
    () => process.exit(code),
    (error: unknown) => {
      logger.error("shutdown failed", { error });
      process.exit(1);
    },
  );
}

/**
 * Runs `stop` once on SIGINT/SIGTERM, then exits. A second signal, or a stop that hangs, exits at once, so
 * Ctrl-C always gets the terminal back.
 */
export function onShutdown(logger: Logger, stop: Stop, options: { timeoutMs?: number } = {}): void {
  registered = { logger, stop, timeoutMs: options.timeoutMs ?? 10_000 };
  process.on("SIGINT", (signal) => shutDown(signal, 0));
  process.on("SIGTERM", (signal) => shutDown(signal, 0));
}

/**
 * The last resort of every process, installed first thing in each main: a rejected promise nobody handled
 * is logged and the process keeps serving (the operation that failed is over; every entry point turns its
 * own errors into a close or a 4xx, so reaching this is a bug to fix, not a reason to drop every user).
 * An uncaught exception may leave state half-changed, so the process stops cleanly — through the same
 * stop as a SIGTERM, which also stops what `npm start` started — and exits 1, never silently half-alive.
 */
export function guardProcess(logger: Logger): void {
  process.on("unhandledRejection", (reason) => logger.error("unhandled rejection; still serving", { error: reason }));
  process.on("uncaughtException", (error) => {
    logger.error("uncaught exception; stopping", { error });
    shutDown("uncaughtException", 1);
  });
}
