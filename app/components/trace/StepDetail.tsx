import { Link } from "@remix-run/react";
import { JsonView } from "~/components/JsonView";
import { formatTime } from "~/lib/live";
import { AgentTimeline } from "./AgentTimeline";
import { RetryForm } from "./RetryForm";
import { DISPLAY_LABEL } from "./TraceBars";
import type { TraceRow } from "./types";

/** Token counts from an LLM step's output, whichever naming its provider uses. */
function tokenUsage(output: unknown): { prompt?: number; completion?: number; total?: number } | null {
  const raw = output && typeof output === "object" ? (output as { usage?: unknown }).usage : null;
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  return { prompt: num(u.prompt_tokens ?? u.promptTokens ?? u.input_tokens), completion: num(u.completion_tokens ?? u.completionTokens ?? u.output_tokens), total: num(u.total_tokens ?? u.totalTokens) };
}

interface StepDetailProps {
  row: TraceRow;
  name: string;
  /** The step's config as the run captured it (the re-run form's starting point). */
  config: unknown;
  /** Text streamed live for the step's latest attempt, if any. */
  streamed: string | null;
  canRetry: boolean;
  /** Every row of the trace and the live text by ledger id: an ai.agent shows its sub-steps (AgentTimeline). */
  rows?: TraceRow[];
  chunks?: Record<string, string>;
  /** For a re-run: the run whose outputs it reused (a reused row links there). */
  reusedFrom?: string | null;
}

/** One step attempt: its status, error, token usage, streamed text, input and output, and the re-run form. */
export function StepDetail({ row, name, config, streamed, canRetry, rows, chunks, reusedFrom = null }: StepDetailProps) {
  const tokens = tokenUsage(row.output);
  const outputText = row.output && typeof row.output === "object" ? (row.output as { content?: unknown }).content : undefined;
  // The streamed text stands in for the output's content until the output has it.
  const showStream = streamed !== null && (row.status === "running" || row.status === "retrying" || typeof outputText !== "string");
  return (
    <div data-testid="step-detail">
      <h2 id="step-detail-heading">
        {name}{" "}
        <span className={`badge status-${row.display}`} data-testid="step-detail-status">
          {DISPLAY_LABEL[row.display]}
        </span>
        {/* R47: a draft run took the pinned output instead of running the step (its row's input says so). */}
        {(row.input as { pinned?: unknown } | null)?.pinned === true ? (
          <span className="badge pinned" data-testid="step-pinned">
            pinned
          </span>
        ) : null}
      </h2>
      <p className="muted small">
        {row.type} · attempt {row.attempt} · {row.display === "reused" ? "ran" : "started"} {formatTime(row.startedAt)}
      </p>
      {row.display === "reused" ? (
        <p className="step-note reused" data-testid="step-reused-note">
          Not run again: this re-run reused the output of{" "}
          {reusedFrom ? <Link to={`/runs/${encodeURIComponent(reusedFrom)}`}>the earlier run</Link> : "the earlier run"}, shown below.
        </p>
      ) : row.display === "canceled" ? (
        <p className="step-note canceled" data-testid="step-canceled-note">
          {row.startedAt ? "Stopped when the run was canceled." : "Never started: the run was canceled first."}
        </p>
      ) : row.error ? (
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
      {row.type === "ai.agent" && rows ? <AgentTimeline stepId={row.stepId} rows={rows} chunks={chunks ?? {}} /> : null}
      {row.live ? <p className="muted small">Loading this step's input and output…</p> : null}
      <JsonView label="Input" value={row.input} />
      <JsonView label="Output" value={row.output} openDepth={2} />
      {canRetry && !row.live ? <RetryForm stepId={row.stepId} config={config} name={name} /> : null}
    </div>
  );
}
