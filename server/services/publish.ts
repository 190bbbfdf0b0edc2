import { definitionFromDoc, diffDefinitions, newId, validateDefinition, type DefinitionDiff, type Problem, type WorkflowDefinition } from "@algorythmos/domain";
import { bytes, json, Prisma, query, transaction, type Db, type LiveWorkflow, type Tx } from "@algorythmos/platform";
import * as Y from "yjs";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole } from "./access.js";
import { toVersionView, VERSION_SELECT, type VersionView } from "./versions.js";
import { failingCasesSummary, runTestCasesForPublish } from "./test-cases.js";
import { getWorkflow, type WorkflowView } from "./workflows.js";

/**
 * Draft and publish (#15). The co-edited Y.Doc is the draft; publishing stores an immutable WorkflowSnapshot of
 * kind "published" and points Workflow.publishedVersionId at it. Webhook and cron runs run only that (R37).
 */

export const PublishWorkflowInput = z.object({
  workflowId: z.string().min(1, "workflowId is required"),
  message: z.string().max(2000, "message is at most 2000 characters").default(""),
  /** Publish although test cases fail (recorded on the version). */
  overrideFailingTests: z.boolean().default(false),
  /** Rollback: publish this earlier version's definition again, as a new publication. */
  fromVersionId: z.string().min(1).nullish(),
});
export const SetWorkflowActiveInput = z.object({ workflowId: z.string().min(1, "workflowId is required"), active: z.boolean() });

/** One test case's result at publish time (test cases, #16, run inside publishWorkflow before the version is stored). */
export interface PublishTestResult {
  testCaseId: string;
  name: string;
  passed: boolean;
  message: string | null;
  runId: string | null;
}

export interface PublishResult {
  workflow: WorkflowView;
  version: VersionView;
  testResults: PublishTestResult[];
}

/** What is published: the draft as it is now, or (rollback) an earlier version. */
interface PublishSource {
  definition: WorkflowDefinition;
  problems: Problem[];
  yjsState: Uint8Array;
  /** The update-log seq the definition holds everything up to; null for a rollback (the current head is used). */
  logSeq: number | null;
  sourceVersionId: string | null;
}

async function draftSource(db: Db, workflowId: string): Promise<PublishSource> {
  // The state as startRun reads it: the compacted state and every acknowledged update.
  const updates = await db.workflowUpdate.findMany({ where: { workflowId }, orderBy: { seq: "asc" }, select: { seq: true, update: true } });
  const row = await db.workflow.findUnique({ where: { id: workflowId }, select: { yjsState: true, compactedSeq: true } });
  if (!row) throw notFound("Workflow");
  const state = Y.mergeUpdates([row.yjsState, ...updates.map((update) => update.update)]);
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, state);
    const { definition, problems } = definitionFromDoc(doc);
    return { definition, problems, yjsState: state, logSeq: Math.max(Number(row.compactedSeq), Number(updates.at(-1)?.seq ?? 0)), sourceVersionId: null };
  } finally {
    doc.destroy();
  }
}

async function versionSource(db: Db, workflowId: string, versionId: string): Promise<PublishSource> {
  const version = await db.workflowSnapshot.findUnique({ where: { id: versionId }, select: { workflowId: true, definition: true, yjsState: true } });
  if (!version || version.workflowId !== workflowId) {
    throw badInput("fromVersionId is not a version of this workflow", [{ path: ["input", "fromVersionId"], message: "No such version of this workflow" }]);
  }
  const definition = version.definition as WorkflowDefinition;
  return { definition, problems: validateDefinition(definition), yjsState: version.yjsState, logSeq: null, sourceVersionId: versionId };
}

/** The message of UNPROCESSABLE when a definition with problems would be published. */
const problemsMessage = (problems: Problem[], what: string) =>
  `${what} cannot be published until its problems are fixed: ${problems.map((problem) => problem.message).join("; ")}`;

/**
 * Publishes the draft (or, with `fromVersionId`, an earlier version again): refuses a definition with
 * problems (UNPROCESSABLE, `problems` in the details), stores the immutable version "v<N>" with its message,
 * publisher, diff against the version published until now and Yjs state, and makes it the published one.
 * One function: every publish gate (validation, test cases) runs here before anything is stored.
 */
