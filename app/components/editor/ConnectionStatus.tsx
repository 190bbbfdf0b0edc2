import type { ConnectionStatus as Status } from "~/lib/collab";

export function ConnectionStatus({ status, message }: { status: Status; message: string | null }) {
  return (
    <div className="connection" role="status">
      <span className={`dot ${status}`} aria-hidden="true" />
      <span data-testid="connection-status">{status}</span>
      {message ? <span className="connection-message">{message}</span> : null}
    </div>
  );
}
