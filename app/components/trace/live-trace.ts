/** The trace's live state: run events folded into step attempts, merged with the attempts the loader knows. */
import type { RunStatus } from "@algorythmos/domain";
import type { RunEventWithOutput, RunStepAttempt } from "~/lib/operations";
import type { CapturedStep, TraceRow } from "./types";

/** One step attempt as its events describe it ("stepId#attempt" keys). */
interface LiveAttempt {
  stepId: string;
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface LiveState {
  status: RunStatus | null;
  attempts: Record<string, LiveAttempt>;
  /** Streamed text of each step's latest attempt (STEP_CHUNK deltas, in order). */
  chunks: Record<string, string>;
}

export const initialLiveState: LiveState = { status: null, attempts: {}, chunks: {} };

/** Where a status sits in an attempt's life: an event only moves a row forward. */
const progress = (status: string) => (status === "pending" ? 0 : status === "running" ? 1 : 2);

/**
 * The live state after one event. `loadedAttempts` is the latest attempt of each step the loader knows, for
 * events that do not name their attempt.
 */
export function applyRunEvent(current: LiveState, event: RunEventWithOutput, loadedAttempts: Record<string, number>): LiveState {
  if (event.type === "STEP_CHUNK" && event.stepId) {
    const delta = event.output && typeof event.output === "object" ? (event.output as { delta?: unknown }).delta : undefined;
    if (typeof delta !== "string") return current;
    return { ...current, chunks: { ...current.chunks, [event.stepId]: (current.chunks[event.stepId] ?? "") + delta } };
  }
  if (event.type.startsWith("RUN_")) return { ...current, status: event.status as RunStatus };
  if (!event.stepId) return current;
  const stepId = event.stepId;
  const latestLive = Math.max(0, ...Object.values(current.attempts).filter((a) => a.stepId === stepId).map((a) => a.attempt));
  const attempt = event.attempt ?? (Math.max(latestLive, loadedAttempts[stepId] ?? 0) || 1);
  const key = `${stepId}#${attempt}`;
  const previous = current.attempts[key];
  const next: LiveAttempt = {
    stepId,
    attempt,
    status: previous && progress(previous.status) > progress(event.status) ? previous.status : event.status,
    startedAt: previous?.startedAt ?? event.at,
    finishedAt: progress(event.status) === 2 ? event.at : (previous?.finishedAt ?? null),
    error: event.error ?? previous?.error ?? null,
  };
  // A new attempt streams its own text.
  const chunks = event.type === "STEP_STARTED" && attempt > 1 ? { ...current.chunks, [stepId]: "" } : current.chunks;
  return { ...current, attempts: { ...current.attempts, [key]: next }, chunks };
}

/**
 * The loaded attempts, moved forward by the live events of the same attempt; attempts the loader has not
 * seen yet (a step just started, a retry) appear from their events alone. Sorted by start time.
 */
export function traceRows(steps: RunStepAttempt[], attempts: LiveState["attempts"], stepNames: Record<string, CapturedStep>): TraceRow[] {
  const rows: TraceRow[] = steps.map((s) => ({ ...s, key: s.id, live: false }));
  for (const event of Object.values(attempts)) {
    const known = rows.find((row) => row.stepId === event.stepId && row.attempt === event.attempt);
    if (!known) {
      rows.push({
        key: `live-${event.stepId}-${event.attempt}`,
        live: true,
        stepId: event.stepId,
        type: stepNames[event.stepId]?.type ?? "",
        attempt: event.attempt,
        status: event.status as TraceRow["status"],
        startedAt: event.startedAt,
        finishedAt: event.finishedAt,
        input: null,
        output: null,
        error: event.error,
      });
    } else if (progress(event.status) > progress(known.status)) {
      known.status = event.status as TraceRow["status"];
      known.finishedAt ??= event.finishedAt;
      known.error ??= event.error;
    }
  }
  const time = (r: TraceRow) => (r.startedAt ? Date.parse(r.startedAt) : Number.MAX_SAFE_INTEGER);
  return rows.sort((a, b) => time(a) - time(b) || a.attempt - b.attempt);
}

/** The step the detail pane shows when the user has not picked one: a failure, else what is running, else the last. */
export function defaultSelection(rows: TraceRow[]): TraceRow | null {
  return (
    rows.find((r) => r.status === "failed") ??
    [...rows].reverse().find((r) => r.status === "running" || r.status === "retrying") ??
    rows[rows.length - 1] ??
    null
  );
}
