import * as Y from "yjs";

/**
 * Co-typed text fields (docs/ydoc-layout.md, L1–L8): a field people type into holds a Y.Text, or — in documents
 * written before, or by clients that set plain values — a plain string. Both read the same; writers change a
 * Y.Text by the smallest splice, so a concurrent edit elsewhere in the string survives.
 */

/** The smallest single splice turning `before` into `after`: delete `remove` UTF-16 units at `index`, insert `insert`. */
export interface TextSplice {
  index: number;
  remove: number;
  insert: string;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The splice between two strings: their common prefix and suffix are kept, only the middle changes. A
 * surrogate pair is never cut (Yjs would turn half a pair into U+FFFD). `caret`, when known, is where the
 * caret ends up after the edit: it settles ambiguous cases ("aa" → "aaa" typed at 1 inserts at 1, not at 2).
 */
export function textSplice(before: string, after: string, caret?: number): TextSplice | null {
  if (before === after) return null;
  const shortest = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shortest && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  if (caret !== undefined) {
    // An insertion ends at the caret, so it cannot start after caret − inserted length.
    const inserted = Math.max(0, after.length - before.length);
    prefix = Math.max(0, Math.min(prefix, caret - inserted));
  }
  if (prefix > 0 && isHighSurrogate(before.charCodeAt(prefix - 1))) prefix--;
  let suffix = 0;
  while (suffix < shortest - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  if (suffix > 0 && isLowSurrogate(before.charCodeAt(before.length - suffix))) suffix--;
  return { index: prefix, remove: before.length - prefix - suffix, insert: after.slice(prefix, after.length - suffix) };
}

/**
 * A Y.Text that is plain text (a Y.XmlText, which extends Y.Text, belongs to rich-text fragments and is not one).
 */
export const isPlainYText = (value: unknown): value is Y.Text => value instanceof Y.Text && !(value instanceof Y.XmlText);

/** The text of a field in either form (L1): a plain string or a Y.Text; undefined for anything else. */
export function readTextValue(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isPlainYText(value)) return value.toString();
  return undefined;
}

/** Makes `text` hold `value` with one minimal splice (L3); no change, no update. */
export function writeYText(text: Y.Text, value: string, caret?: number): void {
  const splice = textSplice(text.toString(), value, caret);
  if (!splice) return;
  const apply = () => {
    if (splice.remove) text.delete(splice.index, splice.remove);
    if (splice.insert) text.insert(splice.index, splice.insert);
  };
  // One transaction, so peers see one update and never the deleted-but-not-yet-inserted state.
  if (text.doc) text.doc.transact(apply);
  else apply();
}

/** A new Y.Text holding `value` (not yet in a document). */
export const createYText = (value: string): Y.Text => new Y.Text(value);

/**
 * Writes a text field of `map` (L3, L4): a Y.Text already there changes by a minimal splice; a plain string
 * equal to `value` is left as it is (no update: re-applying a definition is a fixed point); anything else
 * becomes a new Y.Text. `undefined` removes the key.
 */
export function setTextField(map: Y.Map<unknown>, key: string, value: string | undefined, caret?: number): void {
  if (value === undefined) {
    if (map.has(key)) map.delete(key);
    return;
  }
  const current = map.get(key);
  if (isPlainYText(current)) writeYText(current, value, caret);
  else if (current !== value) map.set(key, createYText(value));
}

/**
 * A map of name → text (L6, e.g. http.request headers) written as a Y.Map of Y.Text values: names that went
 * are deleted, names that stay get their text by a minimal splice, new names are added. A plain JSON object
 * already equal to `value` is left alone.
 */
export function setTextMapField(map: Y.Map<unknown>, key: string, value: Record<string, string>): void {
  const current = map.get(key);
  if (!(current instanceof Y.Map)) {
    if (current && typeof current === "object" && !(current instanceof Y.AbstractType) && sameRecord(current as Record<string, unknown>, value)) return;
    map.set(key, createTextMap(value));
    return;
  }
  const inner = current as Y.Map<unknown>;
  for (const name of [...inner.keys()]) if (!Object.hasOwn(value, name)) inner.delete(name);
  for (const [name, text] of Object.entries(value)) setTextField(inner, name, text);
}

/** The Y.Map form of a name → text map (not yet in a document). */
export function createTextMap(value: Record<string, string>): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  for (const [name, text] of Object.entries(value)) map.set(name, createYText(text));
  return map;
}

/** Whether `value` is a record of strings (what a text map holds). */
export function isTextRecord(value: unknown): value is Record<string, string> {
  return !!value && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}

function sameRecord(a: Record<string, unknown>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Where index `index` of a text moves to under a remote change given as a Yjs delta (retain/insert/delete).
 * Text inserted exactly at the index goes after it (the caret stays next to the text before it).
 */
export function transformIndex(index: number, delta: readonly { retain?: number; insert?: unknown; delete?: number }[]): number {
  let position = 0; // in the old text
  let result = index;
  for (const op of delta) {
    if (position >= index) break;
    if (op.retain !== undefined) position += op.retain;
    else if (op.delete !== undefined) {
      result -= Math.min(op.delete, index - position);
      position += op.delete;
    } else if (op.insert !== undefined) result += typeof op.insert === "string" ? op.insert.length : 1;
  }
  return Math.max(0, result);
}
