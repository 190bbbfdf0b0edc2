import { applyDefinitionToDoc, beforeRestoreLabel, WorkflowDefinition, type DefinitionDiff } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type * as Y from "yjs";
import { Dialog, DialogClose } from "~/components/ui/Dialog";
import { LOCAL_ORIGIN } from "~/lib/collab";
import type { Result } from "~/lib/errors";
import { formatTime } from "~/lib/live";
import type { VersionInfo } from "~/lib/operations";
import { PUBLISH_INTENT, type PublishActionResult } from "./PublishDialog";

export const CREATE_VERSION_INTENT = "createVersion";
export const RESTORE_VERSION_INTENT = "restoreVersion";
/**
 * A restore made in this browser: the action only saves the draft as it is (createVersion, labelled
 * `beforeRestoreLabel`); the browser then applies the version to its live document as its own edit, so
 * every editor receives it through Yjs and this person's Ctrl+Z undoes it.
 */
export const RESTORE_IN_EDITOR_INTENT = "restoreVersionInEditor";
export type VersionActionResult = Result<{ message: string }>;

interface VersionsPanelProps {
  versions: VersionInfo[];
  readOnly: boolean;
  comparingId: string | null;
  diff: DefinitionDiff | null;
  onCompare(versionId: string | null): void;
  /** Publications among the versions (kind "published"), with their messages. */
  kinds?: Record<string, { kind: string; message: string | null }>;
  /** The version webhook and cron runs use now. */
  publishedId?: string | null;
  /** The live document, once synced and editable: a restore is then applied here (undoable). */
  doc?: Y.Doc | null;
  /** This person's undo manager (tracks LOCAL_ORIGIN), so the restore is one undo step of its own. */
  undoManager?: Y.UndoManager | null;
}

/**
 * Version history: save the workflow as it is now under a label, compare a version with now (the canvas
 * highlights the differences) and restore one (a change every connected editor receives through Yjs).
 */
