import type { GraphQLResponse } from "@algorythmos/domain";

type GraphQLErrors = NonNullable<GraphQLResponse["errors"]>;

/** An expected API error as the studio shows it: a code, a message, and messages per input field. */
export interface ApiError {
  code: string;
  message: string;
  /** Field name (last path segment, e.g. "email") → message, from BAD_USER_INPUT's extensions.fields. */
  fields: Record<string, string>;
  /** Validation problems of a workflow (UNPROCESSABLE from startRun). */
  problems: { message: string; code?: string; stepId?: string | null; edgeId?: string | null }[];
}

export function toApiError(errors: GraphQLErrors | undefined | null, fallback = "Something went wrong"): ApiError {
  const first = errors?.[0];
  const fields: Record<string, string> = {};
  for (const field of first?.extensions?.fields ?? []) {
    const key = String(field.path[field.path.length - 1] ?? "");
    if (key && !fields[key]) fields[key] = field.message;
  }
  const rawProblems = first?.extensions?.problems;
  const problems = Array.isArray(rawProblems)
    ? rawProblems.filter((p): p is { message: string; stepId?: string } => typeof p?.message === "string")
    : [];
  return { code: first?.extensions?.code ?? "INTERNAL_SERVER_ERROR", message: first?.message ?? fallback, fields, problems };
}

export type Result<Data> = { ok: true; data: Data } | { ok: false; error: ApiError };
