/**
 * Binds a native <input> or <textarea> to a co-typed text field of the workflow's Y.Doc (docs/ydoc-layout.md,
 * L1–L8). Our keystrokes become minimal splices of the field's Y.Text; remote edits are written into the
 * element with the local caret moved by the remote delta (so it stays next to the text it was beside); the
 * caret is published in awareness (`fieldCaret`) and the others' carets in this field are returned.
 * Between tasks the element's value always equals the field's text, so a keystroke's splice is exact (a
 * remote edit landing during an input method's composition ends that composition).
 */
import { convertTextField, editTextField, readTextField, textFieldId, transformIndex, type TextFieldRef } from "@algorythmos/domain";
import { useCallback, useEffect, useRef, useState } from "react";
import type { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { LOCAL_ORIGIN, userColor, type PresenceUser } from "./collab";

type Awareness = WebsocketProvider["awareness"];
export type TextElement = HTMLInputElement | HTMLTextAreaElement;

/** What a generated config form needs to co-type a step's text fields. */
export interface CollabBinding {
  doc: Y.Doc;
  stepId: string;
  stepType: string;
  awareness: Awareness | null;
}

/** Origin of the plain string → Y.Text conversion on focus: not the user's edit, so undo does not revert it. */
const CONVERT_ORIGIN = Symbol("convert-text");

/** The awareness field a caret in a co-typed text field is published under. */
export const FIELD_CARET = "fieldCaret";

/** What `fieldCaret` holds: the field's id (textFieldId) and, once the field is a Y.Text, the selection as relative positions. */
export interface FieldCaret {
  field: string;
  anchor: unknown;
  head: unknown;
}

/** Another person's caret in this field; `index` is null while the field is still a plain string (no position to share). */
export interface RemoteCaret {
  clientId: number;
  user: PresenceUser;
  index: number | null;
}

/** Where the caret should go when `before` becomes `after` under it, when no delta is known (a replaced value). */
function shiftCaret(before: string, after: string, caret: number): number {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  if (caret <= prefix) return caret;
  return Math.max(prefix, Math.min(after.length, caret + after.length - before.length));
}

const isColor = (value: unknown): value is string => typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value);

export interface CollabTextOptions {
  doc: Y.Doc;
  field: TextFieldRef;
  awareness: Awareness | null;
  readOnly: boolean;
  /** An emptied field is removed from the doc (an optional config field), rather than kept as "". */
  emptyRemoves?: boolean;
}

