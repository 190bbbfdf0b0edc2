/** One bar of a waterfall, shared by the run's own rows (Waterfall) and nested child runs (ChildRunTrace). */
import { durationBetween, formatDuration } from "~/lib/live";
import type { TraceRow } from "./types";

/** The time axis every bar of one page sits on, nested child runs included: its start and its length (ms). */
export interface TimeAxis {
  t0: number;
  total: number;
}

/** The time axis of these rows: from the run's start (or its first step's) to its end, or now. Reused rows ran in an earlier run: not on it. */
export function timeAxisOf(rows: TraceRow[], run: { createdAt: string; startedAt: string | null; finishedAt: string | null }, now: number | null): TimeAxis {
  const ran = rows.filter((r) => r.display !== "reused");
  const starts = ran.map((r) => r.startedAt).filter((t): t is string => !!t).map(Date.parse);
  const t0 = run.startedAt ? Date.parse(run.startedAt) : starts.length ? Math.min(...starts) : Date.parse(run.createdAt);
  const ends = ran.map((r) => (r.finishedAt ? Date.parse(r.finishedAt) : r.startedAt && now ? now : 0));
  const tEnd = Math.max(run.finishedAt ? Date.parse(run.finishedAt) : now ?? t0, ...ends, t0 + 1);
  return { t0, total: tEnd - t0 };
}

/** The badge's words for a row: what the status means here. */
export const DISPLAY_LABEL: Record<TraceRow["display"], string> = {
  pending: "pending",
  running: "running",
  retrying: "retrying",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  waiting: "waiting",
  canceled: "canceled",
  reused: "reused",
};

/** One bar's cells (name, status, bar, offset · duration), for the run's own rows and nested child rows alike. */
export function BarCells({ row, name, axis, now }: { row: TraceRow; name: string; axis: TimeAxis; now: number | null }) {
  const reused = row.display === "reused";
  const start = row.startedAt && !reused ? Date.parse(row.startedAt) - axis.t0 : null;
  const duration = reused ? null : durationBetween(row.startedAt, row.finishedAt, now);
  const left = start === null ? 0 : Math.min(Math.max((start / axis.total) * 100, 0), 100);
  // A minimum width keeps instant steps visible; a nested bar never runs past the axis.
  const width = duration === null ? 0 : Math.min(Math.max((duration / axis.total) * 100, 0.6), 100 - left);
  return (
    <>
      <span className="waterfall-label">
        <span className="waterfall-name" title={name}>
          {name}
        </span>
        <span className="muted small">
          {row.type}
          {row.attempt > 1 ? ` · attempt ${row.attempt}` : ""}
        </span>
      </span>
      <span className={`badge status-${row.display}`}>{DISPLAY_LABEL[row.display]}</span>
      {reused ? (
        // Not on this run's time axis: it ran in the earlier run, whose output this run took.
        <span className="waterfall-track reused" data-testid="reused-track">
          <span className="waterfall-reused-note">output reused from the earlier run</span>
        </span>
      ) : (
        <span className="waterfall-track" aria-hidden="true">
          {/* A step that never started (skipped, canceled first, pending) has no bar, not a stub at the start. */}
          {row.startedAt ? <span className={`waterfall-bar status-${row.display}`} style={{ left: `${left}%`, width: `${width}%` }} /> : null}
        </span>
      )}
      <span className="waterfall-time small muted">
        {reused ? `ran before · ${formatDuration(durationBetween(row.startedAt, row.finishedAt, now))}` : `${start === null ? "—" : `+${formatDuration(start)}`} · ${formatDuration(duration)}`}
      </span>
    </>
  );
}
