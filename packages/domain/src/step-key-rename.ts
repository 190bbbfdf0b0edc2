/**
 * Renaming a step's key in the Y.Doc (docs/ydoc-layout.md L12): the key is set and every reference to the step in
 * every step's config — expressions, `{{ }}` templates, headers, switch cases, prompt messages, JSON values — is
 * rewritten to the new key, in one transaction, so no client ever sees an expression pointing at a key that is gone.
 */
import * as Y from "yjs";
import { StepKey, TestAssertion } from "./definition.js";
import { stepKeyBase, stepReferenceSplices, uniqueStepKey } from "./step-keys.js";
import { docMaps } from "./ydoc.js";
import { isPlainYText } from "./ytext.js";

type Splices = ReturnType<typeof stepReferenceSplices>;

/** The splices for every old name, last first (so applying them in order keeps the earlier offsets valid). */
function splicesFor(text: string, names: readonly string[], to: string): Splices {
  return names.flatMap((name) => stepReferenceSplices(text, name, to)).sort((a, b) => b.index - a.index);
}

/** Rewrites one Y.Text (or the text of a Y.XmlText) by small splices: a concurrent edit elsewhere in it survives. */
function rewriteText(text: Y.Text, names: readonly string[], to: string): void {
  for (const splice of splicesFor(text.toString(), names, to)) {
    text.delete(splice.index, splice.remove);
    text.insert(splice.index, splice.insert);
  }
}

/** Plain JSON with every string rewritten (the same object when nothing changed). */
function rewriteJson(value: unknown, names: readonly string[], to: string): unknown {
  if (typeof value === "string") {
    const splices = splicesFor(value, names, to);
    let result = value;
    for (const splice of splices) result = result.slice(0, splice.index) + splice.insert + result.slice(splice.index + splice.remove);
    return result;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => rewriteJson(item, names, to));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, rewriteJson(v, names, to)] as const);
    return entries.some(([k, v]) => v !== (value as Record<string, unknown>)[k]) ? Object.fromEntries(entries) : value;
  }
  return value;
}

/** Walks a Y value of a config: texts spliced, maps and arrays entered, plain values inside them replaced when changed. */
function rewriteY(value: Y.AbstractType<unknown>, names: readonly string[], to: string): void {
  if (isPlainYText(value) || value instanceof Y.XmlText) {
    // A Y.XmlText (a prompt message's paragraph) holds plain text inserts; its string form is that text.
    if (value instanceof Y.XmlText) {
      const plain = (value.toDelta() as { insert: unknown }[]).every((op) => typeof op.insert === "string" && !("attributes" in op));
      if (!plain) return;
    }
    rewriteText(value as Y.Text, names, to);
  } else if (value instanceof Y.XmlFragment || value instanceof Y.XmlElement) {
    for (const child of value.toArray()) rewriteY(child as Y.AbstractType<unknown>, names, to);
  } else if (value instanceof Y.Map) {
    for (const [key, entry] of [...value.entries()]) {
      if (entry instanceof Y.AbstractType) rewriteY(entry, names, to);
      else {
        const next = rewriteJson(entry, names, to);
        if (next !== entry) value.set(key, next);
      }
    }
  } else if (value instanceof Y.Array) {
    value.toArray().forEach((entry, index) => {
      if (entry instanceof Y.AbstractType) rewriteY(entry, names, to);
      else {
        const next = rewriteJson(entry, names, to);
        if (next !== entry) {
          value.delete(index, 1);
          value.insert(index, [next]);
        }
      }
    });
  }
}

/** Plain JSON test-case assertions (L10) with references rewritten: a JSONata predicate's text, a step target by key. */
function rewriteAssertions(assertions: unknown, names: readonly string[], to: string, stepIds: ReadonlySet<string>): unknown {
  if (!Array.isArray(assertions)) return assertions;
  const next = assertions.map((raw) => {
    const parsed = TestAssertion.safeParse(raw);
    if (!parsed.success) return raw;
    let item = raw as Record<string, unknown>;
    if (parsed.data.kind === "jsonata") {
      const expression = rewriteJson(parsed.data.expression, names, to);
      if (expression !== parsed.data.expression) item = { ...item, expression };
    }
    // `stepId` holds a step's id; one holding the old key (typed by hand) follows the key.
    if (typeof item.stepId === "string" && names.includes(item.stepId) && !stepIds.has(item.stepId)) item = { ...item, stepId: to };
    return item;
  });
  return next.some((item, i) => item !== assertions[i]) ? next : assertions;
}

