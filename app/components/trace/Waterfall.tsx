import { ChildTraceList, type ChildTrace } from "./ChildRunTrace";
import { BarCells, timeAxisOf } from "./TraceBars";
import type { CapturedStep, TraceRow } from "./types";

export type { TimeAxis } from "./TraceBars";

interface WaterfallProps {
  rows: TraceRow[];
  run: { createdAt: string; startedAt: string | null; finishedAt: string | null };
  stepNames: Record<string, CapturedStep>;
  /** The ticking clock (null before hydration): unfinished bars grow up to it. */
  now: number | null;
  finished: boolean;
  selectedKey: string | null;
  onSelect(key: string): void;
  /** The call steps' child runs, nested under their step's bar. */
  childTraces?: ChildTrace[];
  /** A nested child run's live event: the page reloads (debounced). */
  onChildEvent?(): void;
}

/** The step attempts on one time axis, from the run's start to its end (or now). */
export function Waterfall({ rows, run, stepNames, now, finished, selectedKey, onSelect, childTraces = [], onChildEvent = () => {} }: WaterfallProps) {
  const axis = timeAxisOf(rows, run, now);
  return (
    <section className="waterfall" aria-labelledby="waterfall-heading">
      <h2 id="waterfall-heading">Steps</h2>
      {rows.length === 0 ? (
        <p className="empty">{finished ? "No step ran." : "Waiting for the first step…"}</p>
      ) : (
        <ol className="waterfall-rows" data-testid="waterfall">
          {rows.map((row, index) => {
            const isSelected = selectedKey === row.key;
            // A re-attempted call step nests its child under its latest attempt.
            const isLastAttempt = !rows.slice(index + 1).some((r) => r.stepId === row.stepId);
            const children = isLastAttempt ? childTraces.filter((c) => c.parentStepId === row.stepId) : [];
            return (
              <li key={row.key}>
                <button
                  type="button"
                  className={`waterfall-row${isSelected ? " selected" : ""}`}
                  aria-pressed={isSelected}
                  onClick={() => onSelect(row.key)}
                  data-testid={`trace-step-${row.stepId}`}
                  data-status={row.status}
                  data-display={row.display}
                >
                  <BarCells row={row} name={stepNames[row.stepId]?.name ?? row.stepId} axis={axis} now={now} />
                </button>
                <ChildTraceList childTraces={children} depth={1} axis={axis} now={now} onEvent={onChildEvent} />
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