export function VersionsPanel({ versions, readOnly, comparingId, diff, onCompare, kinds = {}, publishedId = null, doc = null, undoManager = null }: VersionsPanelProps) {
  const create = useFetcher<VersionActionResult>({ key: "create-version" });
  const labelId = useId();
  const form = useRef<HTMLFormElement>(null);
  const createError = create.data && !create.data.ok ? create.data.error : null;

  useEffect(() => {
    if (create.state === "idle" && create.data?.ok) form.current?.reset();
  }, [create.state, create.data]);

  const comparing = versions.find((v) => v.id === comparingId) ?? null;

  return (
    <section className="panel-section" aria-labelledby={`${labelId}-heading`} data-testid="versions-panel">
      <h2 id={`${labelId}-heading`}>Version history</h2>
      {readOnly ? null : (
        <create.Form method="post" ref={form} className="version-form">
          <input type="hidden" name="intent" value={CREATE_VERSION_INTENT} />
          <div className="field">
            <label htmlFor={labelId}>Version label</label>
            <input
              id={labelId}
              name="label"
              type="text"
              required
              maxLength={200}
              placeholder="e.g. Before the prompt rewrite"
              aria-invalid={createError ? true : undefined}
              aria-describedby={createError ? `${labelId}-error` : undefined}
            />
            {createError ? (
              <p className="field-error" id={`${labelId}-error`} role="alert">
                {createError.fields.label ?? createError.message}
              </p>
            ) : null}
          </div>
          <button type="submit" className="primary" disabled={create.state !== "idle"}>
            {create.state !== "idle" ? "Saving…" : "Save version"}
          </button>
        </create.Form>
      )}

      {comparing && diff ? <DiffSummary version={comparing} diff={diff} onStop={() => onCompare(null)} /> : null}

      {versions.length === 0 ? (
        <p className="muted">No versions yet. Save one to be able to compare and restore later.</p>
      ) : (
        <ol className="versions" aria-label="Versions, newest first">
          {versions.map((version) => (
            <VersionItem
              key={version.id}
              version={version}
              readOnly={readOnly}
              comparing={version.id === comparingId}
              onCompare={onCompare}
              publication={kinds[version.id]?.kind === "published" ? { message: kinds[version.id]!.message, live: version.id === publishedId } : null}
              doc={doc}
              undoManager={undoManager}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

interface VersionItemProps {
  version: VersionInfo;
  readOnly: boolean;
  comparing: boolean;
  onCompare(id: string | null): void;
  /** Set when the version is a publication; `live` for the one runs use now. */
  publication: { message: string | null; live: boolean } | null;
  doc: Y.Doc | null;
  undoManager: Y.UndoManager | null;
}

function VersionItem({ version, readOnly, comparing, onCompare, publication, doc, undoManager }: VersionItemProps) {
  const restore = useFetcher<VersionActionResult>();
  // The definition to apply once the action has saved the draft as it is (set on submit, cleared once applied).
  const pendingRestore = useRef<WorkflowDefinition | null>(null);
  const [restoredNote, setRestoredNote] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  // Rollback: this version's definition published again, as a new publication.
  const republish = useFetcher<PublishActionResult>();
  const republishError = republish.data && !republish.data.ok ? republish.data.error.message : null;
  const [confirming, setConfirming] = useState(false);
  const error = invalid ?? (restore.data && !restore.data.ok ? restore.data.error.message : null);
  const name = `v${version.version} “${version.label}”`;
  useEffect(() => {
    if (restore.state !== "idle" || !restore.data) return;
    const definition = pendingRestore.current;
    pendingRestore.current = null;
    if (!restore.data.ok) return;
    if (definition && doc) {
      // One undo step of its own: not merged with an edit made just before, nor with the next one.
      undoManager?.stopCapturing();
      applyDefinitionToDoc(doc, definition, LOCAL_ORIGIN);
      undoManager?.stopCapturing();
      setRestoredNote(`Restored ${name}. ${restore.data.data.message}; Ctrl+Z undoes the restore.`);
    } else if (definition) {
      // The editor went read-only or lost its document while the draft was being saved: nothing was restored.
      setInvalid(`${name} was not restored: the editor is not connected. ${restore.data.data.message}; restore again once connected.`);
    } else {
      setRestoredNote(`Restored ${name}; the draft before it is saved as a version.`);
    }
    setConfirming(false);
  }, [restore.state, restore.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const inEditor = !!doc;
  const onRestore = (event: FormEvent<HTMLFormElement>) => {
    setInvalid(null);
    setRestoredNote(null);
    if (!inEditor) return; // the server applies it (RESTORE_VERSION_INTENT)
    const parsed = WorkflowDefinition.safeParse(version.definition);
    if (!parsed.success) {
      event.preventDefault();
      setInvalid(`${name} cannot be restored: its definition is not valid (${parsed.error.issues[0]?.message ?? "unknown problem"}).`);
      return;
    }
    pendingRestore.current = parsed.data;
  };

  return (
    <li className={[comparing ? "comparing" : "", publication ? "published" : ""].filter(Boolean).join(" ") || undefined} data-testid={`version-${version.version}`} data-kind={publication ? "published" : "snapshot"}>
      <div className="version-head">
        <span className="version-number">v{version.version}</span>
        <span className="version-label">{version.label}</span>
        {publication ? (
          <span className={publication.live ? "badge published-badge live" : "badge published-badge"} data-testid="published-badge">
            {publication.live ? "Published · live" : "Published"}
          </span>
        ) : null}
      </div>
      {publication?.message ? <div className="small version-message">“{publication.message}”</div> : null}
      <div className="muted small" data-testid="version-meta">
        {formatTime(version.createdAt)}
        {version.author ? ` · by ${version.author.name}` : version.authorId ? " · by a former member" : ""}
      </div>
      <div className="version-actions">
        <button type="button" aria-pressed={comparing} aria-label={`Compare ${name} with now`} onClick={() => onCompare(comparing ? null : version.id)}>
          {comparing ? "Comparing" : "Compare"}
        </button>
        {readOnly ? null : (
          <Dialog
            open={confirming}
            onClose={() => setConfirming(false)}
            title={`Restore ${name}?`}
            inline
            className="confirm-dialog"
            trigger={
              <button type="button" onClick={() => setConfirming(true)} aria-label={`Restore ${name}`}>
                Restore
              </button>
            }
          >
            <restore.Form method="post" className="confirm" role="group" aria-label={`Confirm restoring ${name}`} onSubmit={onRestore}>
              <p>
                Restore {name}? The draft as it is now is saved first as a version (“{beforeRestoreLabel(version)}”), so you can restore it back. Everyone
                editing sees the restored graph{inEditor ? "; Ctrl+Z undoes it" : ""}.
              </p>
              <input type="hidden" name="intent" value={inEditor ? RESTORE_IN_EDITOR_INTENT : RESTORE_VERSION_INTENT} />
              <input type="hidden" name="versionId" value={version.id} />
              <input type="hidden" name="label" value={beforeRestoreLabel(version)} />
              <div className="modal-actions">
                <button type="submit" className="danger solid" disabled={restore.state !== "idle"}>
                  {restore.state !== "idle" ? "Restoring…" : "Confirm restore"}
                </button>
                <DialogClose asChild>
                  <button type="button">Cancel</button>
                </DialogClose>
              </div>
            </restore.Form>
          </Dialog>
        )}
        {readOnly || publication?.live ? null : (
          <republish.Form method="post">
            <input type="hidden" name="intent" value={PUBLISH_INTENT} />
            <input type="hidden" name="fromVersionId" value={version.id} />
            <input type="hidden" name="message" value={`Rollback to v${version.version}`} />
            <button type="submit" disabled={republish.state !== "idle"} aria-label={`Publish ${name} again`} title="Webhook and cron runs use this version from now on (recorded as a new publication)">
              {republish.state !== "idle" ? "Publishing…" : "Publish again"}
            </button>
          </republish.Form>
        )}
      </div>
      {republishError ? (
        <p className="field-error" role="alert">
          {republishError}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {restoredNote && !error ? (
        <p className="small restored-note" role="status" data-testid="restored-note">
          {restoredNote}
        </p>
      ) : null}
    </li>
  );
}

function DiffSummary({ version, diff, onStop }: { version: VersionInfo; diff: DefinitionDiff; onStop(): void }) {
  const count = diff.stepsAdded.length + diff.stepsRemoved.length + diff.stepsChanged.length + diff.edgesAdded.length + diff.edgesRemoved.length + diff.edgesChanged.length;
  return (
    <div className="diff-summary" role="status" data-testid="diff-summary">
      <p>
        <strong>
          v{version.version} “{version.label}”
        </strong>{" "}
        compared with now:
      </p>
      {count === 0 && !diff.nameChanged && !diff.descriptionChanged ? (
        <p className="muted">No differences.</p>
      ) : (
        <ul className="diff-legend">
          <li>
            <span className="swatch added" aria-hidden="true" /> {diff.stepsAdded.length} step(s) added
          </li>
          <li>
            <span className="swatch removed" aria-hidden="true" /> {diff.stepsRemoved.length} step(s) removed (shown faded)
          </li>
          <li>
            <span className="swatch changed" aria-hidden="true" /> {diff.stepsChanged.length} step(s) changed
          </li>
          <li>
            {diff.edgesAdded.length} connection(s) added, {diff.edgesRemoved.length} removed
          </li>
          {diff.nameChanged ? <li>The workflow name changed</li> : null}
        </ul>
      )}
      <button type="button" onClick={onStop}>
        Stop comparing
      </button>
    </div>
  );
}
