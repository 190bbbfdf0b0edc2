import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useEffect, useMemo, useState } from "react";
import { TopBar } from "~/components/TopBar";
import { subscribe } from "~/lib/graphql.browser";
import { requireData } from "~/lib/graphql.server";
import { durationBetween, formatDuration, formatTime, useDebouncedRevalidate, useNow } from "~/lib/live";
import { ME, WORKFLOW_RUN_EVENTS, WORKFLOW_RUNS_PAGE, type RunListItem } from "~/lib/operations";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Runs of ${data?.workflow.name ?? "a workflow"} · Algorythmos Studio` }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const workflowId = params.id ?? "";
  const [page, { me }] = await Promise.all([
    requireData(context, request, WORKFLOW_RUNS_PAGE, { workflowId, first: 50 }),
    requireData(context, request, ME),
  ]);
  return { me: { id: me.id, name: me.name }, workflow: page.workflow, runs: page.runs.edges.map((e) => e.node), hasMore: page.runs.pageInfo.hasNextPage };
}

const ACTIVE = new Set(["queued", "running"]);

export default function WorkflowRuns() {
  const { me, workflow, runs, hasMore } = useLoaderData<typeof loader>();
  // Live: runs the loader has not seen yet (prepended) and newer statuses, until the next revalidation.
  const [live, setLive] = useState<Record<string, Partial<RunListItem> & { id: string }>>({});
  const [streamError, setStreamError] = useState<string | null>(null);
  const revalidate = useDebouncedRevalidate(300);

  useEffect(
    () =>
      subscribe(WORKFLOW_RUN_EVENTS, { workflowId: workflow.id }, {
        next: ({ workflowRuns: event }) => {
          if (!event.type.startsWith("RUN_")) return;
          setLive((current) => ({
            ...current,
            [event.runId]: {
              ...current[event.runId],
              id: event.runId,
              status: event.status as RunListItem["status"],
              ...(event.type === "RUN_QUEUED" ? { createdAt: event.at } : {}),
              ...(event.type === "RUN_STARTED" ? { startedAt: event.at } : {}),
              ...(event.type === "RUN_FINISHED" ? { finishedAt: event.at, error: event.error } : {}),
            },
          }));
          revalidate();
        },
        error: setStreamError,
      }),
    [workflow.id, revalidate],
  );

  const rows = useMemo(() => {
    const known = new Set(runs.map((r) => r.id));
    const fresh = Object.values(live)
      .filter((r) => !known.has(r.id))
      .map((r): RunListItem => ({ trigger: "…", createdAt: r.createdAt ?? new Date().toISOString(), startedAt: null, finishedAt: null, error: null, fromStepId: null, retryOfRunId: null, status: "queued", ...r }))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    // The loader's row wins unless the live event is newer (a status the loader has not caught up with).
    const merged = runs.map((r) => {
      const update = live[r.id];
      return update && ACTIVE.has(r.status) ? { ...r, ...update } : r;
    });
    return [...fresh, ...merged];
  }, [runs, live]);
  const now = useNow(rows.some((r) => ACTIVE.has(r.status)), 500);

  return (
    <>
      <TopBar name={me.name} workspaceId={workflow.workspaceId} />
      <main className="page wide">
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to="/workflows">Workflows</Link> / <Link to={`/workflows/${workflow.id}`}>{workflow.name}</Link> / Runs
        </nav>
        <div className="page-heading">
          <h1>Runs of {workflow.name}</h1>
          <Link className="button-link" to={`/workflows/${workflow.id}`}>
            Open the editor
          </Link>
        </div>
        {streamError ? (
          <p className="form-error" role="alert">
            Live updates stopped: {streamError}. Reload the page to see new runs.
          </p>
        ) : null}
        {rows.length === 0 ? (
          <p className="empty">No runs yet. Start one from the editor with the Run button; it will appear here live.</p>
        ) : (
          <table className="table" data-testid="runs-table">
            <caption className="visually-hidden">Runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((run) => (
                <tr key={run.id} data-testid={`run-row-${run.id}`}>
                  <td>
                    <Link to={`/runs/${run.id}`}>
                      <code>{run.id}</code>
                    </Link>
                    {run.retryOfRunId ? <span className="muted small"> re-run from {run.fromStepId}</span> : null}
                  </td>
                  <td>
                    <span className={`badge status-${run.status}`}>{run.status}</span>
                    {run.error ? <span className="muted small" title={run.error}> {run.error.slice(0, 60)}</span> : null}
                  </td>
                  <td>{run.trigger}</td>
                  <td>{formatTime(run.startedAt ?? run.createdAt)}</td>
                  <td>{formatDuration(durationBetween(run.startedAt, run.finishedAt, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {hasMore ? <p className="muted small">Showing the 50 newest runs.</p> : null}
      </main>
    </>
  );
}
