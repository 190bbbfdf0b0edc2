import type { ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import { ERROR_STATUS, type ErrorCode } from "../errors.js";

/**
 * The HTTP status of a GraphQL answer, following GraphQL over HTTP (docs/api.md, "Status codes"):
 * - a request that executed answers 200 whatever its field errors say (the codes are in `extensions.code`);
 * - a request that never executed (bad document, bad credentials) keeps the status its error carries
 *   (`extensions.http`, set by toGraphQLError or by Yoga itself; 200 for `application/json` as Yoga decides);
 * - except one refused as a whole for a reason that passes: no data at all, and every error is RATE_LIMITED or
 *   SERVICE_UNAVAILABLE. That answers 429/503, so clients and proxies retry instead of reading a partial answer.
 * Any error carrying `retryAfter` sets the Retry-After header, whatever the status.
 */
const RETRY_LATER: ReadonlySet<string> = new Set<ErrorCode>(["RATE_LIMITED", "SERVICE_UNAVAILABLE"]);

/** The longest `extensions.retryAfter` (seconds) of the errors, or null when none says when to retry. */
export function retryAfterOf(errors: readonly { extensions?: Readonly<Record<string, unknown>> }[]): number | null {
  let seconds: number | null = null;
  for (const error of errors) {
    const value = error.extensions?.retryAfter;
    if (typeof value === "number" && value > 0) seconds = Math.max(seconds ?? 0, value);
  }
  return seconds;
}

/** The status a whole-request refusal answers with, or null when the request answered something. */
export function refusalStatus(result: ExecutionResult): number | null {
  if (!("data" in result) || result.data != null || !result.errors?.length) return null;
  const codes = result.errors.map((error) => String(error.extensions?.code ?? ""));
  if (!codes.every((code) => RETRY_LATER.has(code))) return null;
  return Math.max(...codes.map((code) => ERROR_STATUS[code as ErrorCode]));
}

export function httpStatusPolicy(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const single = result as ExecutionResult & { extensions?: { http?: { status?: number; headers?: Record<string, string> } } };
      if (!single.errors?.length) return;
      const retryAfter = retryAfterOf(single.errors);
      const status = refusalStatus(single);
      if (retryAfter === null && status === null) return;
      const http = single.extensions?.http ?? {};
      setResult({
        ...single,
        extensions: {
          ...single.extensions,
          http: {
            ...http,
            ...(status !== null ? { status } : {}),
            headers: { ...http.headers, ...(retryAfter !== null ? { "Retry-After": String(retryAfter) } : {}) },
          },
        },
      });
    },
  };
}
