import { applyDefinitionToDoc, beforeRestoreLabel, CreateVersionInput, definitionFromDoc, diffDefinitions, newId, type DefinitionDiff, type WorkflowDefinition } from "@algorythmos/domain";
import { bytes, changeWorkflowDoc, json, loadWorkflowState, transaction } from "@algorythmos/platform";
import * as Y from "yjs";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole, type Need } from "./access.js";
import { getWorkflow, liveDefinition, type WorkflowView } from "./workflows.js";

export interface VersionView {
  id: string;
  workflowId: string;
  version: number;
  label: string;
  definition: WorkflowDefinition;
  authorId: string | null;
  createdAt: Date;
  /** "snapshot" (saved by a person) or "published" (immutable; what webhooks and cron run). */
  kind: "snapshot" | "published";
  message: string;
  /** A published version's diff against the version published before it; null for a snapshot. */
  diff: DefinitionDiff | null;
  /** A rollback: the earlier version it published again. */
  sourceVersionId: string | null;
  overrideFailingTests: boolean;
}

export const VERSION_SELECT = {
  id: true,
  workflowId: true,
  version: true,
  label: true,
  definition: true,
  authorId: true,
  createdAt: true,
  kind: true,
  message: true,
  diff: true,
  sourceVersionId: true,
  overrideFailingTests: true,
} as const;
export const toVersionView = (row: { definition: unknown; diff: unknown; kind: string } & Omit<VersionView, "definition" | "diff" | "kind">): VersionView => ({
  ...row,
  kind: row.kind === "published" ? "published" : "snapshot",
  definition: row.definition as WorkflowDefinition,
  diff: (row.diff ?? null) as DefinitionDiff | null,
});
const toView = toVersionView;

/** Who saved a version; null when that account is gone. */
export function versionAuthor(deps: ServerDeps, version: VersionView) {
  return version.authorId ? deps.db.user.findUnique({ where: { id: version.authorId }, select: { id: true, email: true, name: true } }) : null;
}

export async function listVersions(deps: ServerDeps, caller: Caller, workflowId: string): Promise<VersionView[]> {
  await requireWorkflowRole(deps.db, caller, workflowId, "read");
  const rows = await deps.db.workflowSnapshot.findMany({ where: { workflowId }, orderBy: { version: "desc" }, select: VERSION_SELECT });
  return rows.map(toView);
}

/** A version, for a caller who may read its workflow; outsiders get NOT_FOUND. */
export async function getVersion(deps: ServerDeps, caller: Caller, id: string, need: Need = "read"): Promise<VersionView> {
  const row = await deps.db.workflowSnapshot.findUnique({ where: { id }, select: VERSION_SELECT });
  if (!row) throw notFound("Version");
  await requireWorkflowRole(deps.db, caller, row.workflowId, need, "Version");
  return toView(row);
}

/** Names the workflow as it is now (Yjs state and definition), as the next version number. */
export async function createVersion(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<VersionView> {
  const parsed = CreateVersionInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { workflowId, label } = parsed.data;
  await requireWorkflowRole(deps.db, caller, workflowId, "write");
  return saveCurrentAsVersion(deps, caller, workflowId, label);
}

async function saveCurrentAsVersion(deps: ServerDeps, caller: Caller, workflowId: string, label: string): Promise<VersionView> {
  const stored = await loadWorkflowState(deps.db, workflowId);
  if (!stored) throw notFound("Workflow");
  const doc = new Y.Doc();
  Y.applyUpdate(doc, stored.state);
  const { definition } = definitionFromDoc(doc);
  doc.destroy();
  const row = await transaction(deps.db, async (tx) => {
    const { latestVersion } = await tx.workflow.update({ where: { id: workflowId }, data: { latestVersion: { increment: 1 } }, select: { latestVersion: true } });
    return tx.workflowSnapshot.create({
      data: { id: newId("ver"), workflowId, version: latestVersion, label, yjsState: bytes(stored.state), definition: json(definition), authorId: caller.principal!.userId },
      select: VERSION_SELECT,
    });
  });
  return toView(row);
}

/**
 * Restores a version as a new change on top of the current document, so history is kept and every connected
 * editor receives it like anyone's edit. The workflow as it was is saved first as a version labelled
 * `beforeRestoreLabel(version)`, so the restore can itself be restored back. (The studio saves that version
 * with createVersion and applies the restore in the browser instead, so the person's Ctrl+Z undoes it.)
 */
export async function restoreVersion(deps: ServerDeps, caller: Caller, versionId: string): Promise<WorkflowView> {
  const version = await getVersion(deps, caller, versionId, "write");
  await saveCurrentAsVersion(deps, caller, version.workflowId, beforeRestoreLabel(version));
  const changed = await changeWorkflowDoc(deps.db, deps.redis, deps.env.REDIS_PREFIX, version.workflowId, (doc) =>
    applyDefinitionToDoc(doc, version.definition, "restore"),
    { authorId: caller.principal?.userId ?? null },
  );
  if (!changed) throw notFound("Workflow");
  return getWorkflow(deps, caller, version.workflowId);
}

/** The diff from one version to another; `toVersionId` null means the workflow as it is now. */
export async function diffVersions(deps: ServerDeps, caller: Caller, fromVersionId: string, toVersionId: string | null): Promise<DefinitionDiff> {
  const from = await getVersion(deps, caller, fromVersionId);
  const to = toVersionId ? await getVersion(deps, caller, toVersionId) : null;
  if (to && to.workflowId !== from.workflowId) throw new AppError("BAD_USER_INPUT", "Both versions must belong to the same workflow");
  const current = to ? to.definition : await liveDefinition(deps.db, from.workflowId);
  return diffDefinitions(from.definition, current);
}
