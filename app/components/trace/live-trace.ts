/** The trace's live state: run events folded into step attempts, merged with the attempts the loader knows. */
import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";
import { useEffect, useRef, useState } from "react";
import { subscribe } from "~/lib/graphql.browser";
import { firstSighting, laterRunStatus, stepProgress } from "~/lib/run-event-order";
import { stepDisplayState, type RunFacts } from "~/lib/runs";
import { RUN_EVENTS_LIVE, type RunEventWithOutput, type RunStepAttempt } from "~/lib/operations";
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
  if (event.type.startsWith("RUN_")) return { ...current, status: laterRunStatus(current.status, event.status as RunStatus) };
  if (!event.stepId) return current;
  const stepId = event.stepId;
  const latestLive = Math.max(0, ...Object.values(current.attempts).filter((a) => a.stepId === stepId).map((a) => a.attempt));
  const attempt = event.attempt ?? (Math.max(latestLive, loadedAttempts[stepId] ?? 0) || 1);
  const key = `${stepId}#${attempt}`;
  const previous = current.attempts[key];
  const next: LiveAttempt = {
    stepId,
    attempt,
    status: previous && stepProgress(previous.status) > stepProgress(event.status) ? previous.status : event.status,
    startedAt: previous?.startedAt ?? event.at,
    finishedAt: stepProgress(event.status) === 2 ? event.at : (previous?.finishedAt ?? null),
    error: event.error ?? previous?.error ?? null,
  };
  // A new attempt streams its own text.
  const chunks = event.type === "STEP_STARTED" && attempt > 1 ? { ...current.chunks, [stepId]: "" } : current.chunks;
  return { ...current, attempts: { ...current.attempts, [key]: next }, chunks };
}

/** The ledger's identity of an attempt (unique per run: `@@unique([runId, stepId, attempt])`). */
const attemptKey = (stepId: string, attempt: number) => `${stepId}#${attempt}`;

/**
 * The loaded attempts, moved forward by the live events of the same attempt; attempts the loader has not
 * seen yet (a step just started, a retry) appear from their events alone. Sorted by start time.
 */
export function traceRows(steps: RunStepAttempt[], attempts: LiveState["attempts"], stepNames: Record<string, CapturedStep>, run: RunFacts | null = null): TraceRow[] {
  // A row's key is its attempt's identity, the same before and after the loader catches up with the live events:
  // a key that changed then would remount the row and everything under it (a nested child run would fold).
  const rows: TraceRow[] = steps.map((s) => ({ ...s, key: attemptKey(s.stepId, s.attempt), live: false, display: s.status }));
  for (const event of Object.values(attempts)) {
    const known = rows.find((row) => row.stepId === event.stepId && row.attempt === event.attempt);
    if (!known) {
      rows.push({
        key: attemptKey(event.stepId, event.attempt),
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
        display: event.status as TraceRow["status"],
      });
    } else if (stepProgress(event.status) > stepProgress(known.status)) {
      known.status = event.status as TraceRow["status"];
      known.finishedAt ??= event.finishedAt;
      known.error ??= event.error;
    }
  }
  for (const row of rows) row.display = stepDisplayState(row, run);
  const time = (r: TraceRow) => (r.startedAt ? Date.parse(r.startedAt) : Number.MAX_SAFE_INTEGER);
  // Attempts that start in the same millisecond (a trigger and the step after it) keep the graph's order.
  const order = (r: TraceRow) => stepNames[r.stepId]?.order ?? Number.MAX_SAFE_INTEGER;
  return rows.sort((a, b) => time(a) - time(b) || order(a) - order(b) || a.attempt - b.attempt || a.stepId.localeCompare(b.stepId, undefined, { numeric: true }));
}

/** The step the detail pane shows when the user has not picked one: a failure, else what is running, else the last. */
export function defaultSelection(rows: TraceRow[]): TraceRow | null {
  return (
    rows.find((r) => r.display === "failed") ??
    rows.find((r) => r.display === "canceled" && r.startedAt) ??
    [...rows].reverse().find((r) => r.status === "running" || r.status === "retrying") ??
    rows[rows.length - 1] ??
    null
  );
}

