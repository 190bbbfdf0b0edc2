import { JsonView } from "~/components/JsonView";
import { formatDuration } from "~/lib/live";
import type { TraceRow } from "./types";

/** What a model sub-step records (docs/run-engine.md R41): tokens, cost and latency per call. */
interface ModelOutput {
  content?: string;
  model?: string;
  toolCalls?: { name: string }[];
  usage?: { promptTokens?: number; completionTokens?: number; costUsd?: number | null };
  latencyMs?: number;
}
interface ToolInput {
  name?: string;
  kind?: string;
}

export interface AgentCall {
  /** The sub-step's ledger id, e.g. `agent/tool-2`. */
  stepId: string;
  kind: "model" | "tool";
  n: number;
  /** Its latest attempt, and how many there were (a retried model call, an interrupted tool call). */
  row: TraceRow;
  attempts: number;
}

/** An agent's sub-steps (`<stepId>/model-<n>`, `<stepId>/tool-<n>`), latest attempt of each, in the order they started. */
export function agentCalls(stepId: string, rows: TraceRow[]): AgentCall[] {
  const pattern = new RegExp(`^${stepId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/(model|tool)-(\\d+)$`);
  const calls = new Map<string, AgentCall>();
  for (const row of rows) {
    const match = pattern.exec(row.stepId);
    if (!match) continue;
    const known = calls.get(row.stepId);
    if (!known || row.attempt > known.row.attempt) {
      calls.set(row.stepId, { stepId: row.stepId, kind: match[1] as "model" | "tool", n: Number(match[2]), row, attempts: Math.max(row.attempt, known?.attempts ?? 0) });
    }
  }
  const time = (call: AgentCall) => (call.row.startedAt ? Date.parse(call.row.startedAt) : Number.MAX_SAFE_INTEGER);
  return [...calls.values()].sort((a, b) => time(a) - time(b) || (a.kind === b.kind ? a.n - b.n : a.kind === "model" ? -1 : 1));
}

const usd = (value: number) => (value === 0 ? "$0" : value < 0.01 ? `$${value.toFixed(6)}` : `$${value.toFixed(4)}`);

function latency(row: TraceRow): number | null {
  const recorded = (row.output as { latencyMs?: unknown } | null)?.latencyMs;
  if (typeof recorded === "number") return recorded;
  if (row.startedAt && row.finishedAt) return Date.parse(row.finishedAt) - Date.parse(row.startedAt);
  return null;
}

/**
 * The nested timeline of an ai.agent step (R41, R42): each model call with its tokens, cost and latency (and
 * its text as it streams), each tool call with its name, arguments, result and latency; totals on top.
 */
export function AgentTimeline({ stepId, rows, chunks }: { stepId: string; rows: TraceRow[]; chunks: Record<string, string> }) {
  const calls = agentCalls(stepId, rows);
  if (!calls.length) return null;
  let promptTokens = 0;
  let completionTokens = 0;
  let cost = 0;
  for (const call of calls) {
    const usage = call.kind === "model" ? (call.row.output as ModelOutput | null)?.usage : undefined;
    promptTokens += usage?.promptTokens ?? 0;
    completionTokens += usage?.completionTokens ?? 0;
    cost += usage?.costUsd ?? 0;
  }
  return (
    <section className="agent-timeline" aria-label="Agent timeline" data-testid="agent-timeline">
      <h3>Agent timeline</h3>
      <p className="muted small" data-testid="agent-totals">
        {calls.filter((c) => c.kind === "model").length} model calls · {calls.filter((c) => c.kind === "tool").length} tool calls · {promptTokens} prompt +{" "}
        {completionTokens} completion tokens · {usd(cost)}
      </p>
      <ol className="agent-calls">
        {calls.map((call) => {
          const output = call.row.output as ModelOutput | null;
          const input = call.row.input as ToolInput | null;
          const ms = latency(call.row);
          const streamed = call.kind === "model" && call.row.status === "running" ? chunks[call.stepId] : undefined;
          const title =
            call.kind === "model"
              ? `Model call ${call.n}${output?.model ? ` (${output.model})` : ""}`
              : `Tool call ${call.n}: ${input?.name ?? "?"}${input?.kind ? ` (${input.kind})` : ""}`;
          return (
            <li key={call.stepId} className={`agent-call agent-call-${call.kind}`} data-testid="agent-call" data-step-id={call.stepId}>
              <details>
                <summary>
                  <span className={`badge status-${call.row.status}`}>{call.row.status}</span> {title}
                  {ms !== null ? <span className="muted small"> · {formatDuration(ms)}</span> : null}
                  {call.kind === "model" && output?.usage ? (
                    <span className="muted small" data-testid="agent-call-usage">
                      {" "}
                      · {output.usage.promptTokens ?? 0} + {output.usage.completionTokens ?? 0} tokens ·{" "}
                      {output.usage.costUsd === null || output.usage.costUsd === undefined ? "unpriced" : usd(output.usage.costUsd)}
                    </span>
                  ) : null}
                  {call.kind === "model" && output?.toolCalls?.length ? (
                    <span className="muted small"> · asks for {output.toolCalls.map((t) => t.name).join(", ")}</span>
                  ) : null}
                  {call.attempts > 1 ? <span className="muted small"> · attempt {call.attempts}</span> : null}
                </summary>
                {call.row.error ? <p className="field-error">{call.row.error}</p> : null}
                <JsonView label={`${call.stepId} input`} value={call.row.input} />
                <JsonView label={`${call.stepId} output`} value={call.row.output} />
              </details>
              {streamed ? (
                <pre aria-live="polite" className="streamed" data-testid="agent-streamed-text">
                  {streamed}
                </pre>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