/** Rewrites the references in every test case's assertions (the Y.Doc's `testCases`, L10). */
function rewriteTestCases(doc: Y.Doc, names: readonly string[], to: string): void {
  if (!doc.share.has("testCases")) return;
  const stepIds = new Set(docMaps(doc).steps.keys());
  for (const testCase of docMaps(doc).testCases.values()) {
    if (!(testCase instanceof Y.Map)) continue;
    const assertions = testCase.get("assertions");
    const next = rewriteAssertions(assertions, names, to, stepIds);
    if (next !== assertions) testCase.set("assertions", next);
  }
}

/** Rewrites every reference to `names` as `to`: every step's config, and the test cases. Inside a transaction. */
function rewriteAll(doc: Y.Doc, names: readonly string[], to: string): void {
  const { steps } = docMaps(doc);
  for (const other of steps.values()) {
    const config = other instanceof Y.Map ? other.get("config") : undefined;
    if (config instanceof Y.Map) rewriteY(config as Y.AbstractType<unknown>, names, to);
  }
  rewriteTestCases(doc, names, to);
}

// ---------- concurrent renames (L12) ----------

/**
 * Top-level map of renames, one entry per rename: which client gave which step which key, and the range of that
 * client's clock the rename's text edits took. Entries are never overwritten (the id is unique), so two clients'
 * renames made at once both survive the merge, and the repair can tell which characters a rename wrote.
 */
export const STEP_KEY_RENAMES = "stepKeyRenames";
interface RenameRecord {
  stepId: string;
  key: string;
  previous: string | null;
  client: number;
  clock: number;
  end: number;
}
const isRecord = (value: unknown): value is RenameRecord =>
  !!value && typeof value === "object" && typeof (value as RenameRecord).stepId === "string" && typeof (value as RenameRecord).key === "string" && typeof (value as RenameRecord).client === "number" && typeof (value as RenameRecord).clock === "number" && typeof (value as RenameRecord).end === "number";

function renameRecords(doc: Y.Doc): RenameRecord[] {
  if (!doc.share.has(STEP_KEY_RENAMES)) return [];
  return [...doc.getMap<unknown>(STEP_KEY_RENAMES).values()].filter(isRecord);
}

/** Runs `edit` in one transaction and records it as a rename of `stepId` to `key` (its clock range included). */
function recordedRename(doc: Y.Doc, stepId: string, key: string, previous: string | null, origin: unknown, edit: () => void): void {
  doc.transact(() => {
    const clock = Y.getState(doc.store, doc.clientID);
    edit();
    const end = Y.getState(doc.store, doc.clientID);
    const record: RenameRecord = { stepId, key, previous, client: doc.clientID, clock, end };
    doc.getMap<unknown>(STEP_KEY_RENAMES).set(`${stepId}:${doc.clientID}:${clock}`, record);
  }, origin);
}

/**
 * Gives a step the key `key` (L12) and rewrites every reference to it — by its old key and by its id — in every
 * step's config and in the test cases' assertions to `steps.<key>`, in one transaction tagged `origin` (one undo
 * step). Refuses (returns false, changes nothing) a key that does not match the pattern or is already another
 * step's key or id, and a missing step. No-op (true) when the key is already `key`. The doc is watched from then
 * on (watchStepKeys), so a rename made at the same time elsewhere is repaired once both have merged.
 */
