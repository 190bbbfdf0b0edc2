import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import { EditorContent, useEditor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { yCursorPlugin } from "@tiptap/y-tiptap";
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

/**
 * The step's notes: rich text bound to its Y.XmlFragment, with the other editors' carets. Collaboration
 * brings its own Yjs undo (Ctrl+Z inside the editor), so StarterKit's history is off.
 */
export function NotesEditor({
  fragment,
  readOnly,
  labelId,
  provider,
  me,
}: {
  fragment: Y.XmlFragment;
  readOnly: boolean;
  labelId: string;
  provider: WebsocketProvider | null;
  me: PresenceUser | null;
}) {
  const editor = useEditor(
    {
      immediatelyRender: false,
      editable: !readOnly,
      extensions: [
        StarterKit.configure({ undoRedo: false }),
        Collaboration.configure({ fragment }),
        ...(provider && me ? [NotesCaret.configure({ provider, user: me })] : []),
      ],
      editorProps: { attributes: { class: "notes-editor", "aria-labelledby": labelId, role: "textbox", "aria-multiline": "true" } },
    },
    [fragment, readOnly, provider, me],
  );
  return <EditorContent editor={editor} />;
}
