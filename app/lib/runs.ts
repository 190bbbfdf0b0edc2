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
import { RUN_EVENTS, type RunSummary } from "./operations";

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
const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);
const isStepStatus = (s: string): s is StepStatus => (STEP_STATUSES as readonly string[]).includes(s);

export function useRun(workflowId: string): { run: RunState; start(input: unknown): void } {
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

    // runEvents replays the run from its start, then goes live; seq orders them (gaps allowed).
    let lastSeq = -1;
    unsubscribe.current = subscribe(RUN_EVENTS, { runId: started.id }, {
      next: ({ runEvents: event }) => {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
        setRun((current) => {
          if (current.runId !== event.runId) return current;
          if (event.type.startsWith("RUN_") && isRunStatus(event.status)) return { ...current, status: event.status };
          if (event.stepId && event.type !== "STEP_CHUNK" && isStepStatus(event.status)) {
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
    (input: unknown) => {
      stop();
      setRun(initial);
      submit({ intent: START_RUN_INTENT, input: JSON.stringify(input) }, { method: "post" });
    },
    [submit],
  );

  return { run: { ...run, starting: fetcher.state !== "idle" }, start };
}
