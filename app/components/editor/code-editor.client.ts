/**
 * The code editor behind CodeField (loaded lazily: CodeMirror stays out of the studio's main bundle). CodeMirror 6
 * bound to the field's Y.Text with y-codemirror.next (docs/ydoc-layout.md L5, "Code fields"):
 * - text: yCollab's sync plugin; undo/redo are a Y.UndoManager of this text (the person's own edits only), not
 *   CodeMirror's history, which would undo others' edits;
 * - carets: the caret is published both as `codeCursor` (yCollab's `cursor`, renamed — `cursor` is the canvas
 *   pointer — what the other code editors draw, with the name and colour of the awareness `user`) and as the
 *   studio's `fieldCaret` (L5: which field the person is in), with the same relative positions. It is written on every selection change while the editor has focus, because
 *   yCollab itself only publishes while the page's document has focus.
 * - a field still holding a plain string (or no value) becomes a Y.Text when the editor gains focus (L4).
 */
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { convertTextField, editTextField, readTextField, textFieldId, type TextFieldRef } from "@algorythmos/domain";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import type { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { FIELD_CARET, type FieldCaret } from "~/lib/text-binding";

type Awareness = WebsocketProvider["awareness"];

/** Origin of the conversion on focus: not the person's edit, so no undo step. */
const CONVERT_ORIGIN = Symbol("convert-code");
/**
 * The awareness field of a code editor's selection. y-codemirror.next reads and writes `cursor`, which the studio
 * already uses for the pointer on the canvas ({ x, y }); yCollab gets a view of the awareness in which `cursor`
 * is this field.
 */
const CODE_CURSOR = "codeCursor";

type AwarenessState = Record<string, unknown>;

/** The awareness as yCollab sees it: its `cursor` is our `codeCursor`; everything else passes through. */
function codeAwareness(awareness: Awareness) {
  const view = (state: AwarenessState | null) => (state ? { ...state, cursor: state[CODE_CURSOR] ?? null } : state);
  return {
    get doc() {
      return awareness.doc;
    },
    get clientID() {
      return awareness.clientID;
    },
    getLocalState: () => view(awareness.getLocalState() as AwarenessState | null),
    getStates: () => new Map([...awareness.getStates()].map(([clientId, state]) => [clientId, view(state as AwarenessState)])),
    setLocalStateField: (key: string, value: unknown) => awareness.setLocalStateField(key === "cursor" ? CODE_CURSOR : key, value),
    on: (event: string, listener: (...args: unknown[]) => void) => awareness.on(event as "change", listener as never),
    off: (event: string, listener: (...args: unknown[]) => void) => awareness.off(event as "change", listener as never),
  };
}

/**
 * Syntax colours from the --code-* tokens (app.css), so they follow the theme: CodeMirror's defaultHighlightStyle
 * hard-codes light colours (#708, #a11, …) that fall to 1.6:1 on the dark surface. JavaScript and JSONata
 * (expression-editor.client.ts) emit these standard tags.
 */
export const codeHighlightStyle = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.definitionKeyword, tags.moduleKeyword, tags.operatorKeyword, tags.self], color: "var(--code-keyword)" },
  { tag: [tags.string, tags.special(tags.string), tags.regexp, tags.escape], color: "var(--code-string)" },
  { tag: [tags.number, tags.integer, tags.float], color: "var(--code-number)" },
  { tag: [tags.bool, tags.null, tags.atom, tags.literal], color: "var(--code-literal)" },
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "var(--code-key)" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: "var(--code-function)" },
  { tag: [tags.special(tags.variableName), tags.definition(tags.variableName), tags.typeName, tags.className, tags.namespace], color: "var(--code-name)" },
  { tag: tags.comment, color: "var(--code-comment)", fontStyle: "italic" },
  { tag: [tags.operator, tags.punctuation, tags.bracket, tags.separator], color: "var(--code-punctuation)" },
  { tag: tags.invalid, color: "var(--danger)" },
]);

