import { diffDefinitions, WorkflowDefinition, type Problem, type Step } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { Dialog } from "~/components/ui/Dialog";
import { useToast } from "~/components/ui/Toast";
import type { Result } from "~/lib/errors";
import type { ChangeSincePublished, PublishedVersionInfo } from "~/lib/operations";

export const PUBLISH_INTENT = "publish";
export type PublishActionResult = Result<{ message: string; version: number }>;

/** "5 min ago" (null before hydration, so the server render and the browser's first render agree). */
export function timeAgo(iso: string, now: number | null): string {
  if (now === null) return "";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** The published definition, or null when there is none (or it does not parse, which only a bug makes). */
export function publishedDefinition(published: PublishedVersionInfo | null): WorkflowDefinition | null {
  if (!published) return null;
  const parsed = WorkflowDefinition.safeParse(published.definition);
  return parsed.success ? parsed.data : null;
}

/** JSON with object keys sorted at every depth: stored JSON (jsonb) may come back with its keys reordered. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** Field by field, what changed in a step: name, type, each config key, onError, notes; a move is one entry. */
export function stepFieldChanges(before: Step, after: Step): FieldChange[] {
  const changes: FieldChange[] = [];
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
  if (before.name !== after.name) changes.push({ field: "name", before: before.name, after: after.name });
  if (before.type !== after.type) changes.push({ field: "type", before: before.type, after: after.type });
  for (const key of [...new Set([...Object.keys(before.config), ...Object.keys(after.config)])].sort()) {
    if (!same(before.config[key], after.config[key])) changes.push({ field: `config.${key}`, before: before.config[key], after: after.config[key] });
  }
  if ((before.onError ?? "fail") !== (after.onError ?? "fail")) changes.push({ field: "onError", before: before.onError ?? "fail", after: after.onError ?? "fail" });
  if ((before.notes ?? "") !== (after.notes ?? "")) changes.push({ field: "notes", before: before.notes ?? "", after: after.notes ?? "" });
  if (before.position.x !== after.position.x || before.position.y !== after.position.y) changes.push({ field: "position", before: before.position, after: after.position });
  return changes;
}

/** An attributed field (`<stepId>.<field>`, or a workflow-level one) with the step's name instead of its id. */
const fieldName = (field: string, names: Map<string, string>) => {
  const dot = field.indexOf(".");
  const step = dot > 0 ? names.get(field.slice(0, dot)) : undefined;
  return step ? `${step}: ${field.slice(dot + 1)}` : field;
};

const shown = (value: unknown) => {
  if (value === undefined || value === null || value === "") return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

interface PublishDialogProps {
  draft: WorkflowDefinition;
  problems: Problem[];
  published: PublishedVersionInfo | null;
  /** Who changed what since the published version; null while unknown (the API could not say). */
  changes: ChangeSincePublished[] | null;
  now: number | null;
  onClose(): void;
}

/**
 * Review before publishing: the draft against the published version (steps added, removed, changed with their
 * field-level changes, connections, settings), who changed what since (from the Yjs update log's authors),
 * and the problems that block publishing. Publishing makes an immutable version that webhook and cron runs use.
 */
export function PublishDialog({ draft, problems, published, changes, now, onClose }: PublishDialogProps) {
  const publish = useFetcher<PublishActionResult>({ key: "publish" });
  const id = useId();
  const messageRef = useRef<HTMLInputElement>(null);
  const [message, setMessage] = useState("");
  const [override, setOverride] = useState(false);
  const base = publishedDefinition(published);
  const diff = useMemo(() => (base ? diffDefinitions(base, draft) : null), [base, draft]);
  const names = new Map([...(base?.steps ?? []), ...draft.steps].map((s) => [s.id, s.name || s.id]));
  const error = publish.data && !publish.data.ok ? publish.data.error : null;
  const busy = publish.state !== "idle";

  const changed = useMemo(() => {
    if (!base) return [];
    const before = new Map(base.steps.map((s) => [s.id, s]));
    return draft.steps.flatMap((step) => {
      const old = before.get(step.id);
      const fields = old ? stepFieldChanges(old, step) : [];
      return fields.length ? [{ step, fields }] : [];
    });
  }, [base, draft]);
  const settingsChanged = base ? canonical(base.settings) !== canonical(draft.settings) : false;
  const nothingChanged =
    !!diff && !changed.length && !settingsChanged && !diff.nameChanged && !diff.descriptionChanged && !diff.stepsAdded.length && !diff.stepsRemoved.length && !diff.edgesAdded.length && !diff.edgesRemoved.length && !diff.edgesChanged.length;

  const toast = useToast();
  useEffect(() => {
    if (publish.state !== "idle" || !publish.data?.ok) return;
    toast(`Published v${publish.data.data.version}`, { tone: "success" });
    onClose();
  }, [publish.state, publish.data, onClose]); // eslint-disable-line react-hooks/exhaustive-deps

  const blocked = problems.length > 0;
  // Failing test cases refuse a publication (R50) unless the publisher overrides them, which the version records.
  const testsFailed = error?.code === "TEST_CASES_FAILED";
  const edgeName = (e: { source: string; target: string; label?: string | undefined }) => `${names.get(e.source) ?? e.source} → ${names.get(e.target) ?? e.target}${e.label ? ` (${e.label})` : ""}`;

  return (
    <Dialog title={<>Publish “{draft.name}”</>} onClose={onClose} initialFocus={messageRef} className="publish-dialog" testId="publish-dialog">
        <p className="muted small">
          {published ? `Compared with the published v${published.version}${published.message ? ` “${published.message}”` : ""}.` : "Not published yet: this will be the first published version."} Webhook
          and cron runs use the published version; the draft stays editable.
        </p>

        <section aria-labelledby={`${id}-diff`} className="publish-section" data-testid="publish-diff">
          <h3 id={`${id}-diff`}>Changes</h3>
          {!diff ? (
            <p>{draft.steps.length} step(s), {draft.edges.length} connection(s).</p>
          ) : nothingChanged ? (
            <p className="muted">No changes since v{published?.version}.</p>
          ) : (
            <ul className="publish-changes">
              {diff.nameChanged ? <li>Name: {shown(base?.name)} → {shown(draft.name)}</li> : null}
              {diff.stepsAdded.map((s) => (
                <li key={`added-${s.id}`} className="change-added" data-testid="change-added">
                  <span className="swatch added" aria-hidden="true" /> Added step <strong>{s.name || s.id}</strong> <span className="muted">({s.type})</span>
                </li>
              ))}
              {diff.stepsRemoved.map((s) => (
                <li key={`removed-${s.id}`} className="change-removed" data-testid="change-removed">
                  <span className="swatch removed" aria-hidden="true" /> Removed step <strong>{s.name || s.id}</strong>
                </li>
              ))}
              {changed.map(({ step, fields }) => (
                <li key={`changed-${step.id}`} className="change-changed" data-testid="change-changed">
                  <span className="swatch changed" aria-hidden="true" /> Changed step <strong>{step.name || step.id}</strong>
                  <ul className="field-changes">
                    {fields.map((f) => (
                      <li key={f.field}>
                        <code>{f.field}</code>: {f.field === "position" ? "moved" : <>
                          <del>{shown(f.before)}</del> → <ins>{shown(f.after)}</ins>
                        </>}
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
              {diff.edgesAdded.map((e) => (
                <li key={`edge-added-${e.id}`}>Connected {edgeName(e)}</li>
              ))}
              {diff.edgesRemoved.map((e) => (
                <li key={`edge-removed-${e.id}`}>Disconnected {edgeName(e)}</li>
              ))}
              {diff.edgesChanged.map((c) => (
                <li key={`edge-changed-${c.id}`}>
                  Connection {edgeName(c.before)} is now {edgeName(c.after)}
                </li>
              ))}
              {settingsChanged ? (
                <li>
                  Settings: <del>{shown(base?.settings)}</del> → <ins>{shown(draft.settings)}</ins>
                </li>
              ) : null}
            </ul>
          )}
        </section>

        {published ? (
          <section aria-labelledby={`${id}-who`} className="publish-section" data-testid="publish-attribution">
            <h3 id={`${id}-who`}>Who changed what since v{published.version}</h3>
            {changes === null ? (
              <p className="muted small">Attribution is not available right now.</p>
            ) : changes.length === 0 ? (
              <p className="muted small">No edits recorded since then.</p>
            ) : (
              <ul className="attribution">
                {changes.map((change, index) => (
                  <li key={`${change.user?.id ?? "unknown"}-${index}`}>
                    <strong>{change.user?.name ?? "A former member"}</strong> · {change.edits} edit{change.edits === 1 ? "" : "s"}
                    {change.stepIds.length ? <> · {change.stepIds.map((s) => names.get(s) ?? s).join(", ")}</> : null}
                    {change.fields?.length ? <span className="muted"> ({change.fields.map((f) => fieldName(f, names)).join(", ")})</span> : null}
                    <span className="muted"> · {timeAgo(change.at, now) || change.at}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        ) : null}

        {blocked ? (
          <div className="form-error" role="alert" data-testid="publish-blocked">
            <p>Publishing is blocked until these problems are fixed:</p>
            <ul>
              {problems.map((p, i) => (
                <li key={i}>{p.message}</li>
              ))}
            </ul>
          </div>
        ) : null}

        <publish.Form method="post" className="publish-form">
          <input type="hidden" name="intent" value={PUBLISH_INTENT} />
          <div className="field">
            <label htmlFor={`${id}-message`}>Message</label>
            <input
              id={`${id}-message`}
              ref={messageRef}
              name="message"
              type="text"
              maxLength={500}
              required
              placeholder="What changes for production"
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              aria-invalid={error?.fields.message ? true : undefined}
            />
          </div>
          {testsFailed ? (
            <div className="field checkbox">
              <input id={`${id}-override`} type="checkbox" name="overrideFailingTests" value="true" checked={override} onChange={(e) => setOverride(e.target.checked)} />
              <label htmlFor={`${id}-override`}>Publish anyway (the version records that its test cases failed)</label>
            </div>
          ) : null}
          {error ? (
            <div className="form-error" role="alert" data-testid="publish-error">
              <p>{error.fields.message ?? error.message}</p>
              {error.problems.length ? (
                <ul>
                  {error.problems.map((p, i) => (
                    <li key={i}>{p.message}</li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
          <div className="modal-actions">
            <button type="submit" className="primary" disabled={blocked || busy || !message.trim()} title={blocked ? "Fix the problems listed above first" : !message.trim() ? "Write a message first" : undefined}>
              {busy ? "Publishing…" : "Publish"}
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </publish.Form>
    </Dialog>
  );
}

/** Whether the draft differs from the published definition in anything a run or a reader would see. */
export function hasUnpublishedChanges(published: WorkflowDefinition, draft: WorkflowDefinition): boolean {
  if (published.name !== draft.name || published.description !== draft.description) return true;
  if (canonical(published.settings) !== canonical(draft.settings)) return true;
  const diff = diffDefinitions(published, draft);
  if (diff.stepsAdded.length || diff.stepsRemoved.length || diff.edgesAdded.length || diff.edgesRemoved.length || diff.edgesChanged.length) return true;
  const before = new Map(published.steps.map((s) => [s.id, s]));
  return draft.steps.some((step) => stepFieldChanges(before.get(step.id)!, step).length > 0);
}
