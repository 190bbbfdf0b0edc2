import { Form, useActionData, useNavigation } from "@remix-run/react";
import { useId, useState } from "react";
import type { TraceActionResult } from "./types";

/** retryRun's optional input is the step's config for the re-run (validated like the step's config). */
export function RetryForm({ stepId, config, name }: { stepId: string; config: unknown; name: string }) {
  // A navigation (not a fetcher): the action redirects to the new run, and live revalidations of this page
  // cannot interrupt a navigation the way they can a fetcher's redirect.
  const result = useActionData<TraceActionResult>() as TraceActionResult | undefined;
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "retry";
  const id = useId();
  const [editing, setEditing] = useState(false);
  const error = result && !result.ok && navigation.state === "idle" ? result.error : null;
  return (
    <Form method="post" className="retry-form card">
      <h3>Re-run from “{name}”</h3>
      <p className="muted small">Earlier steps keep their outputs; this step and everything after it run again.</p>
      <input type="hidden" name="intent" value="retry" />
      <input type="hidden" name="fromStepId" value={stepId} />
      <div className="field checkbox">
        <input id={`${id}-edit`} type="checkbox" checked={editing} onChange={(e) => setEditing(e.target.checked)} />
        <label htmlFor={`${id}-edit`}>Edit this step's config for the re-run</label>
      </div>
      {editing ? (
        <div className="field">
          <label htmlFor={`${id}-input`}>Step config (JSON)</label>
          <textarea
            id={`${id}-input`}
            name="input"
            className="mono"
            rows={6}
            defaultValue={JSON.stringify(config ?? {}, null, 2)}
            aria-invalid={error?.fields.input ? true : undefined}
          />
        </div>
      ) : null}
      {error ? (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Starting…" : "Re-run from here"}
      </button>
    </Form>
  );
}
