/**
 * Named errors decide what happens next (docs/run-engine.md, R9):
 * - `StepError`: the step failed for a reason we can tell the user; `retryable` says whether a later attempt
 *   could succeed (timeouts, 5xx, 429) or not (4xx, bad config, refused address). Retries are not scheduled
 *   yet; the flag is recorded in the log so the retry policy can be added without touching executors.
 * - `ShutdownAbort`: the worker is stopping; nothing is recorded, the job goes back to the queue and the
 *   ledger lets the next delivery continue.
 */
export class StepError extends Error {
  readonly retryable: boolean;
  /** Recorded as the failed attempt's output when given (e.g. the HTTP response of a 4xx/5xx). */
  readonly output: unknown;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown; output?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StepError";
    this.retryable = options.retryable ?? false;
    this.output = options.output;
  }
}

export class ShutdownAbort extends Error {
  constructor() {
    super("The worker is shutting down");
    this.name = "ShutdownAbort";
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  // JSONata throws plain objects: { code, message, position, token }.
  if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** Another delivery of the same run is executing the same step attempt; this one stops without recording. */
export class DuplicateDelivery extends Error {
  constructor(runId: string, stepId: string) {
    super(`Run ${runId}: step "${stepId}" is already being executed by another delivery`);
    this.name = "DuplicateDelivery";
  }
}
