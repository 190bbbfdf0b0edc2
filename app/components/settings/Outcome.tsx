import { useEffect, useRef } from "react";
import type { ApiError, Result } from "~/lib/errors";

/** What every settings action returns: a message to show, the new token once after createToken, the invite link once after an invite. */
export type SettingsOutcome = Result<{ message: string; token?: string; inviteUrl?: string }>;

/**
 * The result of a settings form: a success, or the error. Errors of the inputs the form shows (`shownFields`,
 * every field when not given) sit beside those inputs instead; an error of any other field still shows here, so
 * no save ever ends without a word.
 */
export function OutcomeMessage({ outcome, shownFields }: { outcome: SettingsOutcome | undefined; shownFields?: readonly string[] }) {
  if (!outcome) return null;
  if (outcome.ok)
    return (
      <p className="notice" role="status">
        {outcome.data.message}
      </p>
    );
  const fieldKeys = Object.keys(outcome.error.fields);
  const unshown = shownFields ? fieldKeys.filter((key) => !shownFields.includes(key)) : [];
  if (fieldKeys.length && !unshown.length) return null;
  return (
    <p className="form-error" role="alert">
      {unshown.length ? unshown.map((key) => outcome.error.fields[key]).join(" · ") : outcome.error.message}
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
