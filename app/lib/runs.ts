/**
 * Starting a run from the studio and following it live. startRun goes through the editor route's action
 * (server-side, so an expected refusal such as a 422 never shows up as a failed browser request); the
 * run's events then stream over graphql-ws.
 */
import { RUN_STATUSES, STEP_STATUSES, type RunStatus, type StepStatus } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiError, Result } from "./errors";
import { subscribe } from "./graphql.browser";
import { RUN_EVENTS, type RunSummary, type RunVersionChoice } from "./operations";
import { firstSighting, laterRunStatus, stepProgress } from "./run-event-order";

export const START_RUN_INTENT = "startRun";
export type StartRunResult = Result<{ startRun: RunSummary }>;

export interface RunState {
  runId: string | null;
  status: RunStatus | null;
  steps: Record<string, StepStatus>;
  starting: boolean;
  error: ApiError | null;
  /** Why live updates stopped early (the run itself may still be going). */
  streamError: string | null;
}

type Followed = Omit<RunState, "starting">;
const initial: Followed = { runId: null, status: null, steps: {}, error: null, streamError: null };
export const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);
const isStepStatus = (s: string): s is StepStatus => (STEP_STATUSES as readonly string[]).includes(s);

export function useRun(workflowId: string): { run: RunState; start(input: unknown, version?: RunVersionChoice, triggerStepId?: string): void } {
  const fetcher = useFetcher<StartRunResult>({ key: `start-run-${workflowId}` });
  const [run, setRun] = useState<Followed>(initial);
  const unsubscribe = useRef<(() => void) | null>(null);
  const handled = useRef<StartRunResult | undefined>(undefined);

  const stop = () => {
    unsubscribe.current?.();
    unsubscribe.current = null;
  };
  useEffect(() => stop, []);

  useEffect(() => {
    const result = fetcher.data;
    if (fetcher.state !== "idle" || !result || result === handled.current) return;
    handled.current = result;
    stop();
    if (!result.ok) {
      setRun({ ...initial, error: result.error });
      return;
    }
    const started = result.data.startRun;
    const steps: Record<string, StepStatus> = {};
    for (const step of started.steps) steps[step.stepId] = step.status;
    setRun({ ...initial, runId: started.id, status: started.status, steps });

    // runEvents replays the run from its start, then goes live; events may arrive out of seq order (run-event-order.ts).
    const unseen = firstSighting();
    unsubscribe.current = subscribe(RUN_EVENTS, { runId: started.id }, {
      next: ({ runEvents: event }) => {
        if (!unseen(event.seq)) return;
        setRun((current) => {
          if (current.runId !== event.runId) return current;
          if (event.type.startsWith("RUN_") && isRunStatus(event.status)) return { ...current, status: laterRunStatus(current.status, event.status) };
          if (event.stepId && event.type !== "STEP_CHUNK" && isStepStatus(event.status)) {
            const previous = current.steps[event.stepId];
            if (previous && stepProgress(previous) > stepProgress(event.status)) return current;
            return { ...current, steps: { ...current.steps, [event.stepId]: event.status } };
          }
          return current;
        });
      },
      error: (message) => setRun((current) => ({ ...current, streamError: message })),
    });
  }, [fetcher.state, fetcher.data]);

  const submit = fetcher.submit;
  const start = useCallback(
    (input: unknown, version?: RunVersionChoice, triggerStepId?: string) => {
      stop();
      setRun(initial);
      submit({ intent: START_RUN_INTENT, input: JSON.stringify(input), ...(version ? { version } : {}), ...(triggerStepId ? { triggerStepId } : {}) }, { method: "post" });
    },
    [submit],
  );

  return { run: { ...run, starting: fetcher.state !== "idle" }, start };
}

// ---------- how runs and their steps read in the runs list and the trace ----------

/**
 * The error the engine records on a step a cancel stopped (the open attempt, `failed`) or never started
 * (`skipped`): docs/run-engine.md R15, R32.
 */
export const CANCELED_STEP_ERROR = "Run canceled";

/** What a trace row shows: the ledger status, or what it means here — stopped by a cancel, or reused by a re-run. */
export type StepDisplayState = StepStatus | "canceled" | "reused";

/** A step attempt as the display rules need it. */
interface AttemptFacts {
  status: string;
  attempt: number;
  error: string | null;
  startedAt: string | null;
}

