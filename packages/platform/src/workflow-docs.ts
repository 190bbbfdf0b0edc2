import { definitionFromDoc, type Problem, type WorkflowDefinition } from "@algorythmos/domain";
import type { Redis } from "ioredis";
import * as Y from "yjs";
import { bytes, json, preparedQuery, Prisma, transaction, type Db } from "./db.js";

/**
 * Durable storage of workflow Y.Docs: a compacted state on the Workflow row plus an append log of updates
 * (WorkflowUpdate). Append first, compact later — every acknowledged update is in one or the other.
 *
 * The log is ordered per workflow: each row has the next `seq` of its workflow (`Workflow.updateSeq` is the
 * last one handed out), and `Workflow.compactedSeq` is the last seq folded into `yjsState`. Appending bumps
 * `updateSeq` in the same statement, which locks the Workflow row until commit, so one workflow's rows commit
 * in seq order: whoever sees seq N committed sees every seq before it. That is what lets a collab room that
 * missed a relayed update fill the gap by reading the rows after the last seq it holds.
 */

/** The seqs of a workflow's log an append took (inclusive). */
export interface SeqRange {
  first: number;
  last: number;
}

/**
 * The stored state merged with every logged update, as one update, and the seq it holds everything up to;
 * null when the workflow does not exist. The log is read before the row: a compaction in between only
 * moves rows already read into the state read after (updates are idempotent), never loses one.
 */
export async function loadWorkflowState(
  db: Db,
  workflowId: string,
): Promise<{ state: Uint8Array; headSeq: number; workspaceId: string; webhookSecret: string } | null> {
  const updates = await db.workflowUpdate.findMany({ where: { workflowId }, orderBy: { seq: "asc" }, select: { seq: true, update: true } });
  const workflow = await db.workflow.findUnique({ where: { id: workflowId }, select: { yjsState: true, compactedSeq: true, workspaceId: true, webhookSecret: true } });
  if (!workflow) return null;
  const parts = [workflow.yjsState, ...updates.map((row) => row.update)];
  const headSeq = Math.max(Number(workflow.compactedSeq), Number(updates.at(-1)?.seq ?? 0));
  return { state: Y.mergeUpdates(parts), headSeq, workspaceId: workflow.workspaceId, webhookSecret: workflow.webhookSecret };
}

/**
 * What a document holding every seq up to `afterSeq` is missing: the logged updates after it and, when some
 * of those were compacted away meanwhile, the compacted state too. `headSeq` is what the document holds
 * once it has applied them. Null when the workflow is gone.
 */
export async function readWorkflowLogSince(
  db: Db,
  workflowId: string,
  afterSeq: number,
): Promise<{ updates: Uint8Array[]; snapshot: Uint8Array | null; headSeq: number } | null> {
  const rows = await db.workflowUpdate.findMany({
    where: { workflowId, seq: { gt: BigInt(afterSeq) } },
    orderBy: { seq: "asc" },
    select: { seq: true, update: true },
  });
  const contiguous = rows.length > 0 && Number(rows[0]!.seq) === afterSeq + 1;
  const workflow = await db.workflow.findUnique({
    where: { id: workflowId },
    select: { compactedSeq: true, ...(contiguous ? {} : { yjsState: true }) },
  });
  if (!workflow) return null;
  const compactedSeq = Number(workflow.compactedSeq);
  const snapshot = !contiguous && compactedSeq > afterSeq ? (workflow as { yjsState: Uint8Array }).yjsState : null;
  const headSeq = Math.max(afterSeq, Number(rows.at(-1)?.seq ?? 0), snapshot ? compactedSeq : 0);
  return { updates: rows.map((row) => row.update), snapshot, headSeq };
}

/** The head of each workflow's log (`Workflow.updateSeq`); a workflow that is gone is missing from the map. */
export async function workflowLogHeads(db: Db, workflowIds: string[]): Promise<Map<string, number>> {
  if (!workflowIds.length) return new Map();
  const rows = await db.workflow.findMany({ where: { id: { in: workflowIds } }, select: { id: true, updateSeq: true } });
  return new Map(rows.map((row) => [row.id, Number(row.updateSeq)]));
}

