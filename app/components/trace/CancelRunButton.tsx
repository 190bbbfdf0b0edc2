import { useFetcher } from "@remix-run/react";
import type { TraceActionResult } from "./types";

export function CancelRunButton() {
  const fetcher = useFetcher<TraceActionResult>();
  return (
    <fetcher.Form method="post" className="inline">
      <input type="hidden" name="intent" value="cancel" />
      <button type="submit" className="danger" disabled={fetcher.state !== "idle"}>
        {fetcher.state !== "idle" ? "Cancelling…" : "Cancel run"}
      </button>
      {fetcher.data && !fetcher.data.ok ? (
        <span className="field-error" role="alert">
          {fetcher.data.error.message}
        </span>
      ) : null}
    </fetcher.Form>
  );
}