/** The step attempts a loader knows, as the live state needs them (the trace reads no payloads from events). */
type KnownAttempt = Pick<RunStepAttempt, "stepId" | "attempt">;

/**
 * Follows one run's events (the parent's, or a nested child's): the live state folded from them, and the
 * stream's error. Each event past the loaded state calls `onEvent` (the page reloads its loader, debounced);
 * the replay of a finished run does not. With `replayFinished` false a run already final when the component
 * mounts is not followed at all (its loaded state is final): the nested child runs of a finished parent.
 */
export function useLiveRun(
  runId: string,
  steps: KnownAttempt[],
  runStatus: RunStatus,
  onEvent: () => void,
  { replayFinished = true }: { replayFinished?: boolean } = {},
): { live: LiveState; streamError: string | null } {
  const [live, setLive] = useState<LiveState>(initialLiveState);
  const [streamError, setStreamError] = useState<string | null>(null);
  const finalRef = useRef(FINAL_RUN_STATUSES.includes(runStatus));
  finalRef.current = FINAL_RUN_STATUSES.includes(runStatus);
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  // The latest attempt of each step the loader knows, for events that do not name their attempt.
  const loadedAttempts = useRef<Record<string, number>>({});
  loadedAttempts.current = {};
  for (const step of steps) loadedAttempts.current[step.stepId] = Math.max(loadedAttempts.current[step.stepId] ?? 0, step.attempt);
  const [follow] = useState(() => replayFinished || !FINAL_RUN_STATUSES.includes(runStatus));

  useEffect(() => {
    if (!follow) return undefined;
    const unseen = firstSighting();
    return subscribe(RUN_EVENTS_LIVE, { runId }, {
      next: ({ runEvents: event }) => {
        if (!unseen(event.seq)) return;
        setLive((current) => applyRunEvent(current, event, loadedAttempts.current));
        if (event.type !== "STEP_CHUNK" && !finalRef.current) onEventRef.current();
      },
      error: setStreamError,
      // The stream ends after the run finished; fetch the final state unless the page already has it.
      complete: () => {
        if (!finalRef.current) onEventRef.current();
      },
    });
  }, [runId, follow]);
  return { live, streamError };
}

/**
 * Names for sub-executions, after their step: a loop iteration `check@2` is "Check stock [2]", an agent's
 * `agent/tool-1` "Agent › tool-1" (ledger ids, docs/run-engine.md). Ids the run did not capture stay as they are.
 */
export function withSubStepNames(captured: Record<string, CapturedStep>, stepIds: string[]): Record<string, CapturedStep> {
  const names = { ...captured };
  for (const stepId of stepIds) {
    if (names[stepId]) continue;
    const baseId = stepId.split(/[@/]/)[0]!;
    const base = captured[baseId];
    if (!base) continue;
    const label = stepId.slice(baseId.length).replace(/@([\d.]+)/g, " [$1]").replace(/\//g, " › ");
    // An iteration runs its step's config; an agent's sub-step is not the agent (its config is the agent's).
    names[stepId] = { ...base, name: `${base.name}${label}`, ...(stepId.includes("/") ? { config: {} } : {}) };
  }
  return names;
}

/** The trace rows with their display names: loop iterations and agent sub-steps appear as the run goes (live events first). */
export function namedTraceRows(
  steps: RunStepAttempt[],
  attempts: LiveState["attempts"],
  stepNames: Record<string, CapturedStep>,
  run: RunFacts | null = null,
): { rows: TraceRow[]; names: Record<string, CapturedStep> } {
  const names = withSubStepNames(stepNames, traceRows(steps, attempts, stepNames).map((r) => r.stepId));
  return { rows: traceRows(steps, attempts, names, run), names };
}