/** A workflow as it is now: every acknowledged edit, read through the domain mapping. */
export interface LiveWorkflow {
  id: string;
  workspaceId: string;
  webhookSecret: string;
  definition: WorkflowDefinition;
  problems: Problem[];
}

export async function loadLiveWorkflow(db: Db, workflowId: string): Promise<LiveWorkflow | null> {
  const stored = await loadWorkflowState(db, workflowId);
  if (!stored) return null;
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, stored.state);
    return { id: workflowId, workspaceId: stored.workspaceId, webhookSecret: stored.webhookSecret, ...definitionFromDoc(doc) };
  } finally {
    doc.destroy();
  }
}

export async function loadWorkflowDoc(db: Db, workflowId: string): Promise<Y.Doc | null> {
  const loaded = await loadWorkflowState(db, workflowId);
  if (!loaded) return null;
  const doc = new Y.Doc();
  Y.applyUpdate(doc, loaded.state);
  return doc;
}

/**
 * Appends updates to one workflow's log, in order, in one statement: they take the workflow's next seqs.
 * `authorIds[i]` is who made `updates[i]` (attribution since the published version); null for server writes.
 * Returns the range they took, or null when the workflow does not exist (nothing is stored then).
 */
export async function appendWorkflowUpdates(
  db: Db,
  workflowId: string,
  updates: Uint8Array[],
  authorIds: (string | null)[] = [],
): Promise<SeqRange | null> {
  if (!updates.length) throw new Error("appendWorkflowUpdates needs at least one update");
  // Every collab edit makes this statement: prepared (db.ts), one text for any batch size (an array parameter).
  const rows = await preparedQuery<{ seq: string | bigint }>(
    db,
    "algo_append_workflow_updates",
    `WITH bumped AS (
       UPDATE "Workflow" SET "updateSeq" = "updateSeq" + cardinality($2::bytea[])
       WHERE id = $1 RETURNING "updateSeq" - cardinality($2::bytea[]) AS base
     )
     INSERT INTO "WorkflowUpdate" ("workflowId", "seq", "update", "authorId")
     SELECT $1::text, bumped.base + v.ord, v.update, v.author FROM bumped, unnest($2::bytea[], $3::text[]) WITH ORDINALITY AS v(update, author, ord)
     RETURNING "seq"`,
    [workflowId, updates.map((update) => Buffer.from(update.buffer, update.byteOffset, update.byteLength)), updates.map((_, i) => authorIds[i] ?? null)],
  );
  if (!rows.length) return null;
  const seqs = rows.map((row) => Number(row.seq));
  return { first: Math.min(...seqs), last: Math.max(...seqs) };
}

/** Folds the update log into the Workflow row's state. Safe to run from any process at any time. */
export async function compactWorkflowDoc(db: Db, workflowId: string): Promise<number> {
  return transaction(db, async (tx) => {
    // The row lock also holds appenders back, so no seq can commit between the read and the delete.
    const locked = await tx.$queryRaw<{ yjsState: Uint8Array }[]>`
      SELECT "yjsState" FROM "Workflow" WHERE id = ${workflowId} FOR UPDATE`;
    if (!locked[0]) return 0;
    const updates = await tx.workflowUpdate.findMany({
      where: { workflowId },
      orderBy: { seq: "asc" },
      select: { seq: true, update: true },
    });
    if (!updates.length) return 0;
    const merged = Y.mergeUpdates([locked[0].yjsState, ...updates.map((row) => row.update)]);
    const lastSeq = updates.at(-1)!.seq;
    await tx.workflow.update({ where: { id: workflowId }, data: { yjsState: bytes(merged), compactedSeq: lastSeq } });
    await tx.workflowUpdate.deleteMany({ where: { workflowId, seq: { lte: lastSeq } } });
    return updates.length;
  });
}

