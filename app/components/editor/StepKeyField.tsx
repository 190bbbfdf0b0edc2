import { renameStepKey, stepKeyError, stepRefName, type Step } from "@algorythmos/domain";
import { useEffect, useId, useRef, useState } from "react";
import type * as Y from "yjs";
import { LOCAL_ORIGIN } from "~/lib/collab";
import { FieldError } from "../Field";

interface StepKeyFieldProps {
  doc: Y.Doc;
  step: Step;
  /** Every step of the workflow (a key is unique among their keys and ids). */
  steps: readonly Step[];
  readOnly: boolean;
}

/**
 * A step's readable key (docs/ydoc-layout.md L12): what expressions call it, `steps.<key>.output`. Checked as you
 * type; renamed when you leave the field or press Enter — the key and every reference to the step in the
 * workflow's expressions and templates change in one transaction (one undo step). Escape puts it back. A step
 * made before keys shows its id, which its expressions use until it is given a key.
 */
export function StepKeyField({ doc, step, steps, readOnly }: StepKeyFieldProps) {
  const id = useId();
  const current = stepRefName(step);
  const [draft, setDraft] = useState(current);
  const focused = useRef(false);
  // Someone else renamed it (or an undo did) while we are not typing in it: show the new key.
  useEffect(() => {
    if (!focused.current) setDraft(current);
  }, [current]);
  const problem = draft === current ? null : stepKeyError(draft, step.id, steps);
  const commit = () => {
    if (draft === current) return;
    if (problem || !renameStepKey(doc, step.id, draft, LOCAL_ORIGIN)) setDraft(current);
  };
  return (
    <div className="field">
      <div className="label-row">
        <label htmlFor={id}>Key</label>
        <span className="muted small">
          used as <code>steps.{problem ? current : draft || current}.output</code>
        </span>
      </div>
      <input
        id={id}
        className="mono"
        value={draft}
        disabled={readOnly}
        spellCheck={false}
        autoComplete="off"
        maxLength={64}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-error` : undefined}
        onFocus={() => (focused.current = true)}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={() => {
          focused.current = false;
          commit();
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            commit();
          } else if (event.key === "Escape") {
            setDraft(current);
          }
        }}
      />
      <FieldError inputId={id} message={problem ? `${problem}; leaving the field keeps ${current}` : null} />
    </div>
  );
}
