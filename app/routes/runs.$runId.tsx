import { FINAL_RUN_STATUSES } from "@algorythmos/domain";
import { redirect, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useMemo, useState } from "react";
import { JsonView } from "~/components/JsonView";
import { ApprovalInbox, RESUME_INTENT, type DecidedApproval, type WaitingApproval } from "~/components/trace/ApprovalInbox";
import { TopBar } from "~/components/TopBar";
import { CancelRunButton } from "~/components/trace/CancelRunButton";
import { loadChildTraces } from "~/components/trace/ChildRunTrace";
import { defaultSelection, namedTraceRows, useLiveRun } from "~/components/trace/live-trace";
import { StepDetail } from "~/components/trace/StepDetail";
import { capturedSteps } from "~/components/trace/captured";
import type { TraceActionResult } from "~/components/trace/types";
import { Waterfall } from "~/components/trace/Waterfall";
import { execute, requireData } from "~/lib/graphql.server";
import { durationBetween, formatDuration, formatTime, useDebouncedRevalidate, useNow } from "~/lib/live";
import { shownRunStatus } from "~/lib/run-event-order";
import { readableRunError } from "~/lib/runs";
import traceStyles from "~/styles/trace.css";
import { CANCEL_RUN, RESUME_RUN, RETRY_RUN, RUN_APPROVALS, RUN_DETAIL, RUN_FAMILY, RUN_VERSION, RUN_WORKFLOW, CHILD_RUN_TRACE, type RunApprovalInfo } from "~/lib/operations";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: traceStyles }];

