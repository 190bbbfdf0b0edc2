import { FINAL_RUN_STATUSES, type RunStatus } from "@algorythmos/domain";
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { JsonView } from "~/components/JsonView";
import { TopBar } from "~/components/TopBar";
import type { Result } from "~/lib/errors";
import { subscribe } from "~/lib/graphql.browser";
import { execute, requireData } from "~/lib/graphql.server";
import { durationBetween, formatDuration, formatTime, useDebouncedRevalidate, useNow } from "~/lib/live";
import { CANCEL_RUN, RETRY_RUN, RUN_DETAIL, RUN_EVENTS_LIVE, RUN_WORKFLOW, type RunStepAttempt } from "~/lib/operations";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Run ${data.run.id} (${data.run.status}) · ${data.workflow.name} · Algorythmos Studio` : "Run · Algorythmos Studio" },
];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const { run } = await requireData(context, request, RUN_DETAIL, { id: params.runId ?? "" });
  const { me, workflow } = await requireData(context, request, RUN_WORKFLOW, { id: run.workflowId });
  const role = me.workspaces.find((w) => w.id === workflow.workspaceId)?.role ?? "viewer";
  // Names, types and configs as the run captured them: the workflow may have changed since.
  const { definition, ...rest } = run;
  const stepNames: Record<string, { name: string; type: string; config: unknown }> = {};
  for (const step of definition.steps ?? []) stepNames[step.id] = { name: step.name || step.id, type: step.type, config: step.config ?? {} };
  return { me: { id: me.id, name: me.name }, run: rest, workflow: { id: workflow.id, name: workflow.name, workspaceId: workflow.workspaceId }, stepNames, canWrite: role !== "viewer" };
}

type ActionResult = Result<{ message: string }>;

export async function action({ context, request, params }: ActionFunctionArgs): Promise<ActionResult | Response> {
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

/** One step attempt as its events describe it ("stepId#attempt" keys). */
interface LiveAttempt {
  stepId: string;
  attempt: number;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

interface LiveState {
  status: RunStatus | null;
  attempts: Record<string, LiveAttempt>;
  /** Streamed text of each step's latest attempt (STEP_CHUNK deltas, in order). */
  chunks: Record<string, string>;
}

/** Where a status sits in an attempt's life: an event only moves a row forward. */
const progress = (status: string) => (status === "pending" ? 0 : status === "running" ? 1 : 2);

interface Row extends Omit<RunStepAttempt, "id"> {
  key: string;
  live: boolean;
}

function usage(output: unknown): { prompt?: number; completion?: number; total?: number } | null {
  const raw = output && typeof output === "object" ? (output as { usage?: unknown }).usage : null;
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  return { prompt: num(u.prompt_tokens ?? u.promptTokens ?? u.input_tokens), completion: num(u.completion_tokens ?? u.completionTokens ?? u.output_tokens), total: num(u.total_tokens ?? u.totalTokens) };
}

function RunTrace({ run, workflow, stepNames, canWrite, me }: Data) {
  const [live, setLive] = useState<LiveState>({ status: null, attempts: {}, chunks: {} });
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
          setLive((current) => {
            if (event.type === "STEP_CHUNK" && event.stepId) {
              const delta = event.output && typeof event.output === "object" ? (event.output as { delta?: unknown }).delta : undefined;
              if (typeof delta !== "string") return current;
              return { ...current, chunks: { ...current.chunks, [event.stepId]: (current.chunks[event.stepId] ?? "") + delta } };
            }
            if (event.type.startsWith("RUN_")) return { ...current, status: event.status as RunStatus };
            if (!event.stepId) return current;
            const stepId = event.stepId;
            const latestLive = Math.max(0, ...Object.values(current.attempts).filter((a) => a.stepId === stepId).map((a) => a.attempt));
            const attempt = event.attempt ?? (Math.max(latestLive, loadedAttempts.current[stepId] ?? 0) || 1);
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
          });
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

  // The loaded attempts, moved forward by the live events of the same attempt; attempts the loader has not
  // seen yet (a step just started, a retry) appear from their events alone.
  const rows = useMemo(() => {
    const rows: Row[] = run.steps.map((s) => ({ ...s, key: s.id, live: false }));
    for (const event of Object.values(live.attempts)) {
      const known = rows.find((row) => row.stepId === event.stepId && row.attempt === event.attempt);
      if (!known) {
        rows.push({
          key: `live-${event.stepId}-${event.attempt}`,
          live: true,
          stepId: event.stepId,
          type: stepNames[event.stepId]?.type ?? "",
          attempt: event.attempt,
          status: event.status as Row["status"],
          startedAt: event.startedAt,
          finishedAt: event.finishedAt,
          input: null,
          output: null,
          error: event.error,
        });
      } else if (progress(event.status) > progress(known.status)) {
        known.status = event.status as Row["status"];
        known.finishedAt ??= event.finishedAt;
        known.error ??= event.error;
      }
    }
    const time = (r: Row) => (r.startedAt ? Date.parse(r.startedAt) : Number.MAX_SAFE_INTEGER);
    return rows.sort((a, b) => time(a) - time(b) || a.attempt - b.attempt);
  }, [run.steps, live.attempts, stepNames]);

  const starts = rows.map((r) => r.startedAt).filter((t): t is string => !!t).map(Date.parse);
  const t0 = run.startedAt ? Date.parse(run.startedAt) : starts.length ? Math.min(...starts) : Date.parse(run.createdAt);
  const ends = rows.map((r) => (r.finishedAt ? Date.parse(r.finishedAt) : r.startedAt && now ? now : 0));
  const tEnd = Math.max(run.finishedAt ? Date.parse(run.finishedAt) : now ?? t0, ...ends, t0 + 1);
  const total = tEnd - t0;

  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const selected =
    rows.find((r) => r.key === selectedKey) ??
    rows.find((r) => r.status === "failed") ??
    [...rows].reverse().find((r) => r.status === "running" || r.status === "retrying") ??
    rows[rows.length - 1] ??
    null;

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
          {canWrite && !finished ? <CancelButton /> : null}
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
          <section className="waterfall" aria-labelledby="waterfall-heading">
            <h2 id="waterfall-heading">Steps</h2>
            {rows.length === 0 ? (
              <p className="empty">{finished ? "No step ran." : "Waiting for the first step…"}</p>
            ) : (
              <ol className="waterfall-rows" data-testid="waterfall">
                {rows.map((row) => {
                  const start = row.startedAt ? Date.parse(row.startedAt) - t0 : null;
                  const duration = durationBetween(row.startedAt, row.finishedAt, now);
                  const left = start === null ? 0 : (start / total) * 100;
                  const width = duration === null ? 0 : Math.max((duration / total) * 100, 0.6);
                  const name = stepNames[row.stepId]?.name ?? row.stepId;
                  return (
                    <li key={row.key}>
                      <button
                        type="button"
                        className={`waterfall-row${selected?.key === row.key ? " selected" : ""}`}
                        aria-pressed={selected?.key === row.key}
                        onClick={() => setSelectedKey(row.key)}
                        data-testid={`trace-step-${row.stepId}`}
                        data-status={row.status}
                      >
                        <span className="waterfall-label">
                          <span className="waterfall-name">{name}</span>
                          <span className="muted small">
                            {row.type}
                            {row.attempt > 1 ? ` · attempt ${row.attempt}` : ""}
                          </span>
                        </span>
                        <span className={`badge status-${row.status}`}>{row.status}</span>
                        <span className="waterfall-track" aria-hidden="true">
                          <span className={`waterfall-bar status-${row.status}`} style={{ left: `${left}%`, width: `${width}%` }} />
                        </span>
                        <span className="waterfall-time small muted">
                          {start === null ? "—" : `+${formatDuration(start)}`} · {formatDuration(duration)}
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ol>
            )}
          </section>

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

function CancelButton() {
  const fetcher = useFetcher<ActionResult>();
  return (
    <fetcher.Form method="post" className="inline">
      <input type="hidden" name="intent" value="cancel" />
      <button type="submit" className="danger" disabled={fetcher.state !== "idle"}>
        {fetcher.state !== "idle" ? "Cancelling…" : "Cancel run"}
      </button>
      {fetcher.data && !fetcher.data.ok ? (
        <span className="field-error" role="alert">
          {fetcher.data.error.message}
        </span>
      ) : null}
    </fetcher.Form>
  );
}

function StepDetail({ row, name, config, streamed, canRetry }: { row: Row; name: string; config: unknown; streamed: string | null; canRetry: boolean }) {
  const tokens = usage(row.output);
  const outputText = row.output && typeof row.output === "object" ? (row.output as { content?: unknown }).content : undefined;
  const showStream = streamed !== null && (row.status === "running" || row.status === "retrying" || typeof outputText !== "string");
  return (
    <div data-testid="step-detail">
      <h2 id="step-detail-heading">
        {name} <span className={`badge status-${row.status}`}>{row.status}</span>
      </h2>
      <p className="muted small">
        {row.type} · attempt {row.attempt} · started {formatTime(row.startedAt)}
      </p>
      {row.error ? (
        <div className="form-error" role="alert">
          <p>{row.error}</p>
        </div>
      ) : null}
      {tokens ? (
        <dl className="facts tokens" aria-label="Token usage" data-testid="token-usage">
          <div>
            <dt>Prompt tokens</dt>
            <dd>{tokens.prompt ?? "—"}</dd>
          </div>
          <div>
            <dt>Completion tokens</dt>
            <dd>{tokens.completion ?? "—"}</dd>
          </div>
          <div>
            <dt>Total tokens</dt>
            <dd>{tokens.total ?? "—"}</dd>
          </div>
        </dl>
      ) : null}
      {showStream ? (
        <div className="streamed">
          <span className="label">Streamed text{row.status === "running" ? " (live)" : ""}</span>
          <pre aria-live="polite" data-testid="streamed-text">
            {streamed}
          </pre>
        </div>
      ) : null}
      {row.live ? <p className="muted small">Loading this step's input and output…</p> : null}
      <JsonView label="Input" value={row.input} />
      <JsonView label="Output" value={row.output} openDepth={2} />
      {canRetry && !row.live ? <RetryForm stepId={row.stepId} config={config} name={name} /> : null}
    </div>
  );
}

/** retryRun's optional input is the step's config for the re-run (validated like the step's config). */
function RetryForm({ stepId, config, name }: { stepId: string; config: unknown; name: string }) {
  // A navigation (not a fetcher): the action redirects to the new run, and live revalidations of this page
  // cannot interrupt a navigation the way they can a fetcher's redirect.
  const result = useActionData<typeof action>() as ActionResult | undefined;
  const navigation = useNavigation();
  const busy = navigation.state !== "idle" && navigation.formData?.get("intent") === "retry";
  const id = useId();
  const [editing, setEditing] = useState(false);
  const error = result && !result.ok && navigation.state === "idle" ? result.error : null;
  return (
    <Form method="post" className="retry-form card">
      <h3>Re-run from “{name}”</h3>
      <p className="muted small">Earlier steps keep their outputs; this step and everything after it run again.</p>
      <input type="hidden" name="intent" value="retry" />
      <input type="hidden" name="fromStepId" value={stepId} />
      <div className="field checkbox">
        <input id={`${id}-edit`} type="checkbox" checked={editing} onChange={(e) => setEditing(e.target.checked)} />
        <label htmlFor={`${id}-edit`}>Edit this step's config for the re-run</label>
      </div>
      {editing ? (
        <div className="field">
          <label htmlFor={`${id}-input`}>Step config (JSON)</label>
          <textarea
            id={`${id}-input`}
            name="input"
            className="mono"
            rows={6}
            defaultValue={JSON.stringify(config ?? {}, null, 2)}
            aria-invalid={error?.fields.input ? true : undefined}
          />
        </div>
      ) : null}
      {error ? (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Starting…" : "Re-run from here"}
      </button>
    </Form>
  );
}
