import { isOutage, OUTAGE_RETRY_AFTER_SECONDS } from "@algorythmos/platform";

/**
 * Expected errors: each carries a code that reaches the API consumer (GraphQL `extensions.code`, REST
 * `error.code` + HTTP status). Anything else is unexpected: masked for the client and logged.
 */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The path exists but not for this method; the `Allow` header (and `details.allow`) lists the ones it takes. */
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  /** A side-effecting step test needs `confirmSideEffects: true` (the studio asks first; `details.sideEffects`). */
  CONFIRMATION_REQUIRED: 409,
  /** Publishing refused: a test case failed (`details.testResults`); `overrideFailingTests: true` publishes anyway. */
  TEST_CASES_FAILED: 422,
  RATE_LIMITED: 429,
  /** A webhook in `responseMode: "output"` whose run failed or was canceled (`details.runId`, `details.status`). */
  RUN_FAILED: 502,
  /** PostgreSQL or Redis is unreachable: retry after `details.retryAfter` seconds (also sent as Retry-After). */
  SERVICE_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** What a client sees of an unexpected error (a bug): the code, never the error itself. */
export const INTERNAL_ERROR = { code: "INTERNAL_SERVER_ERROR", status: 500, message: "Something went wrong on our side; it has been logged" } as const;

/** Every code a REST error body can carry. */
export const ERROR_CODES = [...(Object.keys(ERROR_STATUS) as ErrorCode[]), INTERNAL_ERROR.code] as const;

/** The one shape of a REST error body: `{ error: { code, message, details } }`. */
export const errorBody = (code: (typeof ERROR_CODES)[number], message: string, details: unknown = null) => ({ error: { code, message, details: details ?? null } });

export interface FieldProblem {
  path: (string | number)[];
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }
  get status() {
    return ERROR_STATUS[this.code];
  }
}

/** An outage of PostgreSQL or Redis (see isOutage), as the answer a client can retry. */
export const serviceUnavailable = () =>
  new AppError("SERVICE_UNAVAILABLE", "The studio's database or Redis is unreachable right now; retry shortly", { retryAfter: OUTAGE_RETRY_AFTER_SECONDS });

/** Expected errors as they are, outages as SERVICE_UNAVAILABLE; null for anything unexpected (a bug). */
export function expectedError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (isOutage(error)) return serviceUnavailable();
  return null;
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const unauthenticated = () => new AppError("UNAUTHENTICATED", "Sign in or send a valid Authorization: Bearer token");
export const forbidden = (message = "Your role does not allow this") => new AppError("FORBIDDEN", message);
export const badInput = (message: string, fields?: FieldProblem[]) => new AppError("BAD_USER_INPUT", message, fields ? { fields } : undefined);

/** Turns a zod error into BAD_USER_INPUT with field paths, prefixed by where the value came from. */
export function fromZodError(error: { issues: { path: PropertyKey[]; message: string }[] }, prefix: (string | number)[] = []) {
  const fields = error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.filter((part): part is string | number => typeof part !== "symbol")],
    message: issue.message,
  }));
  const summary = fields.map((field) => (field.path.length ? `${field.path.join(".")}: ${field.message}` : field.message)).join("; ");
  return badInput(summary || "Invalid input", fields);
}
