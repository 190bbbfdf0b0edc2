import {
  addComment,
  addReply,
  commentTextProblem,
  COMMENT_MAX_LENGTH,
  deleteComment,
  matchMembers,
  mentionQuery,
  setCommentResolved,
  type CommentAnchor,
  type CommentAuthor,
  type WorkflowComment,
} from "@algorythmos/domain";
import { useSearchParams } from "@remix-run/react";
import { useNodes, ViewportPortal } from "@xyflow/react";
import { createContext, useContext, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import { timeAgo } from "./PublishDialog";
import { CollabTextField } from "./CollabTextField";

/** A workspace member who can be @mentioned. */
export interface Member {
  id: string;
  name: string;
  email?: string;
}

/** What the comment pins (inside the canvas) and the comments panel share, from the editor around them. */
export interface CommentsState {
  doc: Y.Doc | null;
  comments: WorkflowComment[];
  /** The thread open in the panel (its pin is highlighted), or null. */
  activeId: string | null;
  open(commentId: string | null): void;
}
export const CommentsContext = createContext<CommentsState>({ doc: null, comments: [], activeId: null, open: () => {} });

/** Rows a comment's text needs in the panel's width (about 34 characters a line), 1 to 6. */
const rowsFor = (text: string) => Math.min(6, Math.max(1, text.split("\n").reduce((rows, line) => rows + Math.max(1, Math.ceil(line.length / 34)), 0)));

const anchorLabel = (anchor: CommentAnchor, stepNames: Map<string, string>) =>
  "stepId" in anchor ? `on ${stepNames.has(anchor.stepId) ? `“${stepNames.get(anchor.stepId)}”` : "a removed step"}` : "on the canvas";

/** The thread a link names (`?comment=<id>`, e.g. from a notification), or null. */
const useLinkedCommentId = () => useSearchParams()[0].get("comment");

/** Pins of the open threads on the canvas (at their point, or at the top right of their step); a click opens the thread. */
export function CommentPins() {
  const { comments, activeId, open } = useContext(CommentsContext);
  const linked = useLinkedCommentId();
  const openedLink = useRef<string | null>(null);
  // A link's thread opens once it is in the synced document (once per link: closing it keeps it closed).
  useEffect(() => {
    if (!linked || openedLink.current === linked || !comments.some((c) => c.id === linked)) return;
    openedLink.current = linked;
    open(linked);
  }, [linked, comments, open]);
  const nodes = useNodes();
  const byId = useMemo(() => new Map(nodes.map((n) => [n.id, n])), [nodes]);
  return (
    <ViewportPortal>
      {comments.map((comment) => {
        if (comment.resolved && comment.id !== activeId) return null;
        let at: { x: number; y: number } | null = null;
        if ("stepId" in comment.anchor) {
          const node = byId.get(comment.anchor.stepId);
          if (node) at = { x: node.position.x + (node.measured?.width ?? 180) - 10, y: node.position.y - 14 };
        } else at = comment.anchor;
        if (!at) return null;
        const count = 1 + comment.replies.length;
        return (
          <button
            key={comment.id}
            type="button"
            className={`comment-pin${comment.id === activeId ? " active" : ""}${comment.resolved ? " resolved" : ""}`}
            data-testid="comment-pin"
            data-comment-id={comment.id}
            style={{ transform: `translate(${at.x}px, ${at.y}px)` }}
            title={`${comment.authorName}: ${comment.text.slice(0, 120)}`}
            aria-label={`Comment by ${comment.authorName}${count > 1 ? ` and ${count - 1} repl${count === 2 ? "y" : "ies"}` : ""}`}
            onClick={(event) => {
              event.stopPropagation();
              open(comment.id);
            }}
          >
            {count}
          </button>
        );
      })}
    </ViewportPortal>
  );
}

/**
 * A text area with @mention autocomplete of workspace members: typing `@` and a few letters lists the
 * matching members (↑/↓, Enter or Tab to pick, Escape to close); a pick inserts `@Name ` and records the id.
 */
function MentionTextarea({
  value,
  onChange,
  members,
  onMention,
  onSubmit,
  label,
  placeholder,
  disabled,
  testId,
}: {
  value: string;
  onChange(value: string): void;
  members: Member[];
  onMention(member: Member): void;
  onSubmit(): void;
  label: string;
  placeholder: string;
  disabled: boolean;
  testId: string;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [caret, setCaret] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [highlight, setHighlight] = useState(0);
  const query = mentionQuery(value, caret);
  const options = query && dismissed !== query.start ? matchMembers(members, query.query) : [];
  const showList = options.length > 0;

  const pick = (member: Member) => {
    if (!query) return;
    const next = `${value.slice(0, query.start)}@${member.name} ${value.slice(caret)}`;
    const position = query.start + member.name.length + 2;
    onChange(next);
    onMention(member);
    // "@Grace " still matches Grace (names may have spaces): the pick closes this mention's list.
    setDismissed(query.start);
    setCaret(position);
    requestAnimationFrame(() => ref.current?.setSelectionRange(position, position));
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (showList) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setHighlight((h) => (h + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        pick(options[Math.min(highlight, options.length - 1)]!);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setDismissed(query!.start);
        return;
      }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onSubmit();
    }
  };
  return (
    <div className="mention-input">
      <textarea
        ref={ref}
        aria-label={label}
        data-testid={testId}
        rows={2}
        value={value}
        placeholder={placeholder}
        disabled={disabled}
        maxLength={COMMENT_MAX_LENGTH + 1}
        role="combobox"
        aria-expanded={showList}
        aria-controls={listId}
        aria-autocomplete="list"
        onChange={(e) => {
          onChange(e.target.value);
          setCaret(e.target.selectionEnd ?? e.target.value.length);
          setHighlight(0);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionEnd ?? 0)}
        onKeyDown={onKeyDown}
      />
      {showList ? (
        <ul className="mention-options" id={listId} role="listbox" aria-label="Members to mention">
          {options.map((member, index) => (
            <li
              key={member.id}
              role="option"
              aria-selected={index === highlight}
              className={index === highlight ? "highlighted" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(member);
              }}
            >
              <strong>{member.name}</strong>
              {member.email ? <span className="muted"> {member.email}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** A composer's text and the members picked from its autocomplete (kept only while `@Name` is still in the text). */
function useDraft() {
  const [text, setText] = useState("");
  const [mentioned, setMentioned] = useState<Member[]>([]);
  const [error, setError] = useState<string | null>(null);
  return {
    text,
    error,
    setError,
    setText: (value: string) => {
      setText(value);
      if (error) setError(value.length > COMMENT_MAX_LENGTH ? commentTextProblem(value) : null);
    },
    mention: (member: Member) => setMentioned((list) => (list.some((m) => m.id === member.id) ? list : [...list, member])),
    mentions: () => mentioned.filter((m) => text.includes(`@${m.name}`)).map((m) => m.id),
    reset: () => {
      setText("");
      setMentioned([]);
      setError(null);
    },
  };
}

function Mentions({ ids, members }: { ids: string[]; members: Member[] }) {
  if (!ids.length) return null;
  const names = ids.map((id) => members.find((m) => m.id === id)?.name ?? "a former member");
  return (
    <p className="comment-mentions small" data-testid="comment-mentions">
      {names.map((name, i) => (
        <span key={ids[i]} className="mention-chip">
          @{name}
        </span>
      ))}
    </p>
  );
}

function Thread({
  doc,
  comment,
  me,
  members,
  readOnly,
  awareness,
  stepNames,
  active,
  onOpen,
  now,
}: {
  doc: Y.Doc;
  comment: WorkflowComment;
  me: CommentAuthor;
  members: Member[];
  readOnly: boolean;
  awareness: WebsocketProvider["awareness"] | null;
  stepNames: Map<string, string>;
  active: boolean;
  onOpen(id: string | null): void;
  now: number | null;
}) {
  const reply = useDraft();
  const id = useId();
  const threadRef = useRef<HTMLLIElement>(null);
  const linked = useLinkedCommentId() === comment.id;
  // The thread a link opened is brought into view and focused, so the reader lands on it.
  useEffect(() => {
    if (!active || !linked) return;
    threadRef.current?.scrollIntoView({ block: "nearest" });
    threadRef.current?.focus({ preventScroll: true });
  }, [active, linked]);
  const when = (ms: number) => (ms ? timeAgo(new Date(ms).toISOString(), now) : "");
  const post = () => {
    const problem = commentTextProblem(reply.text);
    if (problem) return reply.setError(problem);
    addReply(doc, comment.id, { text: reply.text, author: me, mentions: reply.mentions() });
    reply.reset();
  };
  return (
    <li
      ref={threadRef}
      tabIndex={-1}
      className={`comment-thread${active ? " active" : ""}${comment.resolved ? " resolved" : ""}`}
      data-testid="comment-thread"
      data-comment-id={comment.id}
    >
      <div className="comment-head">
        <button type="button" className="link" onClick={() => onOpen(active ? null : comment.id)} aria-expanded={active}>
          <strong>{comment.authorName}</strong> <span className="muted">{anchorLabel(comment.anchor, stepNames)}</span>
        </button>
        <span className="muted small">{when(comment.createdAt)}</span>
      </div>
      <CollabTextField
        doc={doc}
        field={{ kind: "comment", commentId: comment.id }}
        awareness={awareness}
        id={`${id}-text`}
        aria-label={`Comment by ${comment.authorName}`}
        readOnly={readOnly}
        multiline
        rows={rowsFor(comment.text)}
        maxLength={COMMENT_MAX_LENGTH}
        className="comment-text"
      />
      <Mentions ids={comment.mentions} members={members} />
      {comment.replies.length ? (
        <ol className="comment-replies">
          {comment.replies.map((r) => (
            <li key={r.id} data-testid="comment-reply">
              <div className="comment-head">
                <strong>{r.authorName}</strong>
                <span className="muted small">{when(r.createdAt)}</span>
              </div>
              <CollabTextField
                doc={doc}
                field={{ kind: "comment", commentId: comment.id, replyId: r.id }}
                awareness={awareness}
                id={`${id}-${r.id}`}
                aria-label={`Reply by ${r.authorName}`}
                readOnly={readOnly}
                multiline
                rows={rowsFor(r.text)}
                maxLength={COMMENT_MAX_LENGTH}
                className="comment-text"
              />
              <Mentions ids={r.mentions} members={members} />
            </li>
          ))}
        </ol>
      ) : null}
      {comment.resolved ? <p className="muted small" data-testid="resolved-by">Resolved{comment.resolvedBy ? ` by ${comment.resolvedBy}` : ""}</p> : null}
      {readOnly ? null : (
        <>
          {active && !comment.resolved ? (
            <div className="comment-compose">
              <MentionTextarea
                value={reply.text}
                onChange={reply.setText}
                members={members}
                onMention={reply.mention}
                onSubmit={post}
                label="Reply"
                placeholder="Reply… (@ to mention)"
                disabled={false}
                testId="reply-input"
              />
              {reply.error ? (
                <p className="field-error" role="alert">
                  {reply.error}
                </p>
              ) : null}
            </div>
          ) : null}
          <div className="comment-actions">
            {active && !comment.resolved ? (
              <button type="button" onClick={post}>
                Reply
              </button>
            ) : null}
            <button type="button" data-testid="resolve" onClick={() => setCommentResolved(doc, comment.id, !comment.resolved, me)}>
              {comment.resolved ? "Reopen" : "Resolve"}
            </button>
            {comment.authorId === me.id ? (
              <button type="button" className="link danger" onClick={() => deleteComment(doc, comment.id)}>
                Delete
              </button>
            ) : null}
          </div>
        </>
      )}
    </li>
  );
}

/**
 * The comments panel: a composer (on the selected step, or on the canvas at the centre of the view), then the
 * threads — open ones first, resolved ones behind a toggle. Everything is in the Y.Doc (L13), so it is live
 * for everyone with the workflow open and kept across versions.
 */
export function CommentsPanel({
  me,
  members,
  readOnly,
  awareness,
  selectedStep,
  stepNames,
  viewCentre,
  now,
}: {
  me: CommentAuthor;
  members: Member[];
  readOnly: boolean;
  awareness: WebsocketProvider["awareness"] | null;
  selectedStep: { id: string; name: string } | null;
  stepNames: Map<string, string>;
  /** Where a canvas comment goes: the centre of our view, in flow coordinates. */
  viewCentre(): { x: number; y: number };
  now: number | null;
}) {
  const { doc, comments, activeId, open } = useContext(CommentsContext);
  const draft = useDraft();
  const [showResolved, setShowResolved] = useState(false);
  const open_ = comments.filter((c) => !c.resolved);
  const resolved = comments.filter((c) => c.resolved);
  // The open thread stays in the list when someone resolves it, so its reader sees who did.
  const shown = showResolved ? [...open_, ...resolved] : comments.filter((c) => !c.resolved || c.id === activeId);
  const post = () => {
    if (!doc) return;
    const problem = commentTextProblem(draft.text);
    if (problem) return draft.setError(problem);
    const anchor: CommentAnchor = selectedStep ? { stepId: selectedStep.id } : viewCentre();
    const id = addComment(doc, { anchor, text: draft.text, author: me, mentions: draft.mentions() });
    draft.reset();
    open(id);
  };
  return (
    <section className="panel-section comments-panel" aria-labelledby="comments-heading">
      <h2 id="comments-heading">
        Comments <span className="muted">({open_.length} open)</span>
      </h2>
      {readOnly || !doc ? null : (
        <div className="comment-compose">
          <MentionTextarea
            value={draft.text}
            onChange={draft.setText}
            members={members}
            onMention={draft.mention}
            onSubmit={post}
            label="New comment"
            placeholder={selectedStep ? `Comment on “${selectedStep.name}”… (@ to mention)` : "Comment on the canvas… (@ to mention)"}
            disabled={false}
            testId="new-comment"
          />
          {draft.error ? (
            <p className="field-error" role="alert">
              {draft.error}
            </p>
          ) : null}
          <div className="comment-actions">
            <button type="button" className="primary" onClick={post} data-testid="post-comment">
              {selectedStep ? "Comment on step" : "Comment on canvas"}
            </button>
            <span className="muted small">Ctrl+Enter</span>
          </div>
        </div>
      )}
      {doc && shown.length ? (
        <ul className="comment-threads">
          {shown.map((comment) => (
            <Thread
              key={comment.id}
              doc={doc}
              comment={comment}
              me={me}
              members={members}
              readOnly={readOnly}
              awareness={awareness}
              stepNames={stepNames}
              active={comment.id === activeId}
              onOpen={open}
              now={now}
            />
          ))}
        </ul>
      ) : (
        <p className="muted small">{comments.length ? "No open comments." : "No comments yet. Select a step to comment on it, or comment on the canvas."}</p>
      )}
      {resolved.some((c) => showResolved || c.id !== activeId) ? (
        <button type="button" className="link" onClick={() => setShowResolved(!showResolved)} aria-pressed={showResolved}>
          {showResolved ? `Hide ${resolved.length} resolved` : `Show ${resolved.filter((c) => c.id !== activeId).length} resolved`}
        </button>
      ) : null}
    </section>
  );
}
