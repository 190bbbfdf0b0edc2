import * as Y from "yjs";
import { isPlainYText, readTextValue, setTextField } from "./ytext.js";

/**
 * Comments on a workflow (docs/ydoc-layout.md L13): a top-level `comments` map beside the definition's maps,
 *   comments: Y.Map commentId → Y.Map {
 *     anchor:    plain JSON { stepId } | { x, y }     // pinned to a step, or to a point of the canvas
 *     text:      text (Y.Text)                         // co-typed, L1–L5
 *     authorId, authorName: string; createdAt: number (ms since epoch)
 *     mentions:  plain JSON string[]                   // user ids of the workspace members @mentioned
 *     resolved:  boolean; resolvedBy?: string          // last writer wins
 *     replies:   Y.Array [ Y.Map { id, text: Y.Text, authorId, authorName, createdAt, mentions } ]
 *   }
 * Comments are not part of the workflow definition: applyDefinitionToDoc (imports, version restores) never
 * touches this map, so restoring or publishing a version keeps every comment.
 */
export const COMMENTS_KEY = "comments";
/** Longest comment or reply text; a longer one is refused with a message, never cut silently. */
export const COMMENT_MAX_LENGTH = 4000;

export type CommentAnchor = { stepId: string } | { x: number; y: number };

export interface CommentReply {
  id: string;
  text: string;
  authorId: string;
  authorName: string;
  createdAt: number;
  mentions: string[];
}

export interface WorkflowComment extends CommentReply {
  anchor: CommentAnchor;
  resolved: boolean;
  resolvedBy: string | null;
  replies: CommentReply[];
}

export interface CommentAuthor {
  id: string;
  name: string;
}

/** The comments map, or null while the document has never held a comment (reading adds no empty map). */
export function commentsMap(doc: Y.Doc, create = false): Y.Map<unknown> | null {
  return create || doc.share.has(COMMENTS_KEY) ? doc.getMap<unknown>(COMMENTS_KEY) : null;
}