/** Stores the definition read from the doc (and its problems) on the Workflow row, for lists and API reads. */
export async function materialiseDefinition(
  db: Db,
  workflowId: string,
  doc: Y.Doc,
): Promise<{ definition: WorkflowDefinition; problems: Problem[] }> {
  const result = definitionFromDoc(doc);
  // After every settled edit of every open document: prepared (db.ts). `updatedAt` in UTC, as Prisma writes it.
  await preparedQuery(
    db,
    "algo_materialise_definition",
    `UPDATE "Workflow" SET name = $2, description = $3, definition = $4::jsonb, problems = $5::jsonb, "updatedAt" = (now() AT TIME ZONE 'UTC') WHERE id = $1`,
    [workflowId, result.definition.name || "Untitled", result.definition.description, JSON.stringify(result.definition), JSON.stringify(result.problems)],
  );
  return result;
}

// ---------- relay between processes ----------

/**
 * Every durable update of a workflow doc is also published here, so collab rooms on other processes (and
 * rooms that must see an API edit or a version restore) apply it. The message is the origin's id, then the
 * update; a process ignores its own messages.
 */
export const workflowDocChannel = (redisPrefix: string, workflowId: string) => `${redisPrefix}doc-updates:${workflowId}`;

export interface RelayMessage {
  /** The publishing process (a process ignores its own messages). */
  origin: string;
  update: Uint8Array;
  /** The log seqs the update was stored as; absent in messages of processes from before the ordered log. */
  seqs?: SeqRange;
}

/** Marks the sequenced form (an origin is never empty, so a first byte of 0 never starts the older form). */
const SEQUENCED = 0;

/** Wire form: 0, origin length, origin (UTF-8), first and last seq (64-bit big-endian each), the update. */
export function encodeRelayMessage(origin: string, update: Uint8Array, seqs: SeqRange): Buffer {
  const originBytes = Buffer.from(origin, "utf8");
  const header = Buffer.alloc(2 + originBytes.length + 16);
  header[0] = SEQUENCED;
  header[1] = originBytes.length;
  originBytes.copy(header, 2);
  header.writeBigUInt64BE(BigInt(seqs.first), 2 + originBytes.length);
  header.writeBigUInt64BE(BigInt(seqs.last), 10 + originBytes.length);
  return Buffer.concat([header, update]);
}

/** Reads both the sequenced form and the older origin-and-update form; null when the message is neither. */
export function decodeRelayMessage(message: Buffer): RelayMessage | null {
  if (message.length < 1) return null;
  if (message[0] !== SEQUENCED) {
    const length = message[0]!;
    if (message.length < 1 + length) return null;
    return { origin: message.subarray(1, 1 + length).toString("utf8"), update: new Uint8Array(message.subarray(1 + length)) };
  }
  if (message.length < 2) return null;
  const length = message[1]!;
  const seqsAt = 2 + length;
  if (length === 0 || message.length < seqsAt + 16) return null;
  const first = Number(message.readBigUInt64BE(seqsAt));
  const last = Number(message.readBigUInt64BE(seqsAt + 8));
  if (first < 1 || last < first) return null;
  return { origin: message.subarray(2, seqsAt).toString("utf8"), update: new Uint8Array(message.subarray(seqsAt + 16)), seqs: { first, last } };
}

/**
 * Changes a stored workflow doc outside any live room (API edits, imports, version restores): the change is
 * appended like any client's edit, relayed to live rooms, and materialised. Returns null when the workflow is
 * gone; the result when the change was a no-op too.
 */
export async function changeWorkflowDoc(
  db: Db,
  redis: Redis,
  redisPrefix: string,
  workflowId: string,
  change: (doc: Y.Doc) => void,
  options: { authorId?: string | null } = {},
): Promise<{ definition: WorkflowDefinition; problems: Problem[] } | null> {
  const doc = await loadWorkflowDoc(db, workflowId);
  if (!doc) return null;
  try {
    const updates: Uint8Array[] = [];
    doc.on("update", (update: Uint8Array) => updates.push(update));
    change(doc);
    if (updates.length) {
      const update = Y.mergeUpdates(updates);
      const seqs = await appendWorkflowUpdates(db, workflowId, [update], [options.authorId ?? null]);
      if (!seqs) return null;
      // Durable already: a publish that fails only delays live rooms until their anti-entropy pass.
      await redis
        .publish(workflowDocChannel(redisPrefix, workflowId), encodeRelayMessage("api", update, seqs))
        .catch(() => undefined);
    }
    return await materialiseDefinition(db, workflowId, doc);
  } finally {
    doc.destroy();
  }
}
