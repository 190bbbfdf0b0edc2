/**
 * "Test step" beside the config (#16, docs/run-engine.md R49): runs the selected step of the draft on sample
 * input — the last run's, the pinned outputs, or typed JSON — and shows its output, error and duration; a
 * step with side effects asks first. "Pin output" pins the result (R47): draft runs then use it.
 */
import { isStepType, pinnedOutput, pinStepOutput, stepTypes, unpinStepOutput, type Step } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useState } from "react";
import type * as Y from "yjs";
import { LOCAL_ORIGIN } from "~/lib/collab";
import type { Result } from "~/lib/errors";

/** The intents of the testing route (app/routes/workflows.$id_.testing.tsx) and what it answers. */
export const TEST_STEP_INTENT = "test-step";
export const RUN_TEST_CASES_INTENT = "run-test-cases";
export interface StepTestAnswer {
  output: unknown;
  error: string | null;
  durationMs: number;
  logs: { level: string; message: string }[];
  input: unknown;
  inputSource: string;
}
export interface TestCaseResultView {
  caseId: string;
  name: string;
  runId: string | null;
  passed: boolean;
  failures: string[];
}
export type TestingActionResult = Result<{ testStep: StepTestAnswer } | { runTestCases: TestCaseResultView[] }>;

type Source = "lastRun" | "pinned" | "typed";
const SOURCES: { value: Source; label: string }[] = [
  { value: "lastRun", label: "Last run's input" },
  { value: "pinned", label: "Pinned outputs" },
  { value: "typed", label: "Type JSON" },
];
/** Long outputs scroll inside the panel. */
const OUTPUT_STYLE = { maxHeight: 240, overflow: "auto", fontSize: "0.8em" } as const;
const TYPED_DEFAULT = JSON.stringify({ input: {}, steps: {} }, null, 2);

/** The JSON error of a typed sample input as you type, or null when it parses. */
function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A pin on a step node (R47): its output is pinned, so draft runs use it instead of running the step. */
export function PinBadge({ pinned }: { pinned: boolean | undefined }) {
  if (!pinned) return null;
  return (
    <span
      className="pin-badge"
      aria-label="Output pinned"
      title="Output pinned: draft runs use it instead of running the step"
      data-testid="pin-badge"
      style={{ marginLeft: 6, padding: "0 6px", borderRadius: 8, fontSize: "0.7em", fontWeight: 600, background: "#fde68a", color: "#713f12", verticalAlign: "middle" }}
    >
      pinned
    </span>
  );
}

export function StepTest({ doc, workflowId, step, readOnly }: { doc: Y.Doc; workflowId: string; step: Step; readOnly: boolean }) {
  const fetcher = useFetcher<TestingActionResult>({ key: `step-test-${workflowId}-${step.id}` });
  const [source, setSource] = useState<Source>("lastRun");
  const [typed, setTyped] = useState(TYPED_DEFAULT);
  const [confirming, setConfirming] = useState<string | null>(null);
  const sourceId = useId();
  const typedId = useId();
  const pin = pinnedOutput(doc, step.id);
  const sideEffects = isStepType(step.type) ? stepTypes[step.type].sideEffects : "none";
  const typedError = source === "typed" ? jsonError(typed) : null;
  const result = fetcher.data;
  const answer: StepTestAnswer | null = result?.ok && "testStep" in result.data ? result.data.testStep : null;

  useEffect(() => {
    if (result && !result.ok && result.error.code === "CONFIRMATION_REQUIRED") setConfirming(result.error.message);
  }, [result]);

  const pinnedContext = () => {
    const pins = doc.getMap("pinned");
    const steps: Record<string, { output: unknown }> = {};
    for (const [id, output] of pins.entries()) if (id !== step.id) steps[id] = { output };
    return JSON.stringify({ input: {}, steps });
  };
  const run = (confirm: boolean) => {
    setConfirming(null);
    const input = source === "typed" ? typed : source === "pinned" ? pinnedContext() : "";
    fetcher.submit({ intent: TEST_STEP_INTENT, stepId: step.id, input, confirm: String(confirm) }, { method: "post", action: `/workflows/${workflowId}/testing` });
  };

  return (
    <section className="panel-section step-test" aria-label="Test step" data-testid="step-test">
      <h3>
        Test step <PinBadge pinned={pin.pinned} />
      </h3>
      <div className="field">
        <label htmlFor={sourceId}>Sample input</label>
        <select id={sourceId} value={source} onChange={(e) => setSource(e.target.value as Source)}>
          {SOURCES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </div>
      {source === "typed" ? (
        <div className="field">
          <label htmlFor={typedId}>Input as {"{ input, steps: { <id>: { output } } }"}</label>
          <textarea id={typedId} rows={6} value={typed} onChange={(e) => setTyped(e.target.value)} aria-invalid={typedError ? true : undefined} data-testid="step-test-input" spellCheck={false} />
          {typedError ? (
            <p className="form-error" role="alert" data-testid="step-test-json-error">
              Not JSON: {typedError}
            </p>
          ) : null}
        </div>
      ) : null}
      <button type="button" onClick={() => run(false)} disabled={readOnly || !!typedError || fetcher.state !== "idle"} data-testid="step-test-run">
        {fetcher.state !== "idle" ? "Testing…" : "Test step"}
      </button>
      {sideEffects !== "none" ? <p className="muted small">This step has side effects: testing it really runs it.</p> : null}
      {confirming ? (
        <div role="alertdialog" aria-label="Confirm side effects" className="confirm" data-testid="step-test-confirm">
          <p>{confirming}</p>
          <button type="button" className="danger" onClick={() => run(true)}>
            Run it anyway
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
        </div>
      ) : null}
      {result && !result.ok && result.error.code !== "CONFIRMATION_REQUIRED" ? (
        <p className="form-error" role="alert" data-testid="step-test-failure">
          {result.error.message}
        </p>
      ) : null}
      {answer ? (
        <div className="step-test-result" data-testid="step-test-result">
          <p className="muted small">
            {answer.error ? "Failed" : "Succeeded"} in <span data-testid="step-test-duration">{answer.durationMs} ms</span> · input: {answer.inputSource}
          </p>
          {answer.error ? (
            <p className="form-error" data-testid="step-test-error">
              {answer.error}
            </p>
          ) : null}
          <pre data-testid="step-test-output" style={OUTPUT_STYLE}>{JSON.stringify(answer.output, null, 2)}</pre>
          {answer.logs.length ? (
            <ul className="step-test-logs">
              {answer.logs.map((log, index) => (
                <li key={index}>
                  {log.level}: {log.message}
                </li>
              ))}
            </ul>
          ) : null}
          {!answer.error && !readOnly ? (
            <button type="button" onClick={() => pinStepOutput(doc, step.id, answer.output, LOCAL_ORIGIN)} data-testid="step-test-pin">
              Pin output
            </button>
          ) : null}
        </div>
      ) : null}
      {pin.pinned ? (
        <div className="pinned-output">
          <p className="muted small">Pinned output (draft runs use it instead of running the step):</p>
          <pre data-testid="pinned-output" style={OUTPUT_STYLE}>{JSON.stringify(pin.output, null, 2)}</pre>
          {readOnly ? null : (
            <button type="button" onClick={() => unpinStepOutput(doc, step.id, LOCAL_ORIGIN)} data-testid="step-test-unpin">
              Unpin
            </button>
          )}
        </div>
      ) : null}
    </section>
  );
}
