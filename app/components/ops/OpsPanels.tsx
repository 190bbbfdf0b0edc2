import { Link, useFetcher } from "@remix-run/react";
import { useState } from "react";
import { ErrorText } from "~/components/trace/ErrorText";
import { formatTime } from "~/lib/live";
import { readableRunError } from "~/lib/runs";
import type { CollabRoom, QueueFigures, TroubledRun } from "./operations";

export type BulkOutcome = { ok: true; message: string; failures: { runId: string; message: string }[] } | { ok: false; message: string };

/** Every queue's job counts and live workers (cluster-wide figures). */
export function QueuesPanel({ queues }: { queues: QueueFigures[] }) {
  return (
    <section className="card" aria-labelledby="queues-heading">
      <h2 id="queues-heading">Queues</h2>
      <p className="muted small">All workspaces' jobs on this deployment; workers are the live worker connections per queue.</p>
      <table className="table" aria-label="Queues">
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col">Waiting</th>
            <th scope="col">Active</th>
            <th scope="col">Delayed</th>
            <th scope="col">Failed</th>
            <th scope="col">Workers alive</th>
          </tr>
        </thead>
        <tbody>
          {queues.map((queue) => (
            <tr key={queue.name} data-queue={queue.name}>
              <th scope="row">{queue.name}</th>
              <td>{queue.waiting}</td>
              <td>{queue.active}</td>
              <td>{queue.delayed}</td>
              <td>{queue.failed}</td>
              <td>
                <span className={`badge ${queue.workers > 0 ? "status-succeeded" : "status-failed"}`}>{queue.workers}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The workspace's failed, canceled and stuck runs, with bulk retry and cancel. */
export function TroubledRunsPanel({ runs }: { runs: TroubledRun[] }) {
  const bulk = useFetcher<BulkOutcome>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allSelected = runs.length > 0 && runs.every((entry) => selected.has(entry.run.id));
  const busy = bulk.state !== "idle";
  return (
    <section className="card" aria-labelledby="runs-heading">
      <h2 id="runs-heading">Failed and stuck runs</h2>
      {/* Nothing to act on: no bulk buttons, just what shows up here and where to go instead. */}
      {runs.length === 0 && !bulk.data ? null : (
        <bulk.Form method="post" onSubmit={() => setSelected(new Set())}>
          {[...selected].map((id) => (
            <input key={id} type="hidden" name="runId" value={id} />
          ))}
          <div style={{ display: "flex", gap: "0.5rem", alignItems: "center", margin: "0.5rem 0 0.75rem" }}>
            <button type="submit" name="intent" value="retry" disabled={busy || selected.size === 0}>
              Retry selected ({selected.size})
            </button>
            <button type="submit" name="intent" value="cancel" className="danger" disabled={busy || selected.size === 0}>
              Cancel selected
            </button>
            {bulk.data ? (
              <span role="status" style={bulk.data.ok && !bulk.data.failures.length ? undefined : { color: "var(--danger)" }}>
                {bulk.data.message}
                {bulk.data.ok ? bulk.data.failures.map((failure) => <span key={failure.runId}> · {failure.message}</span>) : null}
              </span>
            ) : null}
          </div>
        </bulk.Form>
      )}
      {runs.length === 0 ? (
        <p className="empty" data-testid="troubled-runs-empty">
          No failed, canceled or stuck runs: every run is fine. A run that fails or stops making progress shows up here, to retry or cancel in bulk.{" "}
          <Link to="/workflows">Go to the workflows</Link>
        </p>
      ) : (
        <table className="table" aria-label="Failed and stuck runs">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all runs"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(runs.map((entry) => entry.run.id)))}
                />
              </th>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">State</th>
              <th scope="col">Error</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {runs.map(({ run, trouble, workflowName }) => (
              <tr key={run.id} data-run={run.id}>
                <td>
                  <input type="checkbox" aria-label={`Select run ${run.id}`} checked={selected.has(run.id)} onChange={() => toggle(run.id)} />
                </td>
                <td>
                  <Link to={`/runs/${run.id}`}>{run.id}</Link>
                </td>
                <td>{workflowName}</td>
                <td>
                  <span className={`badge status-${run.status}`}>{trouble === "stuck" ? `stuck (${run.status})` : run.status}</span>
                </td>
                <td className="muted small">{run.error ? <ErrorText text={readableRunError(run.error, {})} max={110} /> : "—"}</td>
                <td className="muted small">{formatTime(run.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The workspace's workflows open in the editor right now, over every collab process. */
export function CollabPanel({ processes, rooms }: { processes: number; rooms: CollabRoom[] }) {
  const connections = rooms.reduce((sum, room) => sum + room.connections, 0);
  return (
    <section className="card" aria-labelledby="collab-heading">
      <h2 id="collab-heading">Collaboration</h2>
      <p className="muted small">
        {processes} collab process{processes === 1 ? "" : "es"} reporting · {connections} connection{connections === 1 ? "" : "s"} to this workspace's workflows
      </p>
      {rooms.length === 0 ? (
        <p className="muted">No workflow of this workspace is open in the editor right now; open ones are listed here with their live connections.</p>
      ) : (
        <table className="table" aria-label="Open workflows">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Connections</th>
            </tr>
          </thead>
          <tbody>
            {rooms.map((room) => (
              <tr key={room.workflowId}>
                <td>
                  <Link to={`/workflows/${room.workflowId}`}>{room.workflowName}</Link>
                </td>
                <td>{room.connections}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
