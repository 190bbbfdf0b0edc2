/** Starting a run from the studio and following it live over graphql-ws. */
import { RUN_STATUSES, STEP_STATUSES, type RunStatus, type StepStatus } from "@algorythmos/domain";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiError } from "./errors";
import { browserExecute, subscribe } from "./graphql.browser";
import { RUN_EVENTS, START_RUN } from "./operations";

export interface RunState {
  runId: string | null;
  status: RunStatus | null;
  steps: Record<string, StepStatus>;
  starting: boolean;
  error: ApiError | null;
  /** Why live updates stopped early (the run itself may still be going). */
  streamError: string | null;
}

const initial: RunState = { runId: null, status: null, steps: {}, starting: false, error: null, streamError: null };
const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);
const isStepStatus = (s: string): s is StepStatus => (STEP_STATUSES as readonly string[]).includes(s);

export function useRun(workflowId: string) {
  const [run, setRun] = useState<RunState>(initial);
  const unsubscribe = useRef<(() => void) | null>(null);

  const stop = () => {
    unsubscribe.current?.();
    unsubscribe.current = null;
  };
  useEffect(() => stop, []);
  useEffect(() => {
    stop();
    setRun(initial);
  }, [workflowId]);

  const start = useCallback(
    async (input: unknown) => {
      stop();
      setRun({ ...initial, starting: true });
      const result = await browserExecute(START_RUN, { input: { workflowId, input } });
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
    },
    [workflowId],
  );

  return { run, start };
}