const theme = EditorView.theme({
  "&": { border: "1px solid var(--border, #c9ced6)", borderRadius: "6px", fontSize: "13px", background: "var(--surface, #fff)" },
  "&.cm-focused": { outline: "2px solid var(--focus, #3b82f6)", outlineOffset: "1px" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", minHeight: "8rem", maxHeight: "28rem", overflow: "auto" },
  ".cm-content": { padding: "6px 0" },
});

export interface CodeEditorOptions {
  parent: HTMLElement;
  doc: Y.Doc;
  field: TextFieldRef;
  awareness: Awareness | null;
  readOnly: boolean;
  /** The id of the field's <label>, and of its error message when there is one. */
  labelId: string;
  describedBy?: string | undefined;
  invalid?: boolean;
  /** The language support (default: JavaScript). The expression editor passes JSONata's. */
  language?: Extension;
  /** More extensions (linting, completion, a theme), after the defaults. */
  extensions?: Extension[];
  /** Line numbers in a gutter (default true; a one-line expression has none). */
  gutter?: boolean;
}

export interface CodeEditorHandle {
  /** The editor itself, for callers that add behaviour (the expression editor's completion tests). */
  view: EditorView;
  setReadOnly(readOnly: boolean): void;
  setDescription(describedBy: string | undefined, invalid: boolean): void;
  destroy(): void;
}

export function mountCodeEditor({ parent, doc, field, awareness, readOnly, labelId, describedBy, invalid, language, extensions = [], gutter = true }: CodeEditorOptions): CodeEditorHandle {
  const id = textFieldId(field);
  const collab = new Compartment();
  const editable = new Compartment();
  const attributes = new Compartment();
  let bound: Y.Text | null = null;
  let undoManager: Y.UndoManager | null = null;
  let currentReadOnly = readOnly;

  const contentAttributes = (describedBy: string | undefined, invalid: boolean) =>
    EditorView.contentAttributes.of({
      "aria-labelledby": labelId,
      "aria-multiline": "true",
      ...(describedBy ? { "aria-describedby": describedBy } : {}),
      ...(invalid ? { "aria-invalid": "true" } : {}),
      "data-field": id,
    });
  const editableFor = (readOnly: boolean) => [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)];

  const publishCaret = () => {
    if (!awareness || !bound || !view.hasFocus) return;
    const { anchor, head } = view.state.selection.main;
    // yCollab reads its `cursor` as RelativePosition objects (every field present, nulls included), the studio's
    // `fieldCaret` as Y.relativePositionToJSON (nulls left out): the same positions in the two shapes.
    const cursor = { anchor: Y.createRelativePositionFromTypeIndex(bound, anchor), head: Y.createRelativePositionFromTypeIndex(bound, head) };
    const caret: FieldCaret = { field: id, anchor: Y.relativePositionToJSON(cursor.anchor), head: Y.relativePositionToJSON(cursor.head) };
    awareness.setLocalStateField(CODE_CURSOR, cursor);
    awareness.setLocalStateField(FIELD_CARET, caret);
  };
  const clearCaret = () => {
    if (!awareness) return;
    const local = awareness.getLocalState() as Record<string, unknown> | null;
    if ((local?.[FIELD_CARET] as FieldCaret | null | undefined)?.field === id) awareness.setLocalStateField(FIELD_CARET, null);
    if (local?.[CODE_CURSOR]) awareness.setLocalStateField(CODE_CURSOR, null);
  };

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: readTextField(doc, field).value ?? "",
      extensions: [
        gutter ? [lineNumbers(), highlightActiveLineGutter(), highlightActiveLine()] : [],
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        syntaxHighlighting(codeHighlightStyle),
        language ?? javascript(),
        keymap.of([...closeBracketsKeymap, ...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
        EditorView.lineWrapping,
        theme,
        extensions,
        editable.of(editableFor(readOnly)),
        attributes.of(contentAttributes(describedBy, !!invalid)),
        collab.of([]),
        EditorView.updateListener.of((update) => {
          if (update.focusChanged && !view.hasFocus) clearCaret();
          else if (update.selectionSet || update.docChanged || update.focusChanged) publishCaret();
        }),
        EditorView.domEventHandlers({
          focus: () => {
            // L4: the first use makes the field a Y.Text (an absent one an empty Y.Text), before any keystroke.
            if (currentReadOnly) return false;
            const { text, value } = readTextField(doc, field);
            if (!text) {
              if (value === undefined) editTextField(doc, field, "", undefined, CONVERT_ORIGIN);
              else convertTextField(doc, field, CONVERT_ORIGIN);
            }
            return false;
          },
        }),
      ],
    }),
  });

  /** Puts `text` in the editor without it being taken for the person's edit (no collab plugin is bound then). */
  const replaceContent = (text: string) => {
    const current = view.state.doc.toString();
    if (current !== text) view.dispatch({ changes: { from: 0, to: current.length, insert: text } });
  };

  /** (Re)binds the editor to the field's current Y.Text, or shows its plain value while there is none. */
  const bind = () => {
    const { text, value } = readTextField(doc, field);
    if (text === bound) {
      if (!bound) replaceContent(value ?? "");
      return;
    }
    view.dispatch({ effects: collab.reconfigure([]) });
    undoManager?.destroy();
    undoManager = null;
    bound = text;
    if (!text) {
      replaceContent(value ?? "");
      return;
    }
    const selection = view.state.selection.main.head;
    replaceContent(text.toString());
    undoManager = new Y.UndoManager(text);
    view.dispatch({ effects: collab.reconfigure(yCollab(text, awareness ? codeAwareness(awareness) : null, { undoManager })), selection: { anchor: Math.min(selection, text.length) } });
    publishCaret();
  };
  bind();
  // The field may become a Y.Text (someone's conversion, ours on focus), be replaced, or change while plain.
  const afterTransaction = () => bind();
  doc.on("afterTransaction", afterTransaction);

  return {
    view,
    setReadOnly(next) {
      currentReadOnly = next;
      view.dispatch({ effects: editable.reconfigure(editableFor(next)) });
    },
    setDescription(next, nextInvalid) {
      view.dispatch({ effects: attributes.reconfigure(contentAttributes(next, nextInvalid)) });
    },
    destroy() {
      doc.off("afterTransaction", afterTransaction);
      clearCaret();
      undoManager?.destroy();
      view.destroy();
    },
  };
}
