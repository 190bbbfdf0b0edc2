import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import { EditorContent, useEditor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { yCursorPlugin } from "@tiptap/y-tiptap";
import type { EditorView } from "@tiptap/pm/view";
import { useEffect, useRef } from "react";
import type { WebsocketProvider } from "y-websocket";
import type * as Y from "yjs";
import type { PresenceUser } from "~/lib/collab";

type Awareness = WebsocketProvider["awareness"];
type AwarenessState = Record<string, unknown> | null;

/**
 * The awareness `cursor` field belongs to the canvas pointer ({ x, y } in flow coordinates), and y-tiptap
 * reads and writes `cursor` for text carets whatever field it is told to use. This view of the awareness
 * moves y-tiptap's caret to `textCursor`, so the two never overwrite (or fail to decode) each other.
 */
function caretAwareness(awareness: Awareness) {
  const view = (state: AwarenessState) => (state ? { ...state, cursor: state.textCursor ?? null } : state);
  return {
    get clientID() {
      return awareness.clientID;
    },
    get doc() {
      return awareness.doc;
    },
    getLocalState: () => view(awareness.getLocalState()),
    getStates: () => new Map([...awareness.getStates()].map(([id, state]) => [id, view(state)])),
    setLocalStateField: (field: string, value: unknown) => awareness.setLocalStateField(field === "cursor" ? "textCursor" : field, value),
    on: (event: string, listener: (...args: unknown[]) => void) => awareness.on(event as "change", listener as never),
    off: (event: string, listener: (...args: unknown[]) => void) => awareness.off(event as "change", listener as never),
  };
}

/** Remote carets and selections in the notes (CollaborationCaret's rendering over caretAwareness). */
const NotesCaret = CollaborationCaret.extend({
  addProseMirrorPlugins() {
    const { provider, render, selectionRender } = this.options;
    return [
      yCursorPlugin(caretAwareness(provider.awareness) as never, {
        awarenessStateFilter: (currentClientId: number, clientId: number, state: { cursor?: { anchor?: unknown; head?: unknown } | null }) =>
          currentClientId !== clientId && state?.cursor?.anchor != null && state.cursor.head != null,
        cursorBuilder: (user: Record<string, unknown>) => render(user),
        selectionBuilder: (user: Record<string, unknown>) => selectionRender(user),
      }),
    ];
  },
});

/** Everything StarterKit brings except what a prompt cannot hold as plain text: paragraphs of text only. */
const PLAIN_TEXT_KIT = StarterKit.configure({
  undoRedo: false,
  blockquote: false,
  bold: false,
  bulletList: false,
  code: false,
  codeBlock: false,
  hardBreak: false,
  heading: false,
  horizontalRule: false,
  italic: false,
  link: false,
  listItem: false,
  listKeymap: false,
  orderedList: false,
  strike: false,
  underline: false,
});

/**
 * Pastes longer than this go in as several edits: one edit is one collab message, and a message is limited
 * (COLLAB_MAX_MESSAGE_BYTES, 512 KB) — a 456 KB paste in one piece was refused and the connection closed.
 */
const PASTE_CHUNK_CHARS = 48 * 1024;

/** Inserts a long plain text through ProseMirror's own paste, one chunk of whole lines per edit (each its own message). */
function pasteInChunks(view: EditorView, text: string) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length > PASTE_CHUNK_CHARS && current.length) {
      chunks.push(current.join("\n"));
      current = [];
      size = 0;
    }
    current.push(line);
    size += line.length + 1;
  }
  if (current.length) chunks.push(current.join("\n"));
  // Each later chunk starts with a line break, so it begins a new paragraph after the previous chunk's last one.
  const next = (index: number) => {
    if (index >= chunks.length || view.isDestroyed) return;
    view.pasteText(index === 0 ? chunks[0]! : `\n${chunks[index]!}`);
    setTimeout(() => next(index + 1), 0);
  };
  next(0);
}

