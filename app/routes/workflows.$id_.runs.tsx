import { RUN_STATUSES } from "@algorythmos/domain";
import { json, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useId, useMemo, useState } from "react";
import { TopBar } from "~/components/TopBar";
import { ErrorText } from "~/components/trace/ErrorText";
import traceStyles from "~/styles/trace.css";
import { subscribe } from "~/lib/graphql.browser";
import { execute, requireData } from "~/lib/graphql.server";
import { durationBetween, formatDuration, formatTime, useDebouncedRevalidate, useNow } from "~/lib/live";
import { ME, RUN_WORKFLOW, WORKFLOW_RUN_EVENTS, WORKFLOW_RUNS_PAGE, type CapturedDefinition, type RunListItem } from "~/lib/operations";
import { isFiltered, readableRunError, readRunListQuery, type RunListQuery } from "~/lib/runs";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: traceStyles }];

const PAGE_SIZE = 50;

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `Runs of ${data?.workflow.name ?? "a workflow"} · Algorythmos Studio` }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const workflowId = params.id ?? "";
  const url = new URL(request.url);
  const { query, variables, problems } = readRunListQuery(url);
  const after = url.searchParams.get("after") || undefined;
  const { me, workflow } = await requireData(context, request, RUN_WORKFLOW, { id: workflowId }); // 404 for outsiders
  const base = { me: { id: me.id, name: me.name }, workflow: { id: workflow.id, name: workflow.name, workspaceId: workflow.workspaceId }, query, paged: !!after };
  const refused = (message: string) => json({ ...base, runs: [] as RunListItem[], stepNames: {} as Record<string, string>, endCursor: null as string | null, hasMore: false, filterError: message }, { status: 400 });
  // Filters the page cannot read are a 400 with what to fix, like the API's own answer for them.
  if (problems.length) return refused(problems.join(". "));
  const page = await execute(context, request, WORKFLOW_RUNS_PAGE, { workflowId, first: PAGE_SIZE, ...variables, ...(after ? { after } : {}) });
  if (!page.ok) {
    if (page.error.code === "BAD_USER_INPUT") return refused(page.error.message);
    await requireData(context, request, WORKFLOW_RUNS_PAGE, { workflowId, first: 1 }); // the error boundary's 403/404/500
    throw new Response(page.error.message, { status: 500 });
  }
  // Step names as the workflow has them now (each run's own page shows the names it captured).
  const stepNames: Record<string, string> = {};
  for (const step of (page.data.workflow.definition as CapturedDefinition).steps ?? []) if (step.name) stepNames[step.id] = step.name;
  return json({
    ...base,
    runs: page.data.runs.edges.map((e) => e.node),
    stepNames,
    endCursor: page.data.runs.pageInfo.endCursor ?? null,
    hasMore: page.data.runs.pageInfo.hasNextPage,
    filterError: null as string | null,
  });
}

const ACTIVE = new Set(["queued", "running"]);

