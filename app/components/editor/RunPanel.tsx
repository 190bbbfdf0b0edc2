import type { Step } from "@algorythmos/domain";
import { Link } from "@remix-run/react";
import { useId, useState } from "react";
import type { RunState } from "~/lib/runs";

interface RunPanelProps {
  run: RunState;
  steps: Step[];
  disabled: boolean;
  onRun(input: unknown): void;
}

/** The Run button, its JSON input, and the live status of the latest run started here. */
export function RunPanel({ run, steps, disabled, onRun }: RunPanelProps) {
  const inputId = useId();
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
    onRun(parsed);
  };

  const names = new Map(steps.map((s) => [s.id, s.name || s.id]));
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
