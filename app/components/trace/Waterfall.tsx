import { durationBetween, formatDuration } from "~/lib/live";
import type { CapturedStep, TraceRow } from "./types";

interface WaterfallProps {
  rows: TraceRow[];
  run: { createdAt: string; startedAt: string | null; finishedAt: string | null };
  stepNames: Record<string, CapturedStep>;
  /** The ticking clock (null before hydration): unfinished bars grow up to it. */
  now: number | null;
  finished: boolean;
  selectedKey: string | null;
  onSelect(key: string): void;
}

/** The step attempts on one time axis, from the run's start to its end (or now). */
export function Waterfall({ rows, run, stepNames, now, finished, selectedKey, onSelect }: WaterfallProps) {
  const starts = rows.map((r) => r.startedAt).filter((t): t is string => !!t).map(Date.parse);
  const t0 = run.startedAt ? Date.parse(run.startedAt) : starts.length ? Math.min(...starts) : Date.parse(run.createdAt);
  const ends = rows.map((r) => (r.finishedAt ? Date.parse(r.finishedAt) : r.startedAt && now ? now : 0));
  const tEnd = Math.max(run.finishedAt ? Date.parse(run.finishedAt) : now ?? t0, ...ends, t0 + 1);
  const total = tEnd - t0;
  return (
    <section className="waterfall" aria-labelledby="waterfall-heading">
      <h2 id="waterfall-heading">Steps</h2>
      {rows.length === 0 ? (
        <p className="empty">{finished ? "No step ran." : "Waiting for the first step…"}</p>
      ) : (
        <ol className="waterfall-rows" data-testid="waterfall">
          {rows.map((row) => {
            const start = row.startedAt ? Date.parse(row.startedAt) - t0 : null;
            const duration = durationBetween(row.startedAt, row.finishedAt, now);
            const left = start === null ? 0 : (start / total) * 100;
            // A minimum width keeps instant steps visible.
            const width = duration === null ? 0 : Math.max((duration / total) * 100, 0.6);
            const name = stepNames[row.stepId]?.name ?? row.stepId;
            const isSelected = selectedKey === row.key;
            return (
              <li key={row.key}>
                <button
                  type="button"
                  className={`waterfall-row${isSelected ? " selected" : ""}`}
                  aria-pressed={isSelected}
                  onClick={() => onSelect(row.key)}
                  data-testid={`trace-step-${row.stepId}`}
                  data-status={row.status}
                >
                  <span className="waterfall-label">
                    <span className="waterfall-name">{name}</span>
                    <span className="muted small">
                      {row.type}
                      {row.attempt > 1 ? ` · attempt ${row.attempt}` : ""}
                    </span>
                  </span>
                  <span className={`badge status-${row.status}`}>{row.status}</span>
                  <span className="waterfall-track" aria-hidden="true">
                    <span className={`waterfall-bar status-${row.status}`} style={{ left: `${left}%`, width: `${width}%` }} />
                  </span>
                  <span className="waterfall-time small muted">
                    {start === null ? "—" : `+${formatDuration(start)}`} · {formatDuration(duration)}
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