export default function WorkflowRuns() {
  const { me, workflow, runs, hasMore, endCursor, stepNames, query, paged, filterError } = useLoaderData<typeof loader>();
  const filtered = isFiltered(query);
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
    // A new run may not match the filters (or belong on a later page): the revalidation brings it if it does.
    const fresh = filtered || paged ? [] : Object.values(live)
      .filter((r) => !known.has(r.id))
      .map((r): RunListItem => ({ trigger: "…", createdAt: r.createdAt ?? new Date().toISOString(), startedAt: null, finishedAt: null, error: null, fromStepId: null, retryOfRunId: null, status: "queued", ...r }))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    // The loader's row wins unless the live event is newer (a status the loader has not caught up with).
    const merged = runs.map((r) => {
      const update = live[r.id];
      return update && ACTIVE.has(r.status) ? { ...r, ...update } : r;
    });
    return [...fresh, ...merged];
  }, [runs, live, filtered, paged]);
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
        {/* Keyed by the filters: after a navigation (back, a shared link) the inputs show the URL's values. */}
        <RunFilters key={pageLink(query, null)} query={query} workflowId={workflow.id} error={filterError} />
        {filterError ? null : rows.length === 0 ? (
          filtered ? (
            <p className="empty" data-testid="runs-empty">
              No runs match these filters. <Link to={`/workflows/${workflow.id}/runs`}>Show every run</Link>
            </p>
          ) : (
            <p className="empty" data-testid="runs-none">
              No runs yet. Start one from the editor with the Run button; it will appear here live.{" "}
              <Link to={`/workflows/${workflow.id}`}>Open the editor to run it</Link>
            </p>
          )
        ) : (
          <table className="table runs-table" data-testid="runs-table">
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
                    {run.retryOfRunId ? (
                      <span className="muted small run-rerun" data-testid="run-rerun">
                        re-run from {run.fromStepId ? stepNames[run.fromStepId] ?? run.fromStepId : "a step"}
                      </span>
                    ) : null}
                  </td>
                  <td className="run-status-cell">
                    <span className={`badge status-${run.status}`}>{run.status}</span>
                    {run.error ? <ErrorText text={readableRunError(run.error, stepNames)} max={70} /> : null}
                  </td>
                  <td>{run.trigger}</td>
                  <td>{formatTime(run.startedAt ?? run.createdAt)}</td>
                  <td>{formatDuration(durationBetween(run.startedAt, run.finishedAt, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {paged || hasMore ? (
          <nav className="pager" aria-label="Pages of runs">
            {paged ? <Link to={pageLink(query, null)}>Newest runs</Link> : null}
            {hasMore && endCursor ? <Link to={pageLink(query, endCursor)}>Older runs</Link> : null}
            <span className="muted small">{PAGE_SIZE} runs a page</span>
          </nav>
        ) : null}
      </main>
    </>
  );
}

/** The list's URL with these filters and page (filters live in the URL, so a filtered list can be shared). */
function pageLink(query: RunListQuery, after: string | null): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  if (after) params.set("after", after);
  const search = params.toString();
  return search ? `?${search}` : ".";
}

/** Status, dates and search, sent as a GET form: the URL holds them (shareable, back and forward work). */
function RunFilters({ query, workflowId, error }: { query: RunListQuery; workflowId: string; error: string | null }) {
  const id = useId();
  const navigation = useNavigation();
  const searching = navigation.state === "loading" && navigation.location?.pathname === `/workflows/${workflowId}/runs`;
  return (
    <Form method="get" className="run-filters" role="search" aria-label="Filter runs" data-testid="run-filters">
      <div className="field search">
        <label htmlFor={`${id}-q`}>Search</label>
        <input id={`${id}-q`} type="search" name="q" defaultValue={query.q ?? ""} placeholder="Run id, or text in the run's input" maxLength={200} />
      </div>
      <div className="field status">
        <label htmlFor={`${id}-status`}>Status</label>
        <select id={`${id}-status`} name="status" defaultValue={query.status ?? ""}>
          <option value="">Any status</option>
          {RUN_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-from`}>From (UTC)</label>
        <input id={`${id}-from`} type="date" name="from" defaultValue={query.from ?? ""} aria-invalid={error && /from/i.test(error) ? true : undefined} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To (UTC)</label>
        <input id={`${id}-to`} type="date" name="to" defaultValue={query.to ?? ""} aria-invalid={error && /\bto\b/i.test(error) ? true : undefined} />
      </div>
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={searching}>
          {searching ? "Filtering…" : "Filter"}
        </button>
        {isFiltered(query) ? <Link to={`/workflows/${workflowId}/runs`}>Clear filters</Link> : null}
      </div>
      {error ? (
        <p className="form-error hint" role="alert" data-testid="run-filters-error">
          {error}
        </p>
      ) : null}
    </Form>
  );
}
