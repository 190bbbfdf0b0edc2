/**
 * What a trigger step needs to be usable from the studio: the webhook's full URL (copy it, send it a test
 * request and read the answer), and a cron schedule in words with its next run times in its time zone.
 */
import type { Step } from "@algorythmos/domain";
import { Link, useParams } from "@remix-run/react";
import { useEffect, useId, useMemo, useState } from "react";
import { formatInZone, previewCron } from "~/lib/cron";

/** What GET /workflows/:id/webhook answers (app/routes/workflows.$id_.webhook.tsx). */
export interface WebhookAddress {
  /** The full URL to give other systems: PUBLIC_URL's when the server has one, else this page's address. */
  url: string | null;
  /** The same-origin path the studio sends its test requests to (the server that serves the studio serves it). */
  path: string | null;
  /** Why there is no URL, for the person reading the trigger panel. */
  error: string | null;
}

/** The trigger panel for a webhook or cron step; nothing for other steps. */
export function TriggerInfo({ step }: { step: Step }) {
  if (step.type === "trigger.webhook") return <WebhookInfo responseMode={String(step.config.responseMode ?? "immediate")} />;
  if (step.type === "trigger.cron") return <CronInfo cron={String(step.config.cron ?? "")} timezone={String(step.config.timezone ?? "")} />;
  return null;
}

type TestAnswer = { status: number; body: string; hint: string | null; runId?: string } | { status: null; body: string; hint: string; runId?: undefined };

/** What to do about a refusal the webhook answers with (codes from server/hooks.ts, R38). */
function hintFor(status: number, code: string | undefined): string | null {
  if (code === "NOT_PUBLISHED") return "Webhooks run the published version, and this workflow has none yet. Publish it (Publish… at the top), then send again.";
  if (code === "INACTIVE") return "The workflow is inactive, so its webhook refuses requests. Switch it to Active at the top, then send again.";
  if (status === 404) return "The published version has no webhook trigger, or the URL changed. Publish the draft with this trigger, then send again.";
  if (status === 202) return "The run started.";
  return null;
}

