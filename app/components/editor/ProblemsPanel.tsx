import { isBlockingProblem, type Problem } from "@algorythmos/domain";

interface ProblemsPanelProps {
  /** The live document's problems and warnings (domain editorProblems), recomputed on every change. */
  problems: Problem[];
  /** A viewer cannot run the workflow: no "can run" promise, a read-only notice instead. */
  readOnly: boolean;
  onSelect(stepId: string): void;
}

/**
 * The Problems list (R54): what blocks a run — the worker's own checks, made while editing — then warnings
 * (R53: steps no run reaches, triggers that start nothing), which do not block. A problem about a step selects it.
 */
export function ProblemsPanel({ problems, readOnly, onSelect }: ProblemsPanelProps) {
  const blocking = problems.filter(isBlockingProblem);
  const warnings = problems.filter((problem) => !isBlockingProblem(problem));
  return (
    <section className="panel-section" aria-labelledby="problems-heading" data-testid="problems-panel">
      <h2 id="problems-heading">Problems ({blocking.length})</h2>
      {readOnly ? (
        <p className="muted" data-testid="problems-status">
          View only: you can look at this workflow, but only its editors can change or run it.
        </p>
      ) : blocking.length ? null : (
        <p className="problems-ok" data-testid="problems-status">
          No problems: this workflow can run.
        </p>
      )}
      {blocking.length ? <ProblemList problems={blocking} testId="problems" onSelect={onSelect} /> : null}
      {warnings.length ? (
        <>
          <h3 className="problems-subheading" id="warnings-heading">
            Warnings ({warnings.length}) <span className="muted">· do not block a run</span>
          </h3>
          <ProblemList problems={warnings} testId="warnings" onSelect={onSelect} />
        </>
      ) : null}
    </section>
  );
}

function ProblemList({ problems, testId, onSelect }: { problems: Problem[]; testId: string; onSelect(stepId: string): void }) {
  return (
    <ul className={testId === "warnings" ? "problems problems-warnings" : "problems"} data-testid={testId}>
      {problems.map((problem, index) => (
        <li key={`${problem.code}-${problem.stepId ?? ""}-${problem.edgeId ?? ""}-${(problem.path ?? []).join(".")}-${index}`} data-code={problem.code}>
          {problem.stepId ? (
            <button type="button" className="link" onClick={() => onSelect(problem.stepId!)} title="Select the step">
              {problem.message}
            </button>
          ) : (
            problem.message
          )}
        </li>
      ))}
    </ul>
  );
}

/**
 * A refused run's problems that are still there (R54): a run refused for a cycle says so only until the cycle
 * is gone. Matched by code and subject, not message (the message may change as one types). Null: all fixed.
 */
export function stillOpen<T extends { code?: string; stepId?: string | null; edgeId?: string | null }>(refused: T[], live: Problem[]): T[] {
  const open = live.filter(isBlockingProblem);
  return refused.filter((problem) =>
    open.some((now) => (!problem.code || now.code === problem.code) && (now.stepId ?? null) === (problem.stepId ?? null) && (now.edgeId ?? null) === (problem.edgeId ?? null)),
  );
}
