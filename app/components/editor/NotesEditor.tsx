import Collaboration from "@tiptap/extension-collaboration";
import { EditorContent, useEditor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import type * as Y from "yjs";

/**
 * The step's notes: rich text bound to its Y.XmlFragment. Collaboration brings its own Yjs undo
 * (Ctrl+Z inside the editor), so StarterKit's history is off.
 */
export function NotesEditor({ fragment, readOnly, labelId }: { fragment: Y.XmlFragment; readOnly: boolean; labelId: string }) {
  const editor = useEditor(
    {
      immediatelyRender: false,
      editable: !readOnly,
      extensions: [StarterKit.configure({ undoRedo: false }), Collaboration.configure({ fragment })],
      editorProps: { attributes: { class: "notes-editor", "aria-labelledby": labelId, role: "textbox", "aria-multiline": "true" } },
    },
    [fragment, readOnly],
  );
  return <EditorContent editor={editor} />;
}