function WebhookInfo({ responseMode }: { responseMode: string }) {
  const workflowId = useParams().id ?? "";
  const id = useId();
  const [address, setAddress] = useState<WebhookAddress | null>(null);
  const [copied, setCopied] = useState<"copied" | "failed" | null>(null);
  const [body, setBody] = useState('{\n  "hello": "world"\n}');
  const [sending, setSending] = useState(false);
  const [answer, setAnswer] = useState<TestAnswer | null>(null);

  useEffect(() => {
    let live = true;
    fetch(`/workflows/${encodeURIComponent(workflowId)}/webhook`, { headers: { Accept: "application/json" } })
      .then(async (response) => (response.ok ? ((await response.json()) as WebhookAddress) : { url: null, path: null, error: `Could not load the webhook URL (HTTP ${response.status})` }))
      .catch(() => ({ url: null, path: null, error: "Could not load the webhook URL: the server did not answer" }))
      .then((loaded) => live && setAddress(loaded));
    return () => {
      live = false;
    };
  }, [workflowId]);

  const bodyError = useMemo(() => {
    if (!body.trim()) return null; // an empty body is a valid request
    try {
      JSON.parse(body);
      return null;
    } catch (error) {
      return `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
    }
  }, [body]);

  const copy = async () => {
    if (!address?.url) return;
    try {
      await navigator.clipboard.writeText(address.url);
      setCopied("copied");
    } catch {
      setCopied("failed"); // e.g. an http:// page that is not localhost: the field is selectable
    }
    setTimeout(() => setCopied(null), 2000);
  };

  const send = async () => {
    if (!address?.path || bodyError) return;
    setSending(true);
    setAnswer(null);
    try {
      // Same origin: the server that serves the studio serves /hooks too (the shown URL may be PUBLIC_URL's).
      const response = await fetch(address.path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body.trim() ? body : undefined, credentials: "omit" });
      const text = await response.text();
      let shown = text;
      let code: string | undefined;
      let runId: string | undefined;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string }; runId?: unknown };
        shown = JSON.stringify(parsed, null, 2);
        code = parsed?.error?.code;
        if (typeof parsed?.runId === "string") runId = parsed.runId;
      } catch {
        // not JSON: shown as sent
      }
      setAnswer({ status: response.status, body: shown, hint: hintFor(response.status, code), runId });
    } catch (error) {
      setAnswer({ status: null, body: error instanceof Error ? error.message : String(error), hint: "The request did not reach the server. Check your connection and send again." });
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="trigger-info" data-testid="webhook-info" aria-labelledby={`${id}-heading`} role="group">
      <h3 id={`${id}-heading`}>Webhook URL</h3>
      {!address ? (
        <p className="muted small">Loading the webhook URL…</p>
      ) : address.url ? (
        <>
          <div className="copy-row">
            {/* The whole URL, wrapped: the secret at its end is what tells two webhooks apart. */}
            <code className="webhook-url" aria-label="Webhook URL" data-testid="webhook-url">
              <span className="method">POST</span> {address.url}
            </code>
            <button type="button" onClick={copy} aria-describedby={copied ? `${id}-copied` : undefined}>
              {copied === "copied" ? "Copied" : "Copy"}
            </button>
          </div>
          <p className="muted small" id={`${id}-copied`} role="status">
            {copied === "failed" ? "The browser refused to copy; select the URL and copy it yourself." : `POST JSON here to start a run of the published version${responseMode === "output" ? "; the response is the run's output" : "; it answers 202 with the run id"}. The URL holds the workflow's secret: share it only with the system that calls it.`}
          </p>
          <div className="field">
            <label htmlFor={`${id}-body`}>Test request body (JSON)</label>
            <textarea
              id={`${id}-body`}
              className="mono"
              rows={4}
              value={body}
              onChange={(e) => setBody(e.target.value)}
              aria-invalid={bodyError ? true : undefined}
              aria-describedby={bodyError ? `${id}-body-error` : undefined}
              data-testid="webhook-test-body"
            />
            {bodyError ? (
              <p className="field-error" id={`${id}-body-error`} role="alert">
                {bodyError}
              </p>
            ) : null}
          </div>
          <button type="button" className="primary" onClick={send} disabled={sending || !!bodyError}>
            {sending ? "Sending…" : "Send test request"}
          </button>
          {answer ? (
            <div className={answer.status !== null && answer.status < 300 ? "test-answer ok" : "test-answer failed"} data-testid="webhook-test-answer" role="status">
              <p className="small">
                <strong data-testid="webhook-test-status">{answer.status === null ? "No response" : `HTTP ${answer.status}`}</strong>
                {answer.hint ? <span data-testid="webhook-test-hint"> — {answer.hint}</span> : null}
                {answer.runId ? (
                  <>
                    {" "}
                    <Link to={`/runs/${encodeURIComponent(answer.runId)}`}>Open the run</Link>
                  </>
                ) : null}
              </p>
              {answer.body ? <pre className="json-tree mono">{answer.body}</pre> : null}
            </div>
          ) : null}
        </>
      ) : (
        <p className="muted small" data-testid="webhook-unavailable">
          {address.error}
        </p>
      )}
    </div>
  );
}

function CronInfo({ cron, timezone }: { cron: string; timezone: string }) {
  const id = useId();
  // Recomputed as the expression is typed; "now" is read then (a preview, not a clock).
  const preview = useMemo(() => previewCron(cron, timezone || "UTC"), [cron, timezone]);
  return (
    <div className="trigger-info" data-testid="cron-info" aria-labelledby={`${id}-heading`} role="group">
      <h3 id={`${id}-heading`}>Schedule</h3>
      {preview.ok ? (
        <>
          <p className="cron-summary" data-testid="cron-summary">
            {preview.summary}
          </p>
          <p className="muted small">
            Next runs, in {preview.timezone}
            {timezone.trim() ? "" : " (no time zone set)"}:
          </p>
          <ol className="cron-next small" data-testid="cron-next">
            {preview.next.map((date) => (
              <li key={date.toISOString()} data-at={date.toISOString()}>
                <time dateTime={date.toISOString()}>{formatInZone(date, preview.timezone)}</time>
              </li>
            ))}
          </ol>
          <p className="muted small">Runs start only once the workflow is published and active.</p>
        </>
      ) : (
        <p className="field-error" role="alert" data-testid="cron-error">
          {preview.field === "timezone" ? "Time zone: " : "Cron: "}
          {preview.error}
        </p>
      )}
    </div>
  );
}
