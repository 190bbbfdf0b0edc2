import type { ConnectionStatus as Status } from "~/lib/collab";

const HINTS: Partial<Record<Status, string>> = {
  offline: "Your edits are kept here and merge with everyone else's when you reconnect.",
};

export function ConnectionStatus({ status, message }: { status: Status; message: string | null }) {
  const hint = message ?? HINTS[status] ?? null;
  return (
    <div className="connection" role="status" title={hint ?? undefined}>
      <span className={`dot ${status}`} aria-hidden="true" />
      <span data-testid="connection-status">{status}</span>
      {message ? <span className="connection-message">{message}</span> : hint ? <span className="visually-hidden">{hint}</span> : null}
    </div>
  );
}