/** The run facts the display rules need: a re-run (retryRun, R21) and when it was queued. */
export interface RunFacts {
  retryOfRunId: string | null;
  createdAt: string;
}

/**
 * A re-run's copied row (R21): the earlier run's succeeded row, with that run's timing — so it started before
 * this run was even queued. It did not run here; its output was reused.
 */
export function isReusedAttempt(row: AttemptFacts, run: RunFacts): boolean {
  return !!run.retryOfRunId && row.status === "succeeded" && row.attempt === 1 && !!row.startedAt && Date.parse(row.startedAt) < Date.parse(run.createdAt);
}

export function stepDisplayState(row: AttemptFacts, run: RunFacts | null): StepDisplayState {
  if ((row.status === "failed" || row.status === "skipped") && row.error === CANCELED_STEP_ERROR) return "canceled";
  if (run && isReusedAttempt(row, run)) return "reused";
  return isStepStatus(row.status) ? row.status : "pending";
}

/**
 * A run's error with step names instead of ids: the engine writes `Step "<name>" (<id>) failed: …` (R8), or
 * `Step "<id>"` for a step without a name of its own; `names` (id → name) fills those in where it can.
 */
export function readableRunError(error: string, names: Record<string, string | undefined>): string {
  return error.replace(/Step "((?:[^"\\]|\\.)*)"(?: \(([^()\s]+)\))?/g, (whole, quoted: string, id: string | undefined) => {
    if (id) return `Step "${quoted}"`;
    const name = names[quoted];
    return name && name !== quoted ? `Step "${name}"` : whole;
  });
}

/**
 * The text cut to at most `max` characters at a word boundary, with an ellipsis; a single word longer than that
 * (a URL, an id) is cut inside it rather than dropped.
 */
export function truncateAtWord(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const room = flat.slice(0, max - 1);
  const lastSpace = room.lastIndexOf(" ");
  const cut = lastSpace >= max * 0.5 ? room.slice(0, lastSpace) : room;
  return `${cut.replace(/[\s,.;:–—-]+$/u, "")}…`;
}

// ---------- the runs list's filters, kept in the URL ----------

/** The runs list's filters as the URL's query string holds them (`?status=failed&from=2026-12-01&q=ada`). */
export interface RunListQuery {
  status: RunStatus | null;
  /** First day shown (YYYY-MM-DD, UTC), inclusive. */
  from: string | null;
  /** Last day shown (YYYY-MM-DD, UTC), inclusive. */
  to: string | null;
  /** A run id or text in the run's input. */
  q: string | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);

/**
 * The filters read from a URL, and the `runs` arguments they stand for. A malformed value is kept (so the form
 * shows what was asked) and passed on as given, so the API's message says what is wrong with it.
 */
export function readRunListQuery(url: URL): { query: RunListQuery; variables: { status?: RunStatus; createdAfter?: string; createdBefore?: string; search?: string }; problems: string[] } {
  const get = (name: string) => url.searchParams.get(name)?.trim() || null;
  const rawStatus = get("status");
  const query: RunListQuery = { status: null, from: get("from"), to: get("to"), q: get("q") };
  const problems: string[] = [];
  const variables: { status?: RunStatus; createdAfter?: string; createdBefore?: string; search?: string } = {};
  if (rawStatus) {
    if (isRunStatus(rawStatus)) query.status = variables.status = rawStatus;
    else problems.push(`Unknown status "${rawStatus}": choose one of ${RUN_STATUSES.join(", ")}`);
  }
  for (const [name, label] of [["from", "From"], ["to", "To"]] as const) {
    const day = query[name];
    if (day && (!DAY.test(day) || Number.isNaN(dayStart(day).getTime()))) problems.push(`${label} must be a date like 2026-12-01, not "${day}"`);
  }
  if (query.from && DAY.test(query.from)) variables.createdAfter = dayStart(query.from).toISOString();
  // "To" is a whole day: runs before the next midnight.
  if (query.to && DAY.test(query.to)) variables.createdBefore = new Date(dayStart(query.to).getTime() + 86_400_000).toISOString();
  if (query.q) variables.search = query.q;
  return { query, variables, problems };
}

/** Whether any filter is set (the list then says so, and the live stream does not prepend runs it cannot check). */
export const isFiltered = (query: RunListQuery) => !!(query.status || query.from || query.to || query.q);
