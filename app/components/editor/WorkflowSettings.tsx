import { docMaps, type Problem, type WorkflowSettings as Settings } from "@algorythmos/domain";
import { useEffect, useId, useState } from "react";
import type * as Y from "yjs";
import { LOCAL_ORIGIN } from "~/lib/collab";

interface WorkflowSettingsProps {
  doc: Y.Doc;
  settings: Settings;
  /** Other workflows of the workspace, for the error workflow picker. */
  workflows: { id: string; name: string }[];
  /** The draft's problems about settings (path starts with "settings"). */
  problems: Problem[];
  readOnly: boolean;
}

/** One setting, a plain JSON value chosen or entered whole (L9); undefined removes it (the default). */
function setSetting(doc: Y.Doc, key: keyof Settings, value: unknown) {
  const { settings } = docMaps(doc);
  doc.transact(() => {
    if (value === undefined) settings.delete(key);
    else if (settings.get(key) !== value) settings.set(key, value);
  }, LOCAL_ORIGIN);
}

/**
 * Workflow-level settings, part of the draft and published with it: how many runs may run at once, and which
 * workflow runs when a run fails. Every editor sees a change at once (the Y.Doc's `settings` map).
 */
export function WorkflowSettings({ doc, settings, workflows, problems, readOnly }: WorkflowSettingsProps) {
  const id = useId();
  // The number is kept as typed until it is a whole number the schema accepts; then it is the setting.
  const [limit, setLimit] = useState(settings.maxConcurrentRuns?.toString() ?? "");
  const [limitError, setLimitError] = useState<string | null>(null);
  useEffect(() => {
    setLimit((typed) => (Number(typed) === settings.maxConcurrentRuns ? typed : (settings.maxConcurrentRuns?.toString() ?? "")));
  }, [settings.maxConcurrentRuns]);

  const onLimit = (typed: string) => {
    setLimit(typed);
    if (!typed.trim()) {
      setLimitError(null);
      setSetting(doc, "maxConcurrentRuns", undefined);
      return;
    }
    const value = Number(typed);
    if (!Number.isInteger(value) || value < 1 || value > 1000) {
      setLimitError("A whole number from 1 to 1000, or empty for no limit");
      return;
    }
    setLimitError(null);
    setSetting(doc, "maxConcurrentRuns", value);
  };
  const problemOf = (key: string) => problems.find((p) => p.path?.[0] === "settings" && p.path?.[1] === key)?.message;
  const limitMessage = limitError ?? problemOf("maxConcurrentRuns");
  const errorWorkflowMessage = problemOf("errorWorkflowId");
  const chosenMissing = settings.errorWorkflowId && !workflows.some((w) => w.id === settings.errorWorkflowId);

  return (
    <section className="panel-section workflow-settings" aria-labelledby={`${id}-heading`} data-testid="workflow-settings">
      <h2 id={`${id}-heading`}>Workflow settings</h2>
      <div className="field">
        <label htmlFor={`${id}-limit`}>Max concurrent runs</label>
        <input
          id={`${id}-limit`}
          type="number"
          inputMode="numeric"
          min={1}
          max={1000}
          step={1}
          placeholder="No limit"
          value={limit}
          disabled={readOnly}
          onChange={(e) => onLimit(e.target.value)}
          aria-invalid={limitMessage ? true : undefined}
          aria-describedby={`${id}-limit-help`}
        />
        <p className="muted small" id={`${id}-limit-help`}>
          {limitMessage ? <span className="field-error">{limitMessage}</span> : "Extra runs wait queued and start in order as runs finish."}
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-error-workflow`}>Error workflow</label>
        <select
          id={`${id}-error-workflow`}
          value={settings.errorWorkflowId ?? ""}
          disabled={readOnly}
          onChange={(e) => setSetting(doc, "errorWorkflowId", e.target.value || undefined)}
          aria-describedby={`${id}-error-workflow-help`}
        >
          <option value="">None</option>
          {chosenMissing ? <option value={settings.errorWorkflowId}>Unknown workflow ({settings.errorWorkflowId})</option> : null}
          {workflows.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
        <p className="muted small" id={`${id}-error-workflow-help`}>
          {errorWorkflowMessage ? (
            <span className="field-error">{errorWorkflowMessage}</span>
          ) : (
            "Runs that workflow’s published version when a run of this one fails, with the failure as its input."
          )}
        </p>
      </div>
    </section>
  );
}