/** The inbox's view of the run's approvals: waiting ones (no decision yet, while the run goes on) and decided ones. */
function inboxOf(approvals: RunApprovalInfo[], finished: boolean): { waiting: WaitingApproval[]; decided: DecidedApproval[] } {
  return {
    waiting: finished ? [] : approvals.filter((a) => a.decision === null).map((a) => ({ stepId: a.stepId, title: a.title, instructions: a.instructions, since: a.createdAt, expiresAt: a.expiresAt })),
    decided: approvals
      .filter((a) => a.decision !== null)
      .map((a) => ({ stepId: a.stepId, title: a.title, decision: a.decision!, comment: a.comment, decidedBy: a.decidedBy?.name ?? null, decidedVia: a.decidedVia })),
  };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Run ${data.run.id} (${data.run.status}) · ${data.workflow.name} · Algorythmos Studio` : "Run · Algorythmos Studio" },
];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const { run } = await requireData(context, request, RUN_DETAIL, { id: params.runId ?? "" });
  const [{ me, workflow }, version, approvals, family] = await Promise.all([
    requireData(context, request, RUN_WORKFLOW, { id: run.workflowId }),
    // Which version ran: left out (not guessed) when the API cannot say; likewise the approvals.
    execute(context, request, RUN_VERSION, { id: params.runId ?? "" }),
    execute(context, request, RUN_APPROVALS, { id: params.runId ?? "" }),
    execute(context, request, RUN_FAMILY, { id: params.runId ?? "" }),
  ]);
  const role = me.workspaces.find((w) => w.id === workflow.workspaceId)?.role ?? "viewer";
  // Names, types and configs as the run captured them: the workflow may have changed since.
  const { definition, ...rest } = run;
  const stepNames = capturedSteps(definition);
  // The child runs' waterfalls, nested under their call steps (a few levels deep; deeper ones are links).
  const childTraces = family.ok ? await loadChildTraces((id) => execute(context, request, CHILD_RUN_TRACE, { id }), family.data.run.childRuns) : [];
  return {
    me: { id: me.id, name: me.name },
    run: rest,
    workflow: { id: workflow.id, name: workflow.name, workspaceId: workflow.workspaceId },
    stepNames,
    canWrite: role !== "viewer",
    ranVersion: version.ok ? { known: true as const, version: version.data.run.version } : { known: false as const },
    approvals: approvals.ok ? approvals.data.run.approvals : [],
    family: family.ok ? family.data.run : null,
    childTraces,
  };
}

export async function action({ context, request, params }: ActionFunctionArgs): Promise<TraceActionResult | Response> {
  const form = await request.formData();
  const runId = params.runId ?? "";
  const intent = form.get("intent");
  if (intent === "cancel") {
    const result = await execute(context, request, CANCEL_RUN, { id: runId });
    return result.ok ? { ok: true, data: { message: `Run ${result.data.cancelRun.status}` } } : result;
  }
  if (intent === RESUME_INTENT) {
    const decision = form.get("decision") === "REJECT" ? "REJECT" : "APPROVE";
    const comment = String(form.get("comment") ?? "").trim();
    const rawData = String(form.get("data") ?? "").trim();
    let data: unknown;
    if (rawData) {
      try {
        data = JSON.parse(rawData);
      } catch {
        return { ok: false, error: { code: "BAD_USER_INPUT", message: "The data must be valid JSON", fields: { data: "Enter valid JSON, or leave it empty" }, problems: [] } };
      }
    }
    const result = await execute(context, request, RESUME_RUN, {
      input: { runId, stepId: String(form.get("stepId") ?? ""), decision, ...(comment ? { comment } : {}), ...(data === undefined ? {} : { data }) },
    });
    return result.ok ? { ok: true, data: { message: decision === "APPROVE" ? "Approved" : "Rejected" } } : result;
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

function RunTrace({ run, workflow, stepNames, canWrite, me, ranVersion, approvals, family, childTraces }: Data) {
  const revalidate = useDebouncedRevalidate(150);
  const { live, streamError } = useLiveRun(run.id, run.steps, run.status, revalidate);

  const { rows, names } = useMemo(
    () => namedTraceRows(run.steps, live.attempts, stepNames, { retryOfRunId: run.retryOfRunId, createdAt: run.createdAt }),
    [run.steps, live.attempts, stepNames, run.retryOfRunId, run.createdAt],
  );
  const status = shownRunStatus(run.status, live.status, rows);
  const finished = FINAL_RUN_STATUSES.includes(status);
  const now = useNow(!finished);
  const nameById = useMemo(() => Object.fromEntries(Object.entries(names).map(([id, step]) => [id, step.name])), [names]);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const selected = rows.find((r) => r.key === selectedKey) ?? defaultSelection(rows);
  const inbox = useMemo(() => inboxOf(approvals, finished), [approvals, finished]);

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
          {ranVersion.known ? (
            <div>
              <dt>Version</dt>
              <dd data-testid="run-version">{ranVersion.version ? `Published v${ranVersion.version.version}` : "Draft run"}</dd>
            </div>
          ) : null}
          <div>
            <dt>Created</dt>
            <dd>{formatTime(run.createdAt)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(durationBetween(run.startedAt, run.finishedAt, now))}</dd>
          </div>
          {family?.parentRun ? (
            <div>
              <dt>Started by</dt>
              <dd data-testid="parent-run">
                <Link to={`/runs/${encodeURIComponent(family.parentRun.id)}`}>{family.parentRun.id}</Link>
                {family.parentStepId ? ` (step ${family.parentStepId})` : ""}
              </dd>
            </div>
          ) : null}
          {run.retryOfRunId ? (
            <div>
              <dt>Re-run of</dt>
              <dd>
                <Link to={`/runs/${run.retryOfRunId}`}>{run.retryOfRunId}</Link> from step {names[run.fromStepId ?? ""]?.name ?? run.fromStepId}
              </dd>
            </div>
          ) : null}
        </dl>
        {run.error ? (
          // A cancel is someone's decision, not a failure: said plainly, not in red.
          <p className={status === "canceled" ? "run-note canceled" : "form-error"} role={status === "canceled" ? "status" : "alert"} data-testid="run-error">
            {readableRunError(run.error, nameById)}
          </p>
        ) : null}
        {streamError ? <p className="field-error">Live updates stopped: {streamError}</p> : null}
        <ApprovalInbox waiting={inbox.waiting} decided={inbox.decided} canDecide={canWrite} />
        {family?.childRuns.length ? (
          <section className="child-runs" aria-label="Child runs" data-testid="child-runs">
            <h2>Child runs</h2>
            <ul>
              {family.childRuns.map((child) => (
                <li key={child.id}>
                  <Link to={`/runs/${encodeURIComponent(child.id)}`}>{child.id}</Link>{" "}
                  <span className={`badge status-${child.status.toLowerCase()}`}>{child.status.toLowerCase()}</span>
                  {child.parentStepId ? <span className="muted"> · from {names[child.parentStepId]?.name ?? child.parentStepId}</span> : null}
                </li>
              ))}
            </ul>
          </section>
        ) : null}

        <div className="trace">
          <Waterfall
            rows={rows}
            run={run}
            stepNames={names}
            now={now}
            finished={finished}
            selectedKey={selected?.key ?? null}
            onSelect={setSelectedKey}
            childTraces={childTraces}
            onChildEvent={revalidate}
          />

          <section className="step-detail" aria-labelledby="step-detail-heading">
            {selected ? (
              <StepDetail
                key={selected.key}
                row={selected}
                name={names[selected.stepId]?.name ?? selected.stepId}
                streamed={live.chunks[selected.stepId] ?? null}
                config={names[selected.stepId]?.config}
                canRetry={canWrite && finished}
                rows={rows}
                chunks={live.chunks}
                reusedFrom={run.retryOfRunId}
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