const randomId = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36).slice(-4)}`;

function readAnchor(value: unknown): CommentAnchor | null {
  if (!value || typeof value !== "object") return null;
  const anchor = value as Record<string, unknown>;
  if (typeof anchor.stepId === "string") return { stepId: anchor.stepId };
  if (typeof anchor.x === "number" && Number.isFinite(anchor.x) && typeof anchor.y === "number" && Number.isFinite(anchor.y)) return { x: anchor.x, y: anchor.y };
  return null;
}

const readMentions = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

function readEntry(map: Y.Map<unknown>, fallbackId: string): CommentReply {
  const createdAt = map.get("createdAt");
  return {
    id: typeof map.get("id") === "string" ? (map.get("id") as string) : fallbackId,
    text: readTextValue(map.get("text")) ?? "",
    authorId: typeof map.get("authorId") === "string" ? (map.get("authorId") as string) : "",
    authorName: typeof map.get("authorName") === "string" ? (map.get("authorName") as string) : "Someone",
    createdAt: typeof createdAt === "number" && Number.isFinite(createdAt) ? createdAt : 0,
    mentions: readMentions(map.get("mentions")),
  };
}

/** Every comment with its replies, oldest first. Malformed entries (not a Y.Map, no usable anchor) are skipped. */
export function readComments(doc: Y.Doc): WorkflowComment[] {
  const map = commentsMap(doc);
  if (!map) return [];
  const comments: WorkflowComment[] = [];
  for (const [id, value] of map.entries()) {
    if (!(value instanceof Y.Map)) continue;
    const anchor = readAnchor(value.get("anchor"));
    if (!anchor) continue;
    const replies = value.get("replies");
    comments.push({
      ...readEntry(value, id),
      id,
      anchor,
      resolved: value.get("resolved") === true,
      resolvedBy: typeof value.get("resolvedBy") === "string" ? (value.get("resolvedBy") as string) : null,
      replies:
        replies instanceof Y.Array
          ? replies
              .toArray()
              .filter((r): r is Y.Map<unknown> => r instanceof Y.Map)
              .map((r, index) => readEntry(r, `${id}.${index}`))
          : [],
    });
  }
  return comments.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** Why a comment text cannot be posted, or null when it can. */
export function commentTextProblem(text: string): string | null {
  if (!text.trim()) return "Write something first.";
  if (text.length > COMMENT_MAX_LENGTH) return `A comment holds at most ${COMMENT_MAX_LENGTH} characters (this one has ${text.length}).`;
  return null;
}

function entryMap(author: CommentAuthor, text: string, mentions: string[], id: string): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set("id", id);
  map.set("text", new Y.Text(text));
  map.set("authorId", author.id);
  map.set("authorName", author.name);
  map.set("createdAt", Date.now());
  map.set("mentions", [...new Set(mentions)]);
  return map;
}

function checkText(text: string) {
  const problem = commentTextProblem(text);
  if (problem) throw new Error(problem);
}

/** Adds a comment thread; returns its id. Throws (with the message to show) on an empty or too long text. */
export function addComment(doc: Y.Doc, input: { anchor: CommentAnchor; text: string; author: CommentAuthor; mentions?: string[] }, origin: unknown = null): string {
  checkText(input.text);
  const id = randomId("cmt");
  doc.transact(() => {
    const map = entryMap(input.author, input.text, input.mentions ?? [], id);
    map.set("anchor", "stepId" in input.anchor ? { stepId: input.anchor.stepId } : { x: Math.round(input.anchor.x), y: Math.round(input.anchor.y) });
    map.set("resolved", false);
    map.set("replies", new Y.Array());
    commentsMap(doc, true)!.set(id, map);
  }, origin);
  return id;
}

function commentEntry(doc: Y.Doc, commentId: string): Y.Map<unknown> | null {
  const value = commentsMap(doc)?.get(commentId);
  return value instanceof Y.Map ? value : null;
}

/** Adds a reply at the end of the thread; returns its id, or null when the comment is gone. */
export function addReply(doc: Y.Doc, commentId: string, input: { text: string; author: CommentAuthor; mentions?: string[] }, origin: unknown = null): string | null {
  checkText(input.text);
  const comment = commentEntry(doc, commentId);
  if (!comment) return null;
  const id = randomId("rpl");
  doc.transact(() => {
    let replies = comment.get("replies");
    if (!(replies instanceof Y.Array)) comment.set("replies", (replies = new Y.Array()));
    (replies as Y.Array<unknown>).push([entryMap(input.author, input.text, input.mentions ?? [], id)]);
  }, origin);
  return id;
}

/** Resolves or reopens a thread (false when the comment is gone). */
export function setCommentResolved(doc: Y.Doc, commentId: string, resolved: boolean, by: CommentAuthor, origin: unknown = null): boolean {
  const comment = commentEntry(doc, commentId);
  if (!comment) return false;
  doc.transact(() => {
    comment.set("resolved", resolved);
    if (resolved) comment.set("resolvedBy", by.name);
    else comment.delete("resolvedBy");
  }, origin);
  return true;
}

/** Deletes a thread with its replies. */
export function deleteComment(doc: Y.Doc, commentId: string, origin: unknown = null): void {
  const map = commentsMap(doc);
  if (map?.has(commentId)) doc.transact(() => map.delete(commentId), origin);
}

/** Adds user ids to an entry's mentions (a mention picked while editing an existing text). */
export function addCommentMentions(doc: Y.Doc, commentId: string, replyId: string | null, userIds: string[], origin: unknown = null): void {
  const slot = commentEntrySlot(doc, commentId, replyId);
  if (!slot) return;
  const current = readMentions(slot.get("mentions"));
  const next = [...new Set([...current, ...userIds])];
  if (next.length !== current.length) doc.transact(() => slot.set("mentions", next), origin);
}

/** The Y.Map of a comment (replyId null) or of one of its replies. */
export function commentEntrySlot(doc: Y.Doc, commentId: string, replyId: string | null): Y.Map<unknown> | null {
  const comment = commentEntry(doc, commentId);
  if (!comment || replyId === null) return comment;
  const replies = comment.get("replies");
  if (!(replies instanceof Y.Array)) return null;
  return (replies.toArray().find((r) => r instanceof Y.Map && r.get("id") === replyId) as Y.Map<unknown> | undefined) ?? null;
}

/** The comment's (or reply's) text, as a Y.Text (null while it is a plain string or the entry is gone). */
export function commentText(doc: Y.Doc, commentId: string, replyId: string | null): Y.Text | null {
  const text = commentEntrySlot(doc, commentId, replyId)?.get("text");
  return isPlainYText(text) ? text : null;
}

/** Edits a comment's or reply's text by a minimal splice (L3); refuses (false) an empty or too long text. */
export function editCommentText(doc: Y.Doc, commentId: string, replyId: string | null, value: string, caret?: number, origin: unknown = null): boolean {
  if (value.length > COMMENT_MAX_LENGTH) return false;
  const slot = commentEntrySlot(doc, commentId, replyId);
  if (!slot) return false;
  doc.transact(() => setTextField(slot, "text", value, caret), origin);
  return true;
}

/**
 * The `@mention` being typed just before the caret (`@` at the start or after a space, then up to 40
 * characters without a newline), for the autocomplete: its start offset and what was typed after `@`.
 */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@][^@\n]{0,39}|)$/.exec(before);
  if (!match) return null;
  const query = match[2]!;
  // A space ends the query unless a member's name could still go on (the caller filters by name).
  return { start: caret - query.length - 1, query };
}

/** Members whose name (or email) starts with the query, words included ("lo" finds "Ada Lovelace"). */
export function matchMembers<M extends { name: string; email?: string }>(members: M[], query: string, limit = 6): M[] {
  const q = query.trim().toLowerCase();
  return members
    .filter((m) => !q || m.name.toLowerCase().startsWith(q) || m.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) || (m.email ?? "").toLowerCase().startsWith(q))
    .slice(0, limit);
}
