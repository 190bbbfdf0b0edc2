import type { Logger } from "./logger.js";

/**
 * Runs `stop` once on SIGINT/SIGTERM, then exits. A second signal, or a stop that hangs, exits at once, so
 * Ctrl-C always gets the terminal back.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, options: { timeoutMs?: number } = {}): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("shutting down", { signal });
    const timer = setTimeout(() => {
      logger.error("shutdown timed out; exiting");
      process.exit(1);
    }, options.timeoutMs ?? 10_000);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}
