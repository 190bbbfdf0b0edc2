import { useFetcher } from "@remix-run/react";
import { useId, useState } from "react";
import { formatTime } from "~/lib/live";
import type { TraceActionResult } from "./types";

export const RESUME_INTENT = "resume";

/** An approval step of this run waiting for a person, as the run captured its config. */
export interface WaitingApproval {
  /** The ledger id (`<stepId>` or, inside a loop, `<stepId>@<i>`): what resumeRun names. */
  stepId: string;
  title: string;
  instructions: string;
  since: string | null;
  /** When the step's timeout decides by itself; null without a timeout. */
  expiresAt: string | null;
}

/** An approval already decided: its step output. */
export interface DecidedApproval {
  stepId: string;
  title: string;
  decision: string;
  comment: string | null;
  decidedBy: string | null;
  /** "user", "link" (the signed URL) or "timeout". */
  decidedVia: string | null;
}

interface ApprovalInboxProps {
  waiting: WaitingApproval[];
  decided: DecidedApproval[];
  /** Editors and owners decide; viewers see what waits. */
  canDecide: boolean;
}

/**
 * The run's approvals: each waiting one with its title and instructions and Approve / Reject with a comment
 * (resumeRun); the run goes on as soon as one is decided. The page reloads on the run's events, so a decision
 * made elsewhere (another person, the signed link, a timeout) shows here too.
 */
export function ApprovalInbox({ waiting, decided, canDecide }: ApprovalInboxProps) {
  const headingId = useId();
  if (!waiting.length && !decided.length) return null;
  return (
    <section className="approval-inbox" aria-labelledby={headingId} data-testid="approval-inbox">
      <h2 id={headingId}>Approvals {waiting.length ? <span className="badge status-waiting">{waiting.length} waiting</span> : null}</h2>
      {waiting.map((approval) => (
        <WaitingItem key={approval.stepId} approval={approval} canDecide={canDecide} />
      ))}
      {decided.length ? (
        <ul className="approvals-decided">
          {decided.map((d) => (
            <li key={d.stepId} data-testid={`approval-decided-${d.stepId}`}>
              <strong>{d.title}</strong>: {/^approve/i.test(d.decision) ? <span className="decision decision-approved">approved</span> : <span className="decision decision-rejected">rejected</span>}
              {d.decidedBy ? ` by ${d.decidedBy}` : d.decidedVia === "link" ? " through the signed link" : d.decidedVia === "timeout" ? " by the timeout" : ""}
              {d.comment ? <span className="muted"> — “{d.comment}”</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function WaitingItem({ approval, canDecide }: { approval: WaitingApproval; canDecide: boolean }) {
  const decide = useFetcher<TraceActionResult>({ key: `resume-${approval.stepId}` });
  const id = useId();
  const failure = decide.data && !decide.data.ok ? decide.data.error : null;
  // The data box is checked as it is typed; the server's verdict on it holds only for the text it was sent.
  const [data, setData] = useState("");
  const [sentData, setSentData] = useState<string | null>(null);
  const typedError = jsonProblem(data);
  const serverFieldError = failure?.fields.data && sentData === data ? failure.fields.data : null;
  const fieldError = typedError ?? serverFieldError;
  const error = failure && !failure.fields.data ? failure.message : null;
  const busy = decide.state !== "idle";
  const deciding = decide.formData?.get("decision");
  return (
    <article className="approval-item" data-testid={`approval-${approval.stepId}`} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{approval.title}</h3>
      {approval.instructions ? <p className="approval-instructions">{approval.instructions}</p> : null}
      {approval.expiresAt ? <p className="muted small">Without a decision by {formatTime(approval.expiresAt)}, the step’s default decision applies.</p> : null}
      {canDecide ? (
        <decide.Form
          method="post"
          onSubmit={(event) => {
            if (typedError) {
              event.preventDefault(); // the message is already under the box; nothing is sent
              return;
            }
            setSentData(data);
          }}
        >
          <input type="hidden" name="intent" value={RESUME_INTENT} />
          <input type="hidden" name="stepId" value={approval.stepId} />
          <div className="field">
            <label htmlFor={`${id}-comment`}>Comment (optional)</label>
            <textarea id={`${id}-comment`} name="comment" rows={2} maxLength={2000} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-data`}>Data for the next steps (optional JSON)</label>
            <textarea
              id={`${id}-data`}
              name="data"
              className="mono"
              rows={2}
              placeholder='e.g. { "limit": 500 }'
              value={data}
              onChange={(event) => setData(event.target.value)}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={fieldError ? `${id}-data-error` : undefined}
            />
            {fieldError ? (
              <p className="field-error" id={`${id}-data-error`}>
                {fieldError}
              </p>
            ) : null}
          </div>
          <div className="approval-actions">
            <button type="submit" name="decision" value="APPROVE" className="primary" disabled={busy} aria-describedby={typedError ? `${id}-data-error` : undefined}>
              {busy && deciding === "APPROVE" ? "Approving…" : "Approve"}
            </button>
            <button type="submit" name="decision" value="REJECT" className="danger" disabled={busy}>
              {busy && deciding === "REJECT" ? "Rejecting…" : "Reject"}
            </button>
          </div>
          {error ? (
            <p className="field-error" role="alert">
              {error}
            </p>
          ) : null}
        </decide.Form>
      ) : (
        <p className="muted small">An editor of the workspace decides.</p>
      )}
    </article>
  );
}

/** Why the optional data box's text is not JSON (null when it is, or is empty): the message the server gives, and where. */
export function jsonProblem(text: string): string | null {
  if (!text.trim()) return null;
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    const detail = error instanceof SyntaxError ? error.message.replace(/^JSON\.parse: /, "") : "";
    return `Enter valid JSON, or leave it empty${detail ? ` (${detail})` : ""}`;
  }
}
