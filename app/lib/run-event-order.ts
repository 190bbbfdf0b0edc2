/**
 * Folding a run's event stream in the studio. runEvents replays the stored events, then goes live; the two overlap,
 * and two processes (a worker, a server canceling) may publish in another order than their rows were numbered, so
 * events can arrive with a lower seq than one already seen. Dropping those ("seq ≤ last seen") lost real events —
 * a child run's run.started, so its badge stayed "queued" while its step ran. The server dedupes by seq the same way.
 */
import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";

/** A filter that passes each seq once, in whatever order they arrive. */
export function firstSighting(): (seq: number) => boolean {
  const seen = new Set<number>();
  return (seq) => {
    if (seen.has(seq)) return false;
    seen.add(seq);
    return true;
  };
}

/**
 * Where a step attempt sits in its life (0 pending, 1 under way, 2 settled): an event only moves a row forward. A
 * waiting step (an approval, a child run) is under way: its bar grows until it settles.
 */
export const stepProgress = (status: string) => (status === "pending" ? 0 : status === "running" || status === "retrying" || status === "waiting" ? 1 : 2);

const runProgress = (status: RunStatus) => (status === "queued" ? 0 : FINAL_RUN_STATUSES.includes(status) ? 2 : 1);

/** A run's status after an event: it only moves forward, so a late run.started never takes a finished run back. */
export function laterRunStatus(current: RunStatus | null, next: RunStatus): RunStatus {
  return current !== null && runProgress(current) > runProgress(next) ? current : next;
}

/**
 * The run status a trace shows: the loader's once it is final (it read the stored row), else the later of the
 * loader's and the stream's, and never "queued" beside a step that has started — the loader reads a run's row and
 * its steps in separate statements, so one snapshot can hold a queued run whose first step already runs, before
 * the stream has caught up.
 */
export function shownRunStatus(loaded: RunStatus, live: RunStatus | null, steps: readonly { status: string }[]): RunStatus {
  if (FINAL_RUN_STATUSES.includes(loaded)) return loaded;
  const status = live === null ? loaded : laterRunStatus(loaded, live);
  return status === "queued" && steps.some((step) => stepProgress(step.status) > 0) ? "running" : status;
}
