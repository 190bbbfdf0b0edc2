/**
 * Typed errors by `extensions.code` (GraphQL) — the same codes REST sends as `error.code`. Catch the class
 * that says what to do next: re-authenticate, fix the input, wait and retry.
 */
export interface GraphQLErrorShape {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** A field the server refused, e.g. `{ path: ["input", "json", "name"], message: "Name is required" }`. */
export interface FieldError {
  path: (string | number)[];
  message: string;
}

export class AlgorythmosError extends Error {
  override name = "AlgorythmosError";
  constructor(
    message: string,
    /** `extensions.code`, e.g. BAD_USER_INPUT; NETWORK_ERROR when no GraphQL answer came back. */
    readonly code: string,
    /** Every error of the response (the first one gives this error its class and message). */
    readonly errors: readonly GraphQLErrorShape[] = [],
    /** The HTTP status, when there was a response. */
    readonly status?: number,
  ) {
    super(message);
  }
  get extensions(): Record<string, unknown> {
    return this.errors[0]?.extensions ?? {};
  }
}

/** The input was refused; `fields` names each bad field. Fix the input; retrying as is fails again. */
export class BadUserInputError extends AlgorythmosError {
  override name = "BadUserInputError";
  get fields(): FieldError[] {
    return (this.extensions.fields as FieldError[] | undefined) ?? [];
  }
}
/** No valid token: log in again (the client refreshes once on its own when it has a refresh token). */
export class UnauthenticatedError extends AlgorythmosError {
  override name = "UnauthenticatedError";
}
/** Logged in, but the role does not allow it. */
export class ForbiddenError extends AlgorythmosError {
  override name = "ForbiddenError";
}
export class NotFoundError extends AlgorythmosError {
  override name = "NotFoundError";
}
export class ConflictError extends AlgorythmosError {
  override name = "ConflictError";
}
export class PayloadTooLargeError extends AlgorythmosError {
  override name = "PayloadTooLargeError";
}
/** Too many requests, or a query over the cost limit: wait `retryAfter` seconds. */
export class RateLimitedError extends AlgorythmosError {
  override name = "RateLimitedError";
  get retryAfter(): number | null {
    const value = Number(this.extensions.retryAfter);
    return Number.isFinite(value) ? value : null;
  }
}
/** PostgreSQL or Redis is down for the moment: retry after `retryAfter` seconds. */
export class ServiceUnavailableError extends RateLimitedError {
  override name = "ServiceUnavailableError";
}
/** The server could not be reached, or did not answer with GraphQL. */
export class NetworkError extends AlgorythmosError {
  override name = "NetworkError";
}

const CLASSES: Record<string, typeof AlgorythmosError> = {
  BAD_USER_INPUT: BadUserInputError,
  GRAPHQL_VALIDATION_FAILED: BadUserInputError,
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RATE_LIMITED: RateLimitedError,
  SERVICE_UNAVAILABLE: ServiceUnavailableError,
};

/** The typed error for a GraphQL response's errors. */
export function errorFromGraphQL(errors: readonly GraphQLErrorShape[], status?: number): AlgorythmosError {
  const code = String(errors[0]?.extensions?.code ?? "INTERNAL_SERVER_ERROR");
  const Class = CLASSES[code] ?? AlgorythmosError;
  return new Class(errors.map((error) => error.message).join("; ") || code, code, errors, status);
}