export function renameStepKey(doc: Y.Doc, stepId: string, key: string, origin: unknown = null): boolean {
  const { steps } = docMaps(doc);
  const step = steps.get(stepId);
  if (!(step instanceof Y.Map) || !StepKey.safeParse(key).success) return false;
  for (const [id, other] of steps.entries()) {
    if (id === stepId) continue;
    if (id === key || (other instanceof Y.Map && other.get("key") === key)) return false;
  }
  const current = step.get("key");
  if (current === key) return true;
  watchStepKeys(doc);
  const names = [...new Set([typeof current === "string" ? current : null, stepId].filter((name): name is string => !!name && name !== key))];
  recordedRename(doc, stepId, key, typeof current === "string" ? current : null, origin, () => {
    step.set("key", key);
    rewriteAll(doc, names, key);
  });
  return true;
}

/** Every Y.Text of every step's config (prompt paragraphs included): where references are typed. */
function referenceTexts(doc: Y.Doc): Y.Text[] {
  const texts: Y.Text[] = [];
  const visit = (value: unknown) => {
    if (isPlainYText(value) || value instanceof Y.XmlText) texts.push(value as Y.Text);
    else if (value instanceof Y.XmlFragment || value instanceof Y.XmlElement) value.toArray().forEach(visit);
    else if (value instanceof Y.Map) [...value.values()].forEach(visit);
    else if (value instanceof Y.Array) value.toArray().forEach(visit);
  };
  for (const step of docMaps(doc).steps.values()) if (step instanceof Y.Map) visit(step.get("config"));
  return texts;
}

/** For each UTF-16 unit of `text.toString()`, the id (client, clock) of the Yjs item character that holds it. */
function characterIds(text: Y.Text): { client: number; clock: number }[] {
  const ids: { client: number; clock: number }[] = [];
  for (let item = text._start; item; item = item.right) {
    if (item.deleted || !(item.content instanceof Y.ContentString)) continue;
    for (let i = 0; i < item.length; i++) ids.push({ client: item.id.client, clock: item.id.clock + i });
  }
  return ids;
}

const writtenBy = (records: readonly RenameRecord[], id: { client: number; clock: number }) => records.some((r) => r.client === id.client && id.clock >= r.clock && id.clock < r.end);

/** `steps.<name>` references in dot form: the name's offset and text. */
const DOT_REFERENCE = /(?<![A-Za-z0-9_$.])steps\s*\.\s*([A-Za-z0-9_]+)(?![A-Za-z0-9_-])/g;
function dotReferences(text: string): { index: number; name: string }[] {
  return [...text.matchAll(DOT_REFERENCE)].map((match) => ({ index: match.index! + match[0].length - match[1]!.length, name: match[1]! }));
}

/** Replaces, last first, the references `pick` chooses in every reference text by `to`. */
function replaceReferences(doc: Y.Doc, to: string, pick: (name: string, ids: { client: number; clock: number }[]) => boolean): void {
  for (const text of referenceTexts(doc)) {
    const value = text.toString();
    const references = dotReferences(value);
    if (!references.length) continue;
    const ids = characterIds(text);
    for (const reference of references.reverse()) {
      if (!pick(reference.name, ids.slice(reference.index, reference.index + reference.name.length))) continue;
      text.delete(reference.index, reference.name.length);
      text.insert(reference.index, to);
    }
  }
}

/**
 * Repairs what renames made at the same time leave behind (L12), deterministically; returns how many repairs it made.
 * Each repair is made by one client only — the author of the rename that gave the step its current key (the lowest
 * client id when several did) — so two clients never make the same text edit twice:
 * - *Two steps given one key*: the step that had it without a rename, else the one with the smaller id, keeps it;
 *   the other gets the next free key (`k_2`), and the references its rename wrote (told apart by their Yjs ids)
 *   follow it.
 * - *One step renamed twice*: the names both renames wrote side by side (`steps.bc`), and references left naming
 *   one of the step's earlier keys that no step has any more, become the step's current key.
 */
