import { isTriggerType, type Step } from "@algorythmos/domain";
import { stepDisplayName } from "@algorythmos/domain";
import { Link } from "@remix-run/react";
import { useId, useState } from "react";
import type { RunVersionChoice } from "~/lib/operations";
import type { RunState } from "~/lib/runs";

interface RunPanelProps {
  run: RunState;
  steps: Step[];
  disabled: boolean;
  onRun(input: unknown, version?: RunVersionChoice, triggerStepId?: string): void;
  /** The published version's number, when there is one: the run can then use it instead of the draft. */
  publishedVersion?: number | null;
}

/** The Run button, its JSON input, and the live status of the latest run started here. */
export function RunPanel({ run, steps, disabled, onRun, publishedVersion = null }: RunPanelProps) {
  const inputId = useId();
  // R4: the run starts at one trigger. With several, the person says which (the only manual one by default).
  const manual = steps.filter((s) => s.type === "trigger.manual");
  const triggers = [...manual, ...steps.filter((s) => isTriggerType(s.type) && s.type !== "trigger.manual")];
  const [chosenTrigger, setChosenTrigger] = useState<string | null>(null);
  const startAt = triggers.length > 1 ? (triggers.some((s) => s.id === chosenTrigger) ? chosenTrigger! : (manual[0] ?? triggers[0])!.id) : undefined;
  const [version, setVersion] = useState<RunVersionChoice>("DRAFT");
  const [input, setInput] = useState("{}");
  const [inputError, setInputError] = useState<string | null>(null);

  const submit = () => {
    let parsed: unknown = {};
    if (input.trim()) {
      try {
        parsed = JSON.parse(input);
      } catch {
        setInputError("Run input must be valid JSON");
        return;
      }
    }
    setInputError(null);
    onRun(parsed, publishedVersion === null ? undefined : version, startAt);
  };

  const names = new Map(steps.map((s) => [s.id, stepDisplayName(s)]));
  const stepIds = [...steps.map((s) => s.id).filter((id) => run.steps[id]), ...Object.keys(run.steps).filter((id) => !names.has(id))];

  return (
    <section className="panel-section" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`}>Run</h2>
      <div className="field">
        <label htmlFor={inputId}>Run input</label>
        <textarea
          id={inputId}
          className="mono"
          rows={3}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          aria-invalid={inputError ? true : undefined}
          aria-describedby={inputError ? `${inputId}-error` : undefined}
        />
        {inputError ? (
          <p className="field-error" id={`${inputId}-error`}>
            {inputError}
          </p>
        ) : null}
      </div>
      {startAt === undefined ? null : (
        <div className="field">
          <label htmlFor={`${inputId}-trigger`}>Start at</label>
          <select id={`${inputId}-trigger`} value={startAt} onChange={(e) => setChosenTrigger(e.target.value)}>
            {triggers.map((trigger) => (
              <option key={trigger.id} value={trigger.id}>
                {trigger.name || trigger.id}
              </option>
            ))}
          </select>
        </div>
      )}
      {publishedVersion === null ? null : (
        <div className="field">
          <label htmlFor={`${inputId}-version`}>Run version</label>
          <select id={`${inputId}-version`} value={version} onChange={(e) => setVersion(e.target.value as RunVersionChoice)}>
            <option value="DRAFT">Draft (as edited now)</option>
            <option value="PUBLISHED">Published v{publishedVersion}</option>
          </select>
        </div>
      )}
      <button type="button" className="primary" onClick={submit} disabled={disabled || run.starting}>
        Run
      </button>
      {run.error ? (
        <div className="form-error" role="alert">
          <p>{run.error.problems.length ? "The workflow cannot run until these problems are fixed:" : run.error.message}</p>
          {run.error.problems.length ? (
            <ul>
              {run.error.problems.map((p, i) => (
                <li key={i}>{p.message}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {run.runId && run.status ? (
        <div className="run-result" aria-live="polite">
          <p>
            Run <code>{run.runId}</code>:{" "}
            <span className={`badge status-${run.status}`} data-testid="run-status">
              {run.status}
            </span>{" "}
            <Link to={`/runs/${run.runId}`} data-testid="open-trace">
              Open trace
            </Link>
          </p>
          {stepIds.length ? (
            <ul className="step-statuses" aria-label="Step statuses">
              {stepIds.map((id) => (
                <li key={id}>
                  <span>{names.get(id) ?? id}</span>
                  <span className={`badge status-${run.steps[id]}`} data-testid={`step-status-${id}`}>
                    {run.steps[id]}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          {run.streamError ? <p className="field-error">Live updates stopped: {run.streamError}</p> : null}
        </div>
      ) : null}
    </section>
  );
}
