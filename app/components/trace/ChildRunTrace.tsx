/**
 * A workflow.call step's child run, nested under the step's bar in the parent's waterfall (#15): the child's
 * steps as indented bars on the parent's time axis, live while the child runs (its own run events, followed
 * like the parent's), its status, and a link to its page. A grandchild nests one level further, up to
 * MAX_NESTED_DEPTH levels; deeper runs (and any past MAX_CHILD_TRACES on one page) show as links only.
 */
import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";
import { Link } from "@remix-run/react";
import { useMemo, useState } from "react";
import type { Result } from "~/lib/errors";
import { shownRunStatus } from "~/lib/run-event-order";
import type { ChildRunTraceData, RunFamilyData, RunStepAttempt } from "~/lib/operations";
import { namedTraceRows, useLiveRun } from "./live-trace";
import { capturedSteps } from "./captured";
import type { CapturedStep } from "./types";
import { BarCells, type TimeAxis } from "./TraceBars";

/** How many levels of child runs one page nests (child, grandchild, great-grandchild); deeper ones are links. */
export const MAX_NESTED_DEPTH = 3;
/** How many child runs one page loads in all (a loop of calls can start hundreds); the rest are links. */
export const MAX_CHILD_TRACES = 20;

/** A child run under its call step; `trace` is null when it is shown as a link only (too deep, too many, not readable). */
export interface ChildTrace {
  id: string;
  status: RunStatus;
  parentStepId: string;
  trace: {
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    error: string | null;
    steps: RunStepAttempt[];
    stepNames: Record<string, CapturedStep>;
    children: ChildTrace[];
  } | null;
}

type ChildRef = RunFamilyData["run"]["childRuns"][number];

/**
 * The call steps' child runs of one run, loaded level by level for its page's loader. Runs started without a
 * step (an error workflow's run) are not under any bar: the page lists them as links.
 */
export async function loadChildTraces(
  load: (id: string) => Promise<Result<ChildRunTraceData>>,
  childRuns: ChildRef[],
  depth = 1,
  budget = { left: MAX_CHILD_TRACES },
): Promise<ChildTrace[]> {
  const called = childRuns.filter((c): c is ChildRef & { parentStepId: string } => !!c.parentStepId);
  return Promise.all(
    called.map(async (child): Promise<ChildTrace> => {
      const ref = { id: child.id, status: child.status as RunStatus, parentStepId: child.parentStepId, trace: null };
      if (depth > MAX_NESTED_DEPTH || budget.left <= 0) return ref;
      budget.left -= 1;
      const result = await load(child.id);
      if (!result.ok) return ref;
      const { run } = result.data;
      const stepNames = capturedSteps(run.definition);
      return {
        ...ref,
        status: run.status as RunStatus,
        trace: {
          createdAt: run.createdAt,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          error: run.error,
          // The nested rows show no payloads: the child's own page does.
          steps: run.steps.map((s) => ({ ...s, status: s.status as RunStepAttempt["status"], input: null, output: null })),
          stepNames,
          children: await loadChildTraces(load, run.childRuns, depth + 1, budget),
        },
      };
    }),
  );
}

interface NestedProps {
  axis: TimeAxis;
  now: number | null;
  /** Called on each live event of a nested run: the page reloads its loader (debounced). */
  onEvent(): void;
}

/** The child runs started by one call step (a step inside a loop may start one per iteration, each its own row id). */
export function ChildTraceList({ childTraces, depth, ...nested }: NestedProps & { childTraces: ChildTrace[]; depth: number }) {
  if (!childTraces.length) return null;
  return (
    <ul className="child-trace-list" style={{ ["--child-depth" as string]: depth }}>
      {childTraces.map((child) => (
        <ChildRunTrace key={child.id} child={child} depth={depth} {...nested} />
      ))}
    </ul>
  );
}

function ChildRunTrace({ child, depth, axis, now, onEvent }: NestedProps & { child: ChildTrace; depth: number }) {
  const href = `/runs/${encodeURIComponent(child.id)}`;
  if (!child.trace) {
    return (
      <li className="child-trace link-only" data-testid={`child-trace-${child.id}`} data-status={child.status}>
        <span className="child-trace-heading">
          <span className="muted small">Child run</span> <Link to={href}>{child.id}</Link>{" "}
          <span className={`badge status-${child.status}`}>{child.status}</span>
          <span className="muted small"> · open it to see its steps</span>
        </span>
      </li>
    );
  }
  return <LoadedChildRunTrace child={child as ChildTrace & { trace: NonNullable<ChildTrace["trace"]> }} depth={depth} axis={axis} now={now} onEvent={onEvent} href={href} />;
}

function LoadedChildRunTrace({ child, depth, axis, now, onEvent, href }: NestedProps & { child: ChildTrace & { trace: NonNullable<ChildTrace["trace"]> }; depth: number; href: string }) {
  const { trace } = child;
  // A child already final when the page loads has nothing to stream: a loop of calls would open a stream per child.
  const { live, streamError } = useLiveRun(child.id, trace.steps, child.status, onEvent, { replayFinished: false });
  // Open while the child runs; a finished child starts folded (the user's choice then stays).
  const [expanded, setExpanded] = useState(!FINAL_RUN_STATUSES.includes(child.status));
  const { rows, names } = useMemo(() => namedTraceRows(trace.steps, live.attempts, trace.stepNames), [trace.steps, live.attempts, trace.stepNames]);
  const status = shownRunStatus(child.status, live.status, rows);
  const bodyId = `child-trace-body-${child.id}`;
  return (
    <li className="child-trace" data-testid={`child-trace-${child.id}`} data-status={status}>
      <span className="child-trace-heading">
        <button type="button" className="child-trace-toggle" aria-expanded={expanded} aria-controls={bodyId} onClick={() => setExpanded((open) => !open)}>
          <span aria-hidden="true">{expanded ? "▾" : "▸"}</span> Child run <code>{child.id}</code>
        </button>{" "}
        <span className={`badge status-${status}`} data-testid="child-trace-status">
          {status}
        </span>{" "}
        <span className="muted small">
          {rows.length} step{rows.length === 1 ? "" : "s"} ·{" "}
        </span>
        <Link to={href} className="small">
          Open child run
        </Link>
      </span>
      {streamError ? <span className="field-error small"> Live updates stopped: {streamError}</span> : null}
      {expanded ? (
        <ol className="waterfall-rows child-trace-rows" id={bodyId}>
          {rows.length === 0 ? <li className="muted small child-trace-empty">Waiting for the first step…</li> : null}
          {rows.map((row, index) => {
            const isLastAttempt = !rows.slice(index + 1).some((r) => r.stepId === row.stepId);
            const grandchildren = isLastAttempt ? trace.children.filter((c) => c.parentStepId === row.stepId) : [];
            return (
              <li key={row.key}>
                <div className="waterfall-row nested" data-testid={`child-step-${row.stepId}`} data-status={row.status} data-display={row.display} title={row.error ?? undefined}>
                  <BarCells row={row} name={names[row.stepId]?.name ?? row.stepId} axis={axis} now={now} />
                </div>
                <ChildTraceList childTraces={grandchildren} depth={depth + 1} axis={axis} now={now} onEvent={onEvent} />
              </li>
            );
          })}
        </ol>
      ) : null}
    </li>
  );
}