export function repairStepKeys(doc: Y.Doc, origin: unknown = STEP_KEY_REPAIR): number {
  const { steps } = docMaps(doc);
  const records = renameRecords(doc);
  if (!records.length) return 0;
  let repairs = 0;
  const keyOf = (id: string) => {
    const key = steps.get(id)?.get("key");
    return typeof key === "string" ? key : null;
  };
  const author = (stepId: string, key: string) => {
    const clients = records.filter((r) => r.stepId === stepId && r.key === key).map((r) => r.client);
    return clients.length ? Math.min(...clients) : null;
  };

  // Two steps with one key.
  const holders = new Map<string, string[]>();
  for (const id of [...steps.keys()].sort()) {
    const key = keyOf(id);
    if (key) holders.set(key, [...(holders.get(key) ?? []), id]);
  }
  for (const [key, ids] of holders) {
    if (ids.length < 2) continue;
    const ranked = [...ids].sort((a, b) => Number(author(a, key) !== null) - Number(author(b, key) !== null) || (a < b ? -1 : a > b ? 1 : 0));
    for (const loser of ranked.slice(1)) {
      if (author(loser, key) !== doc.clientID) continue;
      const fresh = uniqueStepKey(key, takenStepNamesInDoc(doc));
      const mine = records.filter((r) => r.stepId === loser && r.key === key);
      recordedRename(doc, loser, fresh, key, origin, () => {
        steps.get(loser)!.set("key", fresh);
        replaceReferences(doc, fresh, (name, ids) => name === key && ids.length > 0 && ids.every((id) => writtenBy(mine, id)));
      });
      repairs++;
    }
  }

  // References a rename made at the same time left naming no step.
  for (const id of [...steps.keys()].sort()) {
    const key = keyOf(id);
    if (!key || author(id, key) !== doc.clientID) continue;
    const mine = records.filter((r) => r.stepId === id);
    const names = takenStepNamesInDoc(doc);
    const earlier = new Set(mine.flatMap((r) => [r.key, r.previous]).filter((name): name is string => !!name && !names.has(name)));
    const stale = (name: string, ids: { client: number; clock: number }[]) => !names.has(name) && (earlier.has(name) || (ids.length > 0 && ids.every((charId) => writtenBy(mine, charId))));
    const found = referenceTexts(doc).some((text) => {
      const value = text.toString();
      const ids = characterIds(text);
      return dotReferences(value).some((r) => stale(r.name, ids.slice(r.index, r.index + r.name.length)));
    });
    if (!found) continue;
    recordedRename(doc, id, key, null, origin, () => {
      replaceReferences(doc, key, stale);
      rewriteTestCases(doc, [...earlier], key);
    });
    repairs++;
  }
  return repairs;
}

/** The origin of the repair's transactions (not a person's edit: no undo step). */
export const STEP_KEY_REPAIR = Symbol("step-key-repair");

const watchedDocs = new WeakSet<Y.Doc>();
/**
 * Runs repairStepKeys after each remote transaction that changed a step's key or recorded a rename (once per doc,
 * however often it is called). Renaming watches the doc; the studio's Key field does too.
 */
export function watchStepKeys(doc: Y.Doc): void {
  if (watchedDocs.has(doc)) return;
  watchedDocs.add(doc);
  let pending = false;
  doc.on("afterTransaction", (transaction: Y.Transaction) => {
    if (transaction.local || pending) return;
    const renames = doc.share.get(STEP_KEY_RENAMES);
    const touched = [...transaction.changed.entries()].some(([type, keys]) => type === renames || (type instanceof Y.Map && type.parent === docMaps(doc).steps && keys.has("key")));
    if (!touched) return;
    pending = true;
    // After the update is applied in full, outside its transaction.
    setTimeout(() => {
      pending = false;
      repairStepKeys(doc);
    }, 0);
  });
}

/** The steps' keys and ids as the doc holds them, for a new step's key (uniqueStepKey). */
export function takenStepNamesInDoc(doc: Y.Doc): Set<string> {
  const taken = new Set<string>();
  for (const [id, step] of docMaps(doc).steps.entries()) {
    taken.add(id);
    const key = step instanceof Y.Map ? step.get("key") : undefined;
    if (typeof key === "string") taken.add(key);
  }
  return taken;
}

/** The key a new step gets (L12): made from its name (or its type's name), unique among the doc's keys and ids. */
export function freshStepKey(doc: Y.Doc, name: string, type = ""): string {
  return uniqueStepKey(stepKeyBase(name || type.replace(/^.*\./, "")), takenStepNamesInDoc(doc));
}
