import type { DefinitionDiff } from "@algorythmos/domain";
import { useFetcher } from "@remix-run/react";
import { useEffect, useId, useRef, useState } from "react";
import type { Result } from "~/lib/errors";
import { formatTime } from "~/lib/live";
import type { VersionInfo } from "~/lib/operations";

export const CREATE_VERSION_INTENT = "createVersion";
export const RESTORE_VERSION_INTENT = "restoreVersion";
export type VersionActionResult = Result<{ message: string }>;

interface VersionsPanelProps {
  versions: VersionInfo[];
  readOnly: boolean;
  comparingId: string | null;
  diff: DefinitionDiff | null;
  onCompare(versionId: string | null): void;
}

/**
 * Version history: save the workflow as it is now under a label, compare a version with now (the canvas
 * highlights the differences) and restore one (a change every connected editor receives through Yjs).
 */
export function VersionsPanel({ versions, readOnly, comparingId, diff, onCompare }: VersionsPanelProps) {
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
            <VersionItem key={version.id} version={version} readOnly={readOnly} comparing={version.id === comparingId} onCompare={onCompare} />
          ))}
        </ol>
      )}
    </section>
  );
}

function VersionItem({ version, readOnly, comparing, onCompare }: { version: VersionInfo; readOnly: boolean; comparing: boolean; onCompare(id: string | null): void }) {
  const restore = useFetcher<VersionActionResult>();
  const [confirming, setConfirming] = useState(false);
  const error = restore.data && !restore.data.ok ? restore.data.error.message : null;
  const name = `v${version.version} “${version.label}”`;
  useEffect(() => {
    if (restore.state === "idle" && restore.data?.ok) setConfirming(false);
  }, [restore.state, restore.data]);

  return (
    <li className={comparing ? "comparing" : undefined} data-testid={`version-${version.version}`}>
      <div className="version-head">
        <span className="version-number">v{version.version}</span>
        <span className="version-label">{version.label}</span>
      </div>
      <div className="muted small" data-testid="version-meta">
        {formatTime(version.createdAt)}
        {version.author ? ` · by ${version.author.name}` : version.authorId ? " · by a former member" : ""}
      </div>
      <div className="version-actions">
        <button type="button" aria-pressed={comparing} aria-label={`Compare ${name} with now`} onClick={() => onCompare(comparing ? null : version.id)}>
          {comparing ? "Comparing" : "Compare"}
        </button>
        {readOnly ? null : confirming ? null : (
          <button type="button" onClick={() => setConfirming(true)} aria-label={`Restore ${name}`}>
            Restore
          </button>
        )}
      </div>
      {confirming ? (
        <restore.Form method="post" className="confirm" role="group" aria-label={`Confirm restoring ${name}`}>
          <p className="small">Restore {name}? Everyone editing sees the restored graph; you can undo by restoring another version.</p>
          <input type="hidden" name="intent" value={RESTORE_VERSION_INTENT} />
          <input type="hidden" name="versionId" value={version.id} />
          <button type="submit" className="danger" disabled={restore.state !== "idle"}>
            {restore.state !== "idle" ? "Restoring…" : "Confirm restore"}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </restore.Form>
      ) : null}
      {error ? (
        <p className="field-error" role="alert">
          {error}
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
