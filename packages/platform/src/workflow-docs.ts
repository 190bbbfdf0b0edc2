import { definitionFromDoc, type Problem, type WorkflowDefinition } from "@algorythmos/domain";
import type { Redis } from "ioredis";
import * as Y from "yjs";
import { bytes, json, transaction, type Db } from "./db.js";

/**
 * Durable storage of workflow Y.Docs: a compacted state on the Workflow row plus an append log of updates
 * (WorkflowUpdate). Append first, compact later — every acknowledged update is in one or the other.
 */

/** The stored state merged with every logged update, as one update; null when the workflow does not exist. */
export async function loadWorkflowState(
  db: Db,
  workflowId: string,
): Promise<{ state: Uint8Array; lastUpdateId: bigint; workspaceId: string; webhookSecret: string } | null> {
  const [workflow, updates] = await Promise.all([
    db.workflow.findUnique({ where: { id: workflowId }, select: { yjsState: true, workspaceId: true, webhookSecret: true } }),
    db.workflowUpdate.findMany({ where: { workflowId }, orderBy: { id: "asc" }, select: { id: true, update: true } }),
  ]);
  if (!workflow) return null;
  const parts = [workflow.yjsState, ...updates.map((row) => row.update)];
  return { state: Y.mergeUpdates(parts), lastUpdateId: updates.at(-1)?.id ?? 0n, workspaceId: workflow.workspaceId, webhookSecret: workflow.webhookSecret };
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

export async function appendWorkflowUpdate(db: Db, workflowId: string, update: Uint8Array): Promise<bigint> {
  const row = await db.workflowUpdate.create({ data: { workflowId, update: bytes(update) }, select: { id: true } });
  return row.id;
}

/** Folds the update log into the Workflow row's state. Safe to run from any process at any time. */
export async function compactWorkflowDoc(db: Db, workflowId: string): Promise<number> {
  return transaction(db, async (tx) => {
    const locked = await tx.$queryRaw<{ yjsState: Uint8Array }[]>`
      SELECT "yjsState" FROM "Workflow" WHERE id = ${workflowId} FOR UPDATE`;
    if (!locked[0]) return 0;
    const updates = await tx.workflowUpdate.findMany({
      where: { workflowId },
      orderBy: { id: "asc" },
      select: { id: true, update: true },
    });
    if (!updates.length) return 0;
    const merged = Y.mergeUpdates([locked[0].yjsState, ...updates.map((row) => row.update)]);
    await tx.workflow.update({ where: { id: workflowId }, data: { yjsState: bytes(merged) } });
    await tx.workflowUpdate.deleteMany({ where: { workflowId, id: { lte: updates.at(-1)!.id } } });
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
  await db.workflow.update({
    where: { id: workflowId },
    data: {
      name: result.definition.name || "Untitled",
      description: result.definition.description,
      definition: json(result.definition),
      problems: json(result.problems),
    },
  });
  return result;
}

// ---------- relay between processes ----------

/**
 * Every durable update of a workflow doc is also published here, so collab rooms on other processes (and
 * rooms that must see an API edit or a version restore) apply it. The message is the origin's id, then the
 * update; a process ignores its own messages.
 */
export const workflowDocChannel = (redisPrefix: string, workflowId: string) => `${redisPrefix}doc-updates:${workflowId}`;

export function encodeRelayMessage(origin: string, update: Uint8Array): Buffer {
  const originBytes = Buffer.from(origin, "utf8");
  return Buffer.concat([Buffer.from([originBytes.length]), originBytes, update]);
}

export function decodeRelayMessage(message: Buffer): { origin: string; update: Uint8Array } | null {
  if (message.length < 1) return null;
  const length = message[0]!;
  if (message.length < 1 + length) return null;
  return { origin: message.subarray(1, 1 + length).toString("utf8"), update: new Uint8Array(message.subarray(1 + length)) };
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
): Promise<{ definition: WorkflowDefinition; problems: Problem[] } | null> {
  const doc = await loadWorkflowDoc(db, workflowId);
  if (!doc) return null;
  try {
    const updates: Uint8Array[] = [];
    doc.on("update", (update: Uint8Array) => updates.push(update));
    change(doc);
    if (updates.length) {
      const update = Y.mergeUpdates(updates);
      await appendWorkflowUpdate(db, workflowId, update);
      await redis.publish(workflowDocChannel(redisPrefix, workflowId), encodeRelayMessage("api", update));
    }
    return await materialiseDefinition(db, workflowId, doc);
  } finally {
    doc.destroy();
  }
}