export function useCollabText<E extends TextElement>({ doc, field, awareness, readOnly, emptyRemoves = false }: CollabTextOptions) {
  const ref = useRef<E>(null);
  const id = textFieldId(field);
  const fieldRef = useRef(field);
  fieldRef.current = field;
  const [carets, setCarets] = useState<RemoteCaret[]>([]);
  // Bumped when the text changes, so caret overlays are measured again.
  const [version, setVersion] = useState(0);

  const publishCaret = useCallback(() => {
    const element = ref.current;
    if (!awareness || !element || document.activeElement !== element) return;
    const { text } = readTextField(doc, fieldRef.current);
    const start = element.selectionStart ?? 0;
    const end = element.selectionEnd ?? start;
    const [anchor, head] = element.selectionDirection === "backward" ? [end, start] : [start, end];
    const caret: FieldCaret = {
      field: id,
      anchor: text ? Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, anchor)) : null,
      head: text ? Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, head)) : null,
    };
    awareness.setLocalStateField(FIELD_CARET, caret);
  }, [awareness, doc, id]);

  // The doc → element direction, and the others' carets.
  useEffect(() => {
    let bound: Y.Text | null = null;
    const write = (delta?: Y.YTextEvent["delta"]) => {
      const element = ref.current;
      if (!element) return;
      const next = readTextField(doc, fieldRef.current).value ?? "";
      if (element.value === next) return;
      const before = element.value;
      const focused = document.activeElement === element;
      const start = element.selectionStart ?? 0;
      const end = element.selectionEnd ?? start;
      const direction = element.selectionDirection ?? "none";
      element.value = next;
      if (focused) {
        const move = (index: number) => (delta ? Math.min(next.length, transformIndex(index, delta)) : shiftCaret(before, next, index));
        element.setSelectionRange(move(start), move(end), direction);
      }
      setVersion((v) => v + 1);
    };
    const onText = (event: Y.YTextEvent) => {
      // Our own keystrokes are already in the element.
      if (event.transaction.origin === LOCAL_ORIGIN) return;
      write(event.delta);
    };
    const readCarets = () => {
      if (!awareness) return;
      const list: RemoteCaret[] = [];
      for (const [clientId, value] of awareness.getStates()) {
        if (clientId === awareness.clientID) continue;
        const state = value as { user?: Partial<PresenceUser>; [FIELD_CARET]?: Partial<FieldCaret> | null };
        const caret = state[FIELD_CARET];
        const person = state.user;
        if (!caret || caret.field !== id || !person || typeof person.id !== "string" || typeof person.name !== "string") continue;
        let index: number | null = null;
        if (bound && caret.head) {
          try {
            const absolute = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(caret.head), doc);
            if (absolute && absolute.type === bound) index = absolute.index;
          } catch {
            // A malformed position from a faulty peer: show the person in the field without a caret.
          }
        }
        list.push({ clientId, user: { id: person.id, name: person.name, color: isColor(person.color) ? person.color : userColor(person.id) }, index });
      }
      setCarets((current) => (JSON.stringify(current) === JSON.stringify(list) ? current : list));
    };
    const rebind = () => {
      const { text } = readTextField(doc, fieldRef.current);
      if (text === bound) return false;
      bound?.unobserve(onText);
      bound = text;
      bound?.observe(onText);
      return true;
    };
    // After every transaction: the field may have become a Y.Text (ours or someone's conversion), been
    // replaced, or (a plain string) changed; Y.Text observers already ran with the exact delta.
    const afterTransaction = () => {
      const replaced = rebind();
      if (replaced || !bound) write();
      readCarets();
      if (replaced) publishCaret();
    };
    rebind();
    write();
    readCarets();
    doc.on("afterTransaction", afterTransaction);
    awareness?.on("change", readCarets);
    return () => {
      doc.off("afterTransaction", afterTransaction);
      awareness?.off("change", readCarets);
      bound?.unobserve(onText);
    };
  }, [doc, id, awareness, publishCaret]);

  // The element → doc direction.
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onInput = () => {
      if (readOnly) return;
      const value = element.value;
      editTextField(doc, fieldRef.current, value === "" && emptyRemoves ? undefined : value, element.selectionEnd ?? undefined, LOCAL_ORIGIN);
      publishCaret();
    };
    const onFocus = () => {
      // A field still holding a plain string becomes a Y.Text before the first keystroke (same text, so two
      // people converting at once lose nothing); not an undoable edit.
      if (!readOnly) convertTextField(doc, fieldRef.current, CONVERT_ORIGIN);
      publishCaret();
    };
    const onBlur = () => {
      const local = awareness?.getLocalState() as Record<string, unknown> | null | undefined;
      if ((local?.[FIELD_CARET] as FieldCaret | null | undefined)?.field === id) awareness?.setLocalStateField(FIELD_CARET, null);
    };
    const onSelection = () => document.activeElement === element && publishCaret();
    const onScroll = () => setVersion((v) => v + 1);
    element.addEventListener("input", onInput);
    element.addEventListener("focus", onFocus);
    element.addEventListener("blur", onBlur);
    element.addEventListener("keyup", onSelection);
    element.addEventListener("mouseup", onSelection);
    element.addEventListener("select", onSelection);
    element.addEventListener("scroll", onScroll);
    document.addEventListener("selectionchange", onSelection);
    return () => {
      element.removeEventListener("input", onInput);
      element.removeEventListener("focus", onFocus);
      element.removeEventListener("blur", onBlur);
      element.removeEventListener("keyup", onSelection);
      element.removeEventListener("mouseup", onSelection);
      element.removeEventListener("select", onSelection);
      element.removeEventListener("scroll", onScroll);
      document.removeEventListener("selectionchange", onSelection);
      onBlur();
    };
  }, [doc, id, awareness, readOnly, emptyRemoves, publishCaret]);

  return { ref, carets, version };
}

const MIRRORED = [
  "direction", "boxSizing", "width", "height", "overflowX", "overflowY",
  "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth", "borderStyle",
  "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
  "fontStyle", "fontVariant", "fontWeight", "fontStretch", "fontSize", "fontSizeAdjust", "lineHeight", "fontFamily",
  "textAlign", "textTransform", "textIndent", "letterSpacing", "wordSpacing", "tabSize",
] as const;

/**
 * Where character `index` of an input or textarea is drawn, relative to the element's border box (scroll
 * applied): a hidden copy of the element with the same box and font lays out the text up to the index.
 */
export function caretCoordinates(element: TextElement, index: number): { left: number; top: number; height: number } {
  const computed = getComputedStyle(element);
  const mirror = document.createElement("div");
  const style = mirror.style as unknown as Record<string, string>;
  const single = element instanceof HTMLInputElement;
  for (const property of MIRRORED) style[property] = computed[property];
  style.position = "absolute";
  style.visibility = "hidden";
  style.top = "0";
  style.left = "-9999px";
  style.overflow = "hidden";
  style.whiteSpace = single ? "pre" : "pre-wrap";
  style.overflowWrap = single ? "normal" : "break-word";
  mirror.textContent = element.value.slice(0, index);
  const marker = document.createElement("span");
  marker.textContent = element.value.slice(index) || ".";
  mirror.appendChild(marker);
  document.body.appendChild(mirror);
  const fontSize = parseFloat(computed.fontSize) || 14;
  const lineHeight = parseFloat(computed.lineHeight) || fontSize * 1.25;
  const left = marker.offsetLeft - element.scrollLeft;
  // A single-line input centres its line vertically; a textarea starts at its top padding.
  const top = single ? (element.offsetHeight - lineHeight) / 2 : marker.offsetTop - element.scrollTop;
  mirror.remove();
  return { left, top, height: lineHeight };
}