export async function publishWorkflow(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<PublishResult> {
  const parsed = PublishWorkflowInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { workflowId, message, overrideFailingTests, fromVersionId } = parsed.data;
  await requireWorkflowRole(deps.db, caller, workflowId, "write");
  const source = fromVersionId ? await versionSource(deps.db, workflowId, fromVersionId) : await draftSource(deps.db, workflowId);
  if (source.problems.length) {
    throw new AppError("UNPROCESSABLE", problemsMessage(source.problems, fromVersionId ? "That version" : "The draft"), { problems: source.problems });
  }
  // Test cases (#16, R50) run here; failing ones refuse the publish unless overrideFailingTests (then recorded on the version).
  const cases = await runTestCasesForPublish(deps, workflowId, source.definition);
  const testResults: PublishTestResult[] = cases.results.map((result) => ({
    testCaseId: result.caseId,
    name: result.name,
    passed: result.passed,
    message: result.failures.join("; ") || null,
    runId: result.runId,
  }));
  if (!cases.passed && !overrideFailingTests) {
    throw new AppError("TEST_CASES_FAILED", `Not published: a test case failed — ${failingCasesSummary(cases.results)}. Fix it, or publish with overrideFailingTests`, { testResults });
  }

  const versionId = await transaction(deps.db, async (tx) => {
    // The increment locks the workflow row: concurrent publishes of one workflow take turns, each diffing against the one before.
    const locked = await tx.workflow.update({
      where: { id: workflowId },
      data: { latestVersion: { increment: 1 } },
      select: { latestVersion: true, publishedVersionId: true, updateSeq: true },
    });
    const previous = locked.publishedVersionId
      ? await tx.workflowSnapshot.findUnique({ where: { id: locked.publishedVersionId }, select: { definition: true } })
      : null;
    const before = (previous?.definition as WorkflowDefinition | undefined) ?? { ...source.definition, steps: [], edges: [] };
    const diff: DefinitionDiff = diffDefinitions(before, source.definition);
    const publications = await tx.workflowSnapshot.count({ where: { workflowId, kind: "published" } });
    const id = newId("ver");
    await tx.workflowSnapshot.create({
      data: {
        id,
        workflowId,
        version: locked.latestVersion,
        label: `v${publications + 1}`,
        kind: "published",
        message,
        diff: json(diff),
        logSeq: BigInt(source.logSeq ?? Number(locked.updateSeq)),
        sourceVersionId: source.sourceVersionId,
        overrideFailingTests: overrideFailingTests && !cases.passed,
        yjsState: bytes(source.yjsState),
        definition: json(source.definition),
        authorId: caller.principal!.userId,
      },
    });
    await tx.workflow.update({ where: { id: workflowId }, data: { publishedVersionId: id } });
    return id;
  });
  await announcePublication(deps, workflowId);
  const version = await deps.db.workflowSnapshot.findUniqueOrThrow({ where: { id: versionId }, select: VERSION_SELECT });
  return { workflow: await getWorkflow(deps, caller, workflowId), version: toVersionView(version), testResults };
}

/** Turns a workflow's triggers (webhook, cron) on or off; the draft stays editable either way. */
export async function setWorkflowActive(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkflowView> {
  const parsed = SetWorkflowActiveInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  await requireWorkflowRole(deps.db, caller, parsed.data.workflowId, "write");
  await deps.db.workflow.update({ where: { id: parsed.data.workflowId }, data: { active: parsed.data.active } });
  await announcePublication(deps, parsed.data.workflowId);
  return getWorkflow(deps, caller, parsed.data.workflowId);
}

// ---------- live publication state (the workflowPublication subscription) ----------

/** Where a workflow's publish / activate / deactivate is announced (a hint only: subscribers read the state). */
export const workflowPublicationChannel = (redisPrefix: string, workflowId: string) => `${redisPrefix}workflow-publication:${workflowId}`;

/** A workflow's publication as every open editor shows it: whether its triggers run, and the version they run. */
export interface PublicationState {
  workflowId: string;
  active: boolean;
  publishedVersionId: string | null;
  /** The published version's number (Version.version); null until first published. */
  publishedVersion: number | null;
  publishedAt: Date | null;
  publishedById: string | null;
}

/** The publication as it is now (a deleted workflow: inactive, nothing published). */
export async function publicationState(deps: Pick<ServerDeps, "db">, workflowId: string): Promise<PublicationState> {
  const row = await deps.db.workflow.findUnique({ where: { id: workflowId }, select: { active: true, publishedVersionId: true } });
  const published = row?.publishedVersionId
    ? await deps.db.workflowSnapshot.findUnique({ where: { id: row.publishedVersionId }, select: { id: true, version: true, createdAt: true, authorId: true } })
    : null;
  return {
    workflowId,
    active: row?.active ?? false,
    publishedVersionId: published?.id ?? null,
    publishedVersion: published?.version ?? null,
    publishedAt: published?.createdAt ?? null,
    publishedById: published?.authorId ?? null,
  };
}

/**
 * Tells every server process that the workflow's publication changed, after the change is committed. The message
 * names the workflow only; each subscription reads the state then, so announcements that cross (two publishes at
 * once) still leave every editor on the latest state. Best effort: the change itself is already stored.
 */
async function announcePublication(deps: ServerDeps, workflowId: string): Promise<void> {
  try {
    await deps.redis.publish(workflowPublicationChannel(deps.env.REDIS_PREFIX, workflowId), JSON.stringify({ workflowId }));
  } catch (error) {
    deps.logger.warn("publication announcement failed", { workflowId, error: (error as Error).message });
  }
}

/**
 * Whether the workflow's triggers are on, and the version they run (null until first published). A workflow
 * deleted meanwhile (deleteWorkflow answers it as it was) has no triggers left: inactive, nothing published.
 */
export async function publicationOf(deps: ServerDeps, workflowId: string): Promise<{ active: boolean; publishedVersionId: string | null }> {
  const row = await deps.db.workflow.findUnique({ where: { id: workflowId }, select: { active: true, publishedVersionId: true } });
  return row ?? { active: false, publishedVersionId: null };
}

/** The published version (null until first published); the caller already reads the workflow. */
export async function publishedVersion(deps: ServerDeps, workflowId: string): Promise<VersionView | null> {
  const { publishedVersionId } = await publicationOf(deps, workflowId);
  if (!publishedVersionId) return null;
  const row = await deps.db.workflowSnapshot.findUnique({ where: { id: publishedVersionId }, select: VERSION_SELECT });
  return row ? toVersionView(row) : null;
}

// ---------- what webhooks and cron run ----------

/** What a webhook checks first, in one primary-key read: the secret, the published version and whether triggers are on. */
export interface WebhookTarget {
  webhookSecret: string;
  workspaceId: string;
  publishedVersionId: string | null;
  active: boolean;
}

export async function readWebhookTarget(db: Db, workflowId: string): Promise<WebhookTarget | null> {
  const rows = await query<WebhookTarget>(
    db,
    Prisma.sql`SELECT "webhookSecret", "workspaceId", "publishedVersionId", "active" FROM "Workflow" WHERE "id" = ${workflowId}`,
    "algo_webhook_target",
  );
  return rows[0] ?? null;
}

/** Published versions never change, so their definitions are cached by id; per Prisma client (tests run several servers). */
const publishedDefinitions = new WeakMap<Db, Map<string, { definition: WorkflowDefinition; problems: Problem[] }>>();
const PUBLISHED_CACHE_SIZE = 256;

async function publishedDefinition(db: Db, versionId: string): Promise<{ definition: WorkflowDefinition; problems: Problem[] } | null> {
  let cache = publishedDefinitions.get(db);
  if (!cache) publishedDefinitions.set(db, (cache = new Map()));
  const cached = cache.get(versionId);
  if (cached) return cached;
  const rows = await query<{ definition: WorkflowDefinition }>(
    db,
    Prisma.sql`SELECT "definition" FROM "WorkflowSnapshot" WHERE "id" = ${versionId}`,
    "algo_published_definition",
  );
  if (!rows[0]) return null;
  // Versions published on upgrade were not validated when they were stored; runs refuse them while they have problems.
  const entry = { definition: rows[0].definition, problems: validateDefinition(rows[0].definition) };
  cache.set(versionId, entry);
  if (cache.size > PUBLISHED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return entry;
}

/** The published version of a workflow as a run starts it, with the version's id. */
export async function publishedWorkflow(db: Db, workflowId: string, target: WebhookTarget): Promise<(LiveWorkflow & { versionId: string }) | null> {
  if (!target.publishedVersionId) return null;
  const published = await publishedDefinition(db, target.publishedVersionId);
  if (!published) return null;
  return { id: workflowId, workspaceId: target.workspaceId, webhookSecret: target.webhookSecret, ...published, versionId: target.publishedVersionId };
}

/** Why a trigger may not run a workflow now (R38), or null when it may: the webhook's 409 and cron's skip. */
export function triggerRefusal(target: Pick<WebhookTarget, "publishedVersionId" | "active">): { code: "NOT_PUBLISHED" | "INACTIVE"; message: string } | null {
  if (!target.publishedVersionId) {
    return { code: "NOT_PUBLISHED", message: "This workflow has never been published; publish it in the studio (or with publishWorkflow) so its triggers run the published version" };
  }
  if (!target.active) {
    return { code: "INACTIVE", message: "This workflow is deactivated; activate it (setWorkflowActive) for its triggers to run" };
  }
  return null;
}

// ---------- webhook idempotency (R39) ----------

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How long a key returns the same run. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** Thrown inside the run's transaction when the key already names a run: the new run is rolled back. */
export class DuplicateWebhookRequest extends Error {
  constructor(readonly runId: string) {
    super(`The Idempotency-Key already started run ${runId}`);
  }
}

/** A usable Idempotency-Key, or BAD_USER_INPUT; undefined when the header was not sent. */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim();
  if (!key.length || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError("BAD_USER_INPUT", `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`);
  }
  return key;
}

/**
 * R39: claims `key` for `runId` in the run's own transaction, insert-or-return in one statement. A key older
 * than the window is taken over. A concurrent claim of the same key waits for the first to commit and then
 * sees its run (ON CONFLICT DO UPDATE reads the committed row whatever the statement's snapshot), so it throws
 * DuplicateWebhookRequest with the first run's id and its own run is rolled back.
 */
export async function claimIdempotencyKey(tx: Tx, workflowId: string, key: string, runId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ runId: string }[]>`
    INSERT INTO "WebhookRequest" AS r ("workflowId", "key", "runId", "createdAt")
    VALUES (${workflowId}, ${key}, ${runId}, (now() AT TIME ZONE 'UTC'))
    ON CONFLICT ("workflowId", "key") DO UPDATE SET
      "runId" = CASE WHEN r."createdAt" < EXCLUDED."createdAt" - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS}::int) THEN EXCLUDED."runId" ELSE r."runId" END,
      "createdAt" = CASE WHEN r."createdAt" < EXCLUDED."createdAt" - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS}::int) THEN EXCLUDED."createdAt" ELSE r."createdAt" END
    RETURNING r."runId"`;
  const claimed = rows[0]?.runId;
  if (claimed !== runId) throw new DuplicateWebhookRequest(claimed!);
}

// ---------- attribution: who changed what since the published version ----------

export interface WorkflowChange {
  userId: string | null;
  /** Steps the author added, removed or changed. */
  stepIds: string[];
  /** Edges the author added, removed or changed. */
  edgeIds: string[];
  /** `<stepId>.<field>` (`config.<key>` for a config key), plus `name` / `description` / `settings` of the workflow. */
  fields: string[];
  /** The author's last edit in the window. */
  at: Date;
  /** How many logged updates the author made. */
  edits: number;
}

/** At most this many of the newest logged updates are attributed; older ones count as the starting point. */
export const MAX_ATTRIBUTED_UPDATES = 2000;

const stableJson = (value: unknown): string => JSON.stringify(value ?? null, (_key, item) =>
  item && typeof item === "object" && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item,
);

/** What one stretch of edits touched: steps, edges and fields, from the definitions before and after it. */
function touched(before: WorkflowDefinition, after: WorkflowDefinition, into: { steps: Set<string>; edges: Set<string>; fields: Set<string> }) {
  const diff = diffDefinitions(before, after);
  if (diff.nameChanged) into.fields.add("name");
  if (diff.descriptionChanged) into.fields.add("description");
  if (stableJson(before.settings) !== stableJson(after.settings)) into.fields.add("settings");
  for (const step of [...diff.stepsAdded, ...diff.stepsRemoved]) into.steps.add(step.id);
  const beforeSteps = new Map(before.steps.map((step) => [step.id, step]));
  for (const step of after.steps) {
    const old = beforeSteps.get(step.id);
    if (!old) continue;
    const changed = diff.stepsChanged.find((entry) => entry.id === step.id)?.fields ?? [];
    const onErrorChanged = (old.onError ?? null) !== (step.onError ?? null);
    if (!changed.length && !onErrorChanged) continue;
    into.steps.add(step.id);
    if (onErrorChanged) into.fields.add(`${step.id}.onError`);
    for (const field of changed) {
      if (field !== "config") {
        into.fields.add(`${step.id}.${field}`);
        continue;
      }
      const a = (old.config ?? {}) as Record<string, unknown>;
      const b = (step.config ?? {}) as Record<string, unknown>;
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (stableJson(a[key]) !== stableJson(b[key])) into.fields.add(`${step.id}.config.${key}`);
    }
  }
  for (const edge of [...diff.edgesAdded, ...diff.edgesRemoved]) into.edges.add(edge.id);
  for (const edge of diff.edgesChanged) into.edges.add(edge.id);
}

/**
 * Who changed what since the published version (or, never published, in the whole retained log): the log's
 * updates after the publication are replayed in seq order on the state before them, and each author's
 * stretch of consecutive updates is diffed. Compaction folds old updates into the stored state, so the
 * attribution covers the retained log only (and at most MAX_ATTRIBUTED_UPDATES updates).
 */
export async function changesSincePublished(deps: ServerDeps, caller: Caller, workflowId: string): Promise<WorkflowChange[]> {
  await requireWorkflowRole(deps.db, caller, workflowId, "read");
  const workflow = await deps.db.workflow.findUnique({ where: { id: workflowId }, select: { yjsState: true, publishedVersionId: true } });
  if (!workflow) throw notFound("Workflow");
  const published = workflow.publishedVersionId
    ? await deps.db.workflowSnapshot.findUnique({ where: { id: workflow.publishedVersionId }, select: { logSeq: true, createdAt: true } })
    : null;
  const rows = await deps.db.workflowUpdate.findMany({
    where: { workflowId },
    orderBy: { seq: "asc" },
    select: { seq: true, update: true, authorId: true, createdAt: true },
  });
  const since = (row: (typeof rows)[number]) =>
    !published ? true : published.logSeq !== null ? row.seq > published.logSeq : row.createdAt > published.createdAt;
  let first = rows.findIndex(since);
  if (first < 0) return [];
  first = Math.max(first, rows.length - MAX_ATTRIBUTED_UPDATES);
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, Y.mergeUpdates([workflow.yjsState, ...rows.slice(0, first).map((row) => row.update)]));
    let before = definitionFromDoc(doc).definition;
    const byAuthor = new Map<string | null, { steps: Set<string>; edges: Set<string>; fields: Set<string>; at: Date; edits: number }>();
    for (let i = first; i < rows.length; ) {
      // A stretch of one author's consecutive updates is diffed once (a person typing makes one update per key).
      const authorId = rows[i]!.authorId;
      let end = i;
      while (end < rows.length && rows[end]!.authorId === authorId) Y.applyUpdate(doc, rows[end++]!.update);
      const after = definitionFromDoc(doc).definition;
      let entry = byAuthor.get(authorId);
      if (!entry) byAuthor.set(authorId, (entry = { steps: new Set(), edges: new Set(), fields: new Set(), at: rows[end - 1]!.createdAt, edits: 0 }));
      touched(before, after, entry);
      entry.edits += end - i;
      entry.at = rows[end - 1]!.createdAt;
      before = after;
      i = end;
    }
    return [...byAuthor]
      .map(([userId, entry]) => ({ userId, stepIds: [...entry.steps].sort(), edgeIds: [...entry.edges].sort(), fields: [...entry.fields].sort(), at: entry.at, edits: entry.edits }))
      .sort((a, b) => b.at.getTime() - a.at.getTime());
  } finally {
    doc.destroy();
  }
}
