import { useEffect, useRef } from "react";
import type { ApiError, Result } from "~/lib/errors";

/** What every settings action returns: a message to show, and the new token once after createToken. */
export type SettingsOutcome = Result<{ message: string; token?: string }>;

/** The result of a settings form; field errors show beside their inputs instead. */
export function OutcomeMessage({ outcome }: { outcome: SettingsOutcome | undefined }) {
  if (!outcome) return null;
  if (outcome.ok)
    return (
      <p className="notice" role="status">
        {outcome.data.message}
      </p>
    );
  if (Object.keys(outcome.error.fields).length) return null;
  return (
    <p className="form-error" role="alert">
      {outcome.error.message}
    </p>
  );
}

/** Clears a form after its fetcher succeeded. */
export function useResetOnSuccess(fetcher: { state: string; data?: SettingsOutcome | undefined }) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (fetcher.state === "idle" && fetcher.data?.ok) form.current?.reset();
  }, [fetcher.state, fetcher.data]);
  return form;
}

/** The error of a failed outcome, if any (for its per-field messages). */
export const failureOf = (outcome: SettingsOutcome | undefined): ApiError | null => (outcome && !outcome.ok ? outcome.error : null);

export const fieldError = (error: ApiError | null, key: string) => error?.fields[key];
