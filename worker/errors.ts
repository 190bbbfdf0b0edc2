/**
 * Named errors decide what happens next (docs/run-engine.md, R9):
 * - `StepError`: the step failed for a reason we can tell the user; `retryable` says whether a later attempt
 *   could succeed (timeouts, 5xx, 429, connection errors) or not (4xx, bad config, refused address). The
 *   engine retries retryable failures with backoff (R17).
 * - `AbortedError`: an executor noticed its signal was aborted (shutdown, cancel or step timeout); the
 *   engine decides which of those it was.
 * - `ShutdownAbort`: the worker is stopping; nothing is recorded, the job goes back to the queue and the
 *   ledger lets the next delivery continue.
 * - `SuspendRun`: every step that can run has run and the rest wait for a delay (R13); the worker moves
 *   the job to BullMQ's delayed set until `resumeAt`.
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

export class AbortedError extends Error {
  constructor() {
    super("Aborted");
    this.name = "AbortedError";
  }
}

export class ShutdownAbort extends Error {
  constructor() {
    super("The worker is shutting down");
    this.name = "ShutdownAbort";
  }
}

export class SuspendRun extends Error {
  constructor(readonly resumeAt: Date) {
    super(`The run waits until ${resumeAt.toISOString()}`);
    this.name = "SuspendRun";
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
