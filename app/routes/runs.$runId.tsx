import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { JsonView } from "~/components/JsonView";
import { TopBar } from "~/components/TopBar";
import { CancelRunButton } from "~/components/trace/CancelRunButton";
import { applyRunEvent, defaultSelection, initialLiveState, traceRows, type LiveState } from "~/components/trace/live-trace";
import { StepDetail } from "~/components/trace/StepDetail";
import type { CapturedStep, TraceActionResult } from "~/components/trace/types";
import { Waterfall } from "~/components/trace/Waterfall";
import { subscribe } from "~/lib/graphql.browser";
import { execute, requireData } from "~/lib/graphql.server";
import { durationBetween, formatDuration, formatTime, useDebouncedRevalidate, useNow } from "~/lib/live";
import { CANCEL_RUN, RETRY_RUN, RUN_DETAIL, RUN_EVENTS_LIVE, RUN_WORKFLOW } from "~/lib/operations";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Run ${data.run.id} (${data.run.status}) · ${data.workflow.name} · Algorythmos Studio` : "Run · Algorythmos Studio" },
];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const { run } = await requireData(context, request, RUN_DETAIL, { id: params.runId ?? "" });
  const { me, workflow } = await requireData(context, request, RUN_WORKFLOW, { id: run.workflowId });
  const role = me.workspaces.find((w) => w.id === workflow.workspaceId)?.role ?? "viewer";
  // Names, types and configs as the run captured them: the workflow may have changed since.
  const { definition, ...rest } = run;
  const stepNames: Record<string, CapturedStep> = {};
  for (const step of definition.steps ?? []) stepNames[step.id] = { name: step.name || step.id, type: step.type, config: step.config ?? {} };
  return { me: { id: me.id, name: me.name }, run: rest, workflow: { id: workflow.id, name: workflow.name, workspaceId: workflow.workspaceId }, stepNames, canWrite: role !== "viewer" };
}

export async function action({ context, request, params }: ActionFunctionArgs): Promise<TraceActionResult | Response> {
  const form = await request.formData();
  const runId = params.runId ?? "";
  const intent = form.get("intent");
  if (intent === "cancel") {
    const result = await execute(context, request, CANCEL_RUN, { id: runId });
    return result.ok ? { ok: true, data: { message: `Run ${result.data.cancelRun.status}` } } : result;
  }
  if (intent === "retry") {
    const fromStepId = String(form.get("fromStepId") ?? "");
    const rawInput = form.get("input");
    let input: unknown;
    if (typeof rawInput === "string" && rawInput.trim()) {
      try {
        input = JSON.parse(rawInput);
      } catch {
        return { ok: false, error: { code: "BAD_USER_INPUT", message: "The edited input must be valid JSON", fields: { input: "Enter valid JSON" }, problems: [] } };
      }
    }
    const result = await execute(context, request, RETRY_RUN, { input: { runId, fromStepId, ...(input === undefined ? {} : { input }) } });
    if (!result.ok) return result;
    return redirect(`/runs/${encodeURIComponent(result.data.retryRun.id)}`);
  }
  throw new Response("Unknown action", { status: 400 });
}

export default function RunRoute() {
  const data = useLoaderData<typeof loader>();
  // A re-run is another run: fresh live state.
  return <RunTrace key={data.run.id} {...data} />;
}

type Data = ReturnType<typeof useLoaderData<typeof loader>>;

function RunTrace({ run, workflow, stepNames, canWrite, me }: Data) {
  const [live, setLive] = useState<LiveState>(initialLiveState);
  const [streamError, setStreamError] = useState<string | null>(null);
  const revalidate = useDebouncedRevalidate(150);
  const lastSeq = useRef(-1);
  const finalRef = useRef(FINAL_RUN_STATUSES.includes(run.status));
  finalRef.current = FINAL_RUN_STATUSES.includes(run.status);
  // The latest attempt of each step the loader knows, for events that do not name their attempt.
  const loadedAttempts = useRef<Record<string, number>>({});
  loadedAttempts.current = {};
  for (const step of run.steps) loadedAttempts.current[step.stepId] = Math.max(loadedAttempts.current[step.stepId] ?? 0, step.attempt);

  useEffect(
    () =>
      subscribe(RUN_EVENTS_LIVE, { runId: run.id }, {
        next: ({ runEvents: event }) => {
          if (event.seq <= lastSeq.current) return;
          lastSeq.current = event.seq;
          setLive((current) => applyRunEvent(current, event, loadedAttempts.current));
          // The replay of a finished run needs no reloads: the page already shows its final state.
          if (event.type !== "STEP_CHUNK" && !finalRef.current) revalidate();
        },
        error: setStreamError,
        // The stream ends after the run finished; fetch the final state unless the page already has it.
        complete: () => {
          if (!finalRef.current) revalidate();
        },
      }),
    [run.id, revalidate],
  );

  // The loader is the source of truth; a live status shows only while the loader has not caught up.
  const status: RunStatus = live.status && !FINAL_RUN_STATUSES.includes(run.status) ? live.status : run.status;
  const finished = FINAL_RUN_STATUSES.includes(status);
  const now = useNow(!finished);

  const rows = useMemo(() => traceRows(run.steps, live.attempts, stepNames), [run.steps, live.attempts, stepNames]);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const selected = rows.find((r) => r.key === selectedKey) ?? defaultSelection(rows);

  return (
    <>
      <TopBar name={me.name} workspaceId={workflow.workspaceId} />
      <main className="page wide">
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to="/workflows">Workflows</Link> / <Link to={`/workflows/${workflow.id}`}>{workflow.name}</Link> /{" "}
          <Link to={`/workflows/${workflow.id}/runs`}>Runs</Link> / {run.id}
        </nav>
        <div className="page-heading">
          <h1>
            Run <code>{run.id}</code>{" "}
            <span className={`badge status-${status}`} data-testid="trace-run-status">
              {status}
            </span>
          </h1>
          {canWrite && !finished ? <CancelRunButton /> : null}
        </div>
        <dl className="facts">
          <div>
            <dt>Trigger</dt>
            <dd>{run.trigger}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatTime(run.createdAt)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(durationBetween(run.startedAt, run.finishedAt, now))}</dd>
          </div>
          {run.retryOfRunId ? (
            <div>
              <dt>Re-run of</dt>
              <dd>
                <Link to={`/runs/${run.retryOfRunId}`}>{run.retryOfRunId}</Link> from step {stepNames[run.fromStepId ?? ""]?.name ?? run.fromStepId}
              </dd>
            </div>
          ) : null}
        </dl>
        {run.error ? (
          <p className="form-error" role="alert">
            {run.error}
          </p>
        ) : null}
        {streamError ? <p className="field-error">Live updates stopped: {streamError}</p> : null}

        <div className="trace">
          <Waterfall
            rows={rows}
            run={run}
            stepNames={stepNames}
            now={now}
            finished={finished}
            selectedKey={selected?.key ?? null}
            onSelect={setSelectedKey}
          />

          <section className="step-detail" aria-labelledby="step-detail-heading">
            {selected ? (
              <StepDetail
                key={selected.key}
                row={selected}
                name={stepNames[selected.stepId]?.name ?? selected.stepId}
                streamed={live.chunks[selected.stepId] ?? null}
                config={stepNames[selected.stepId]?.config}
                canRetry={canWrite && finished}
              />
            ) : (
              <>
                <h2 id="step-detail-heading">Step</h2>
                <p className="muted">Select a step to see its input and output.</p>
              </>
            )}
          </section>
        </div>

        <div className="trace-io">
          <JsonView label="Run input" value={run.input} />
          <JsonView label="Run output" value={run.output} />
        </div>
      </main>
    </>
  );
}
