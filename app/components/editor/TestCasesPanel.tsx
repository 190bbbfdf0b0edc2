/**
 * The draft's test cases (#16, docs/run-engine.md R50; Y.Doc `testCases`, L10): add, edit and remove them
 * (co-editors see them live), run them, and see each case's result with a link to its run.
 */
import { newId, putTestCase, removeTestCase, TestAssertion, type TestCase } from "@algorythmos/domain";
import { Link, useFetcher } from "@remix-run/react";
import { useId, useState } from "react";
import type * as Y from "yjs";
import { z } from "zod";
import { LOCAL_ORIGIN } from "~/lib/collab";
import { RUN_TEST_CASES_INTENT, type TestingActionResult } from "./StepTest";

const ASSERTIONS_EXAMPLE = JSON.stringify([{ kind: "equals", expected: {} }], null, 2);
const Assertions = z.array(TestAssertion);

interface Draft {
  id: string;
  name: string;
  input: string;
  assertions: string;
}

/** The form's problems: each JSON field must parse, the assertions must be valid ones. */
function draftProblems(draft: Draft): { input?: string; assertions?: string } {
  const problems: { input?: string; assertions?: string } = {};
  try {
    JSON.parse(draft.input);
  } catch (error) {
    problems.input = `Not JSON: ${(error as Error).message}`;
  }
  try {
    const parsed = Assertions.safeParse(JSON.parse(draft.assertions));
    if (!parsed.success) problems.assertions = parsed.error.issues.map((issue) => `${issue.path.join(".") || "assertions"}: ${issue.message}`).join("; ");
  } catch (error) {
    problems.assertions = `Not JSON: ${(error as Error).message}`;
  }
  return problems;
}

export function TestCasesPanel({ doc, workflowId, testCases, readOnly }: { doc: Y.Doc; workflowId: string; testCases: TestCase[]; readOnly: boolean }) {
  const fetcher = useFetcher<TestingActionResult>({ key: `test-cases-${workflowId}` });
  const [draft, setDraft] = useState<Draft | null>(null);
  const nameId = useId();
  const inputId = useId();
  const assertionsId = useId();
  const result = fetcher.data;
  const results = result?.ok && "runTestCases" in result.data ? result.data.runTestCases : null;
  const problems = draft ? draftProblems(draft) : {};

  const edit = (testCase: TestCase | null) =>
    setDraft(
      testCase
        ? { id: testCase.id, name: testCase.name, input: JSON.stringify(testCase.input ?? {}, null, 2), assertions: JSON.stringify(testCase.assertions, null, 2) }
        : { id: `tc_${newId("step").slice(5, 17)}`, name: "", input: "{}", assertions: ASSERTIONS_EXAMPLE },
    );
  const save = () => {
    if (!draft || problems.input || problems.assertions) return;
    putTestCase(doc, { id: draft.id, name: draft.name.trim(), input: JSON.parse(draft.input), assertions: Assertions.parse(JSON.parse(draft.assertions)) }, LOCAL_ORIGIN);
    setDraft(null);
  };

  return (
    <section className="panel-section test-cases" aria-label="Test cases" data-testid="test-cases">
      <h3>Test cases</h3>
      {testCases.length ? (
        <ul className="test-case-list">
          {testCases.map((testCase) => {
            const outcome = results?.find((r) => r.caseId === testCase.id);
            return (
              <li key={testCase.id} data-testid={`test-case-${testCase.id}`}>
                <span className="test-case-name">{testCase.name || testCase.id}</span>{" "}
                {outcome ? (
                  <span className={`badge ${outcome.passed ? "status-succeeded" : "status-failed"}`} data-testid={`test-case-result-${testCase.id}`}>
                    {outcome.passed ? "passed" : "failed"}
                  </span>
                ) : null}
                {outcome?.runId ? (
                  <>
                    {" "}
                    <Link to={`/runs/${outcome.runId}`}>run</Link>
                  </>
                ) : null}
                {outcome && !outcome.passed ? (
                  <ul className="test-case-failures">
                    {outcome.failures.map((failure) => (
                      <li key={failure}>{failure}</li>
                    ))}
                  </ul>
                ) : null}
                {readOnly ? null : (
                  <span className="test-case-actions" style={{ display: "inline-flex", gap: 8, marginLeft: 8 }}>
                    <button type="button" className="link" onClick={() => edit(testCase)}>
                      Edit
                    </button>
                    <button type="button" className="link danger" onClick={() => removeTestCase(doc, testCase.id, LOCAL_ORIGIN)}>
                      Remove
                    </button>
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="muted small">No test cases yet: a case is a run input and what the run must produce. They run on demand and before each publish.</p>
      )}
      {result && !result.ok ? (
        <p className="form-error" role="alert">
          {result.error.message}
        </p>
      ) : null}
      {draft ? (
        <div className="test-case-form" data-testid="test-case-form">
          <div className="field">
            <label htmlFor={nameId}>Name</label>
            <input id={nameId} value={draft.name} maxLength={200} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={inputId}>Run input (JSON)</label>
            <textarea id={inputId} rows={3} spellCheck={false} value={draft.input} onChange={(e) => setDraft({ ...draft, input: e.target.value })} aria-invalid={problems.input ? true : undefined} />
            {problems.input ? <p className="form-error">{problems.input}</p> : null}
          </div>
          <div className="field">
            <label htmlFor={assertionsId}>Assertions (JSON)</label>
            <textarea id={assertionsId} rows={6} spellCheck={false} value={draft.assertions} onChange={(e) => setDraft({ ...draft, assertions: e.target.value })} aria-invalid={problems.assertions ? true : undefined} />
            <p className="muted small">{'[{ "stepId"?: id, "kind": "equals", "expected": … } | { "kind": "jsonata", "expression": "value.x > 1" } | { "kind": "schema", "schema": {…} }]'}</p>
            {problems.assertions ? <p className="form-error">{problems.assertions}</p> : null}
          </div>
          <button type="button" onClick={save} disabled={!!problems.input || !!problems.assertions}>
            Save test case
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
        </div>
      ) : null}
      {readOnly ? null : (
        <div className="test-case-buttons">
          {draft ? null : (
            <button type="button" onClick={() => edit(null)}>
              Add test case
            </button>
          )}
          <button
            type="button"
            disabled={!testCases.length || fetcher.state !== "idle"}
            onClick={() => fetcher.submit({ intent: RUN_TEST_CASES_INTENT }, { method: "post", action: `/workflows/${workflowId}/testing` })}
          >
            {fetcher.state !== "idle" ? "Running…" : "Run test cases"}
          </button>
        </div>
      )}
    </section>
  );
}