/** ProseMirror position of a plain-text offset in a document of paragraphs (one per line). */
function positionOfOffset(text: string, offset: number): number {
  const lines = text.slice(0, offset).split("\n");
  return lines.slice(0, -1).reduce((position, line) => position + line.length + 2, 0) + 1 + lines[lines.length - 1]!.length;
}

export interface CollabTextEditorProps {
  fragment: Y.XmlFragment;
  readOnly: boolean;
  provider: WebsocketProvider | null;
  me: PresenceUser | null;
  /** The element naming the editor, or a label of its own. */
  labelId?: string | undefined;
  label?: string | undefined;
  /** "rich": StarterKit (notes); "plain": paragraphs of text only (prompts). */
  variant?: "rich" | "plain";
  className?: string;
  /** Focus the editor once it exists, with the caret at this plain-text offset. */
  focusAtOffset?: number | undefined;
  testId?: string | undefined;
}

/**
 * Text bound to a Y.XmlFragment, with the other editors' carets. Collaboration brings its own Yjs undo
 * (Ctrl+Z inside the editor), so StarterKit's history is off.
 */
export function CollabTextEditor({ fragment, readOnly, provider, me, labelId, label, variant = "rich", className = "notes-editor", focusAtOffset, testId }: CollabTextEditorProps) {
  const editor = useEditor(
    {
      immediatelyRender: false,
      editable: !readOnly,
      extensions: [
        variant === "plain" ? PLAIN_TEXT_KIT : StarterKit.configure({ undoRedo: false }),
        Collaboration.configure({ fragment }),
        ...(provider && me ? [NotesCaret.configure({ provider, user: me })] : []),
      ],
      editorProps: {
        // The editor scrolls on its own (its height is bounded): bring the caret into view inside it, never by
        // scrolling the side panel, so a huge paste cannot push the panel's Run button off-screen (#17 defect 8).
        handlePaste: (view, event) => {
          const text = event.clipboardData?.getData("text/plain") ?? "";
          // A long paste goes in as plain text (its formatting, if any, is dropped): whole, never refused.
          if (text.length <= PASTE_CHUNK_CHARS) return false;
          event.preventDefault();
          pasteInChunks(view, text);
          return true;
        },
        handleScrollToSelection: (view) => {
          const element = view.dom as HTMLElement;
          if (element.scrollHeight <= element.clientHeight) return false;
          const caret = view.coordsAtPos(view.state.selection.head);
          const box = element.getBoundingClientRect();
          if (caret.bottom > box.bottom) element.scrollTop += caret.bottom - box.bottom + 8;
          else if (caret.top < box.top) element.scrollTop -= box.top - caret.top + 8;
          return true;
        },
        attributes: {
          class: className,
          role: "textbox",
          "aria-multiline": "true",
          ...(labelId ? { "aria-labelledby": labelId } : {}),
          ...(label ? { "aria-label": label } : {}),
          ...(readOnly ? { "aria-readonly": "true" } : {}),
          ...(testId ? { "data-testid": testId } : {}),
        },
      },
    },
    [fragment, readOnly, provider, me],
  );
  const focusRequest = useRef(focusAtOffset);
  useEffect(() => {
    const offset = focusRequest.current;
    if (!editor || offset === undefined) return;
    focusRequest.current = undefined;
    // After Collaboration has rendered the fragment into the editor.
    const timer = setTimeout(() => {
      if (editor.isDestroyed) return;
      const text = editor.state.doc.textBetween(0, editor.state.doc.content.size, "\n");
      editor.commands.focus(Math.min(positionOfOffset(text, offset), editor.state.doc.content.size - 1));
    }, 0);
    return () => clearTimeout(timer);
  }, [editor]);
  return <EditorContent editor={editor} />;
}

/** The step's notes: rich text bound to its Y.XmlFragment. */
export function NotesEditor(props: { fragment: Y.XmlFragment; readOnly: boolean; labelId: string; provider: WebsocketProvider | null; me: PresenceUser | null }) {
  return <CollabTextEditor {...props} />;
}
