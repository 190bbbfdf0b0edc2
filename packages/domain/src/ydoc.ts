import * as Y from "yjs";
import { commentEntrySlot } from "./comments.js";
import { DEFINITION_SCHEMA_VERSION, WorkflowDefinition, type Edge, type Step, type TestCase } from "./definition.js";
import { textListFields, typedTextKind } from "./step-types.js";
import type { Problem } from "./validation.js";
import { validateDefinition } from "./validation.js";
import { createTextMap, createYText, isPlainYText, isTextRecord, readTextValue, setTextField, setTextMapField } from "./ytext.js";

/**
 * The Y.Doc layout of a workflow — a contract between studio, collab, worker and API (docs/ydoc-layout.md):
 *   meta:  Y.Map { schemaVersion, name: text, description: text }
 *   steps: Y.Map stepId → Y.Map { type, key?, name: text, config: Y.Map, position: Y.Map { x, y }, notes: Y.XmlFragment }
 *   edges: Y.Map edgeId → Y.Map { source, target, label }
 * "text" is a Y.Text or a plain string (co-typed text, L1–L8); the step type's `typedText` says which config
 * fields are text (and `headers` a Y.Map of name → text).
 * For `openai.chat` steps, `config.messages` may be a Y.Array of Y.Map { role: string, content: Y.XmlFragment }
 * (collaborative prompts) instead of a plain JSON array; both read as the same definition JSON.
 * A "textList" config field (switch `cases`) may be a Y.Array of Y.Map { id, <item text fields>: text } (L11).
 * Maps are keyed by id so concurrent adds and deletes of different steps merge cleanly.
 */
export const DOC_KEYS = { meta: "meta", steps: "steps", edges: "edges", settings: "settings", pinned: "pinned", testCases: "testCases" } as const;

export type StepMap = Y.Map<unknown>;

export function docMaps(doc: Y.Doc) {
  return {
    meta: doc.getMap<unknown>(DOC_KEYS.meta),
    steps: doc.getMap<StepMap>(DOC_KEYS.steps),
    edges: doc.getMap<Y.Map<unknown>>(DOC_KEYS.edges),
    /** Workflow settings: plain JSON values by key (maxConcurrentRuns, errorWorkflowId), chosen, not typed. */
    settings: doc.getMap<unknown>(DOC_KEYS.settings),
    /** Pinned step outputs (L10): stepId → plain JSON output. Created on first use (see presentMap). */
    get pinned() {
      return doc.getMap<unknown>(DOC_KEYS.pinned);
    },
    /** Test cases (L10): caseId → Y.Map { name: text, input: plain JSON, assertions: plain JSON array }. Created on first use. */
    get testCases() {
      return doc.getMap<unknown>(DOC_KEYS.testCases);
    },
  };
}

/**
 * A top-level map that is optional in the layout (L10: pinned, testCases), or null while the document has
 * never held it — reading and writing a definition without pins or cases adds no empty map to the document.
 */
function presentMap(doc: Y.Doc, key: string): Y.Map<unknown> | null {
  return doc.share.has(key) ? doc.getMap<unknown>(key) : null;
}

// ---------- reading ----------

const asString = (value: unknown, fallback = "") => (typeof value === "string" ? value : fallback);
/** A text field in either form (a plain string or a Y.Text), or the fallback. */
const asText = (value: unknown, fallback = "") => readTextValue(value) ?? fallback;
const TEXT = "a string or a Y.Text";
const asNumber = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function yValueToJson(value: unknown): unknown {
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}

/** Plain text of a notes fragment: one line per text block (paragraph, heading, code block, …), in document order. */
export function fragmentText(fragment: Y.XmlFragment): string {
  const lines: string[] = [];
  const inline = (node: Y.XmlElement | Y.XmlText): string => {
    if (node instanceof Y.XmlText) {
      return (node.toDelta() as { insert: unknown }[]).map((op) => (typeof op.insert === "string" ? op.insert : "")).join("");
    }
    return node
      .toArray()
      .map((child) => (child instanceof Y.XmlElement || child instanceof Y.XmlText ? inline(child) : ""))
      .join("");
  };
  const walk = (node: Y.XmlFragment | Y.XmlElement) => {
    const children = node.toArray();
    const isTextBlock =
      node instanceof Y.XmlElement &&
      (node.nodeName === "paragraph" || node.nodeName === "heading" || children.length === 0 || children.some((c) => c instanceof Y.XmlText));
    if (isTextBlock) {
      lines.push(inline(node as Y.XmlElement));
      return;
    }
    // A container (the fragment, a list, a list item, a quote): its blocks, in order.
    for (const child of children) {
      if (child instanceof Y.XmlElement) walk(child);
      else if (child instanceof Y.XmlText) lines.push(inline(child));
    }
  };
  walk(fragment);
  return lines.join("\n");
}

/** Records a field of a step or edge that holds the wrong kind of value (it is read as its default). */
type FieldProblem = (field: string, expected: string) => void;

function readStep(id: string, map: unknown, wrong: FieldProblem): Step | null {
  if (!(map instanceof Y.Map)) return null;
  const type = map.get("type");
  const name = map.get("name");
  const config = map.get("config");
  const position = map.get("position");
  const notes = map.get("notes");
  if (type !== undefined && typeof type !== "string") wrong("type", "a string");
  if (name !== undefined && readTextValue(name) === undefined) wrong("name", TEXT);
  if (config !== undefined && !(config instanceof Y.Map)) wrong("config", "a Y.Map");
  if (position !== undefined && !(position instanceof Y.Map)) wrong("position", "a Y.Map { x, y }");
  if (position instanceof Y.Map) {
    for (const axis of ["x", "y"]) {
      const value = position.get(axis);
      if (value !== undefined && !(typeof value === "number" && Number.isFinite(value))) wrong(`position.${axis}`, "a finite number");
    }
  }
  if (notes !== undefined && !(notes instanceof Y.XmlFragment)) wrong("notes", "a Y.XmlFragment");
  // L12: a plain string (a chosen identifier, renamed whole), never a Y.Text; absent in steps made before keys.
  const key = map.get("key");
  if (key !== undefined && typeof key !== "string") wrong("key", "a string");
  const readConfigValue = (key: string, value: unknown) => {
    if (key === PROMPT_MESSAGES_KEY && hasPromptMessages(type)) return readPromptMessages(value, wrong);
    const kind = typedTextKind(type, key);
    if (kind === "text") return readConfigText(`config.${key}`, value, wrong);
    if (kind === "textMap") return readConfigTextMap(`config.${key}`, value, wrong);
    if (kind === "textList") return readConfigTextList(`config.${key}`, value, textListFields(type, key), wrong);
    return yValueToJson(value);
  };
  const step: Step = {
    id,
    type: asString(type),
    ...(typeof key === "string" ? { key } : {}),
    name: asText(name),
    // Keys sorted, like step and edge ids: a Y.Map iterates in the order this replica received its keys.
    config:
      config instanceof Y.Map
        ? (Object.fromEntries([...config.keys()].sort().map((k) => [k, readConfigValue(k, config.get(k))])) as Step["config"])
        : {},
    position:
      position instanceof Y.Map ? { x: asNumber(position.get("x")), y: asNumber(position.get("y")) } : { x: 0, y: 0 },
  };
  if (notes instanceof Y.XmlFragment) {
    const text = fragmentText(notes);
    if (text) step.notes = text;
  }
  // A plain string chosen from a list; the schema judges its value.
  const onError = map.get("onError");
  if (onError !== undefined) step.onError = yValueToJson(onError) as Step["onError"];
  return step;
}

// ---------- co-typed config text (L2, L6, L7) ----------

/**
 * A text config field: a Y.Text reads as its string, a plain value as itself (config validation judges it: a
 * number where a URL belongs is INVALID_CONFIG); another Y type is malformed (L7) and read as its JSON.
 */
function readConfigText(field: string, value: unknown, wrong: FieldProblem): unknown {
  if (isPlainYText(value)) return value.toString();
  if (value instanceof Y.AbstractType) wrong(field, TEXT);
  return yValueToJson(value);
}

/** A name → text config field (headers): a Y.Map whose values are text, or a plain JSON object. */
function readConfigTextMap(field: string, value: unknown, wrong: FieldProblem): unknown {
  if (!(value instanceof Y.Map)) {
    if (value instanceof Y.AbstractType) wrong(field, "a JSON object or a Y.Map of text");
    return yValueToJson(value);
  }
  const map = value as Y.Map<unknown>;
  const entries: [string, unknown][] = [];
  for (const name of [...map.keys()].sort()) {
    const entry = map.get(name);
    const text = readTextValue(entry);
    // Another Y type is skipped (applying the definition read back removes it); a plain value is kept.
    if (text === undefined && entry instanceof Y.AbstractType) wrong(`${field}.${name}`, TEXT);
    else entries.push([name, text ?? entry]);
  }
  return Object.fromEntries(entries);
}

/** A config value as the Y.Doc holds it in a new step: text fields as Y.Text, header maps as Y.Map of Y.Text. */
function createConfigValue(type: string, key: string, value: unknown): unknown {
  if (key === PROMPT_MESSAGES_KEY && hasPromptMessages(type)) {
    const messages = asPromptMessages(value);
    return messages ? createPromptMessagesArray(messages) : value;
  }
  const kind = typedTextKind(type, key);
  if (kind === "text" && typeof value === "string") return createYText(value);
  if (kind === "textMap" && isTextRecord(value)) return createTextMap(value);
  if (kind === "textList") {
    const items = asTextListItems(value, textListFields(type, key));
    return items ? createTextListArray(items) : value;
  }
  return value;
}

/** Writes one config value of an existing step as a minimal change (L3). */
function writeConfigValue(config: Y.Map<unknown>, type: string, key: string, value: unknown) {
  if (key === PROMPT_MESSAGES_KEY && hasPromptMessages(type)) return writePromptMessages(config, value);
  const kind = typedTextKind(type, key);
  if (kind === "text" && typeof value === "string") return setTextField(config, key, value);
  if (kind === "textMap" && isTextRecord(value)) return setTextMapField(config, key, value);
  if (kind === "textList" && asTextListItems(value, textListFields(type, key))) return writeTextList(config, key, value as TextListItem[], textListFields(type, key));
  // A value the text form cannot hold is plain JSON; a malformed Y type there is replaced (L7 repair).
  const current = config.get(key);
  if (kind && current instanceof Y.AbstractType && value !== undefined) config.set(key, value);
  else setIfChanged(config, key, value);
}

// ---------- lists of co-typed items (L11: switch cases) ----------

/** One item of a "textList" field as the definition JSON holds it (e.g. a switch case `{ key, expression }`). */
export type TextListItem = Record<string, string>;

/** The key of an item's stable id in its Y.Map (not part of the definition JSON). */
export const TEXT_LIST_ITEM_ID = "id";

/** The id of item `index` of a list still in the plain JSON form: converting the list gives its items these ids. */
const plainItemId = (index: number) => `p${index}`;

/** A fresh item id (items added in the studio): random, so two people adding at once never share one. */
function newItemId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return `c${[...bytes].map((b) => b.toString(36).padStart(2, "0")).join("")}`;
}

/**
 * A "textList" config field: a plain JSON value is returned as is (config validation judges it); the Y.Array
 * form reads as `[{ field: string, … }]` in array order, the item ids left out. Another Y type where an item or
 * a text belongs is malformed (L7): an item that is not a map is skipped, a text field read as "".
 */
function readConfigTextList(field: string, value: unknown, fields: readonly string[], wrong: FieldProblem): unknown {
  if (!(value instanceof Y.Array)) {
    if (value instanceof Y.AbstractType) wrong(field, "a JSON array or a Y.Array of Y.Map items");
    return yValueToJson(value);
  }
  const items: Record<string, unknown>[] = [];
  (value as Y.Array<unknown>).toArray().forEach((item, index) => {
    if (!(item instanceof Y.Map)) {
      wrong(`${field}.${index}`, "a Y.Map");
      return;
    }
    const read: Record<string, unknown> = {};
    // The registry's field order first (as the plain form is written: `{ key, expression }`), then any others.
    const keys = [...fields.filter((key) => item.has(key)), ...[...item.keys()].filter((key) => !fields.includes(key)).sort()];
    for (const key of keys) {
      if (key === TEXT_LIST_ITEM_ID) continue;
      const entry = item.get(key);
      if (fields.includes(key)) {
        const text = readTextValue(entry);
        // Another Y type reads as "" (so applying the read definition repairs it to a Y.Text); a plain value is kept.
        if (text === undefined && entry instanceof Y.AbstractType) {
          wrong(`${field}.${index}.${key}`, TEXT);
          read[key] = "";
        } else read[key] = text ?? entry;
      } else read[key] = yValueToJson(entry);
    }
    items.push(read);
  });
  return items;
}

/** The items when `value` is an array of objects holding only the listed text fields, as strings (what the Y.Array form holds). */
function asTextListItems(value: unknown, fields: readonly string[]): TextListItem[] | null {
  if (!Array.isArray(value) || fields.length === 0) return null;
  for (const item of value) {
    if (!item || typeof item !== "object" || Array.isArray(item)) return null;
    for (const [key, text] of Object.entries(item)) if (!fields.includes(key) || typeof text !== "string") return null;
  }
  return value as TextListItem[];
}

/** The Y.Map of one item (not yet in a document): its id and its text fields as Y.Text. */
function createTextListItem(item: TextListItem, id: string): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set(TEXT_LIST_ITEM_ID, id);
  for (const [key, text] of Object.entries(item)) map.set(key, createYText(text));
  return map;
}

/** The Y.Array form of a list (not yet in a document); `ids` gives each item's id (fresh ones by default). */
function createTextListArray(items: TextListItem[], ids: (index: number) => string = newItemId): Y.Array<Y.Map<unknown>> {
  const array = new Y.Array<Y.Map<unknown>>();
  array.insert(0, items.map((item, index) => createTextListItem(item, ids(index))));
  return array;
}

const sameTextItem = (a: TextListItem, b: TextListItem) => Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((key) => a[key] === b[key]);

function isSameItem(map: unknown, item: TextListItem): boolean {
  if (!(map instanceof Y.Map)) return false;
  const keys = [...map.keys()].filter((key) => key !== TEXT_LIST_ITEM_ID);
  return keys.length === Object.keys(item).length && keys.every((key) => readTextValue(map.get(key)) === item[key]);
}

/**
 * Writes a "textList" field as a minimal change (L11): items equal at the head and the tail are untouched,
 * the items between are changed in place pairwise (each text by one splice, L3; the item keeps its id), and
 * the rest are inserted or deleted. A plain JSON list already equal is left alone (the studio converts it on
 * first edit).
 */
function writeTextList(config: Y.Map<unknown>, key: string, items: TextListItem[], fields: readonly string[]) {
  const current = config.get(key);
  if (!(current instanceof Y.Array)) {
    const plain = current instanceof Y.AbstractType ? null : asTextListItems(current, fields);
    if (plain && plain.length === items.length && plain.every((item, i) => sameTextItem(item, items[i]!))) return;
    config.set(key, createTextListArray(items));
    return;
  }
  const array = current as Y.Array<unknown>;
  const maps = array.toArray();
  let start = 0;
  while (start < maps.length && start < items.length && isSameItem(maps[start], items[start]!)) start++;
  let endMaps = maps.length;
  let endItems = items.length;
  while (endMaps > start && endItems > start && isSameItem(maps[endMaps - 1], items[endItems - 1]!)) {
    endMaps--;
    endItems--;
  }
  const overlap = Math.min(endMaps - start, endItems - start);
  for (let i = start; i < start + overlap; i++) {
    const map = maps[i];
    const item = items[i]!;
    if (map instanceof Y.Map) {
      for (const field of [...map.keys()]) if (field !== TEXT_LIST_ITEM_ID && !Object.hasOwn(item, field)) map.delete(field);
      for (const [field, text] of Object.entries(item)) setTextField(map as Y.Map<unknown>, field, text);
      if (typeof map.get(TEXT_LIST_ITEM_ID) !== "string") map.set(TEXT_LIST_ITEM_ID, newItemId());
    } else {
      array.delete(i, 1);
      array.insert(i, [createTextListItem(item, newItemId())]);
    }
  }
  if (endMaps - start > overlap) array.delete(start + overlap, endMaps - start - overlap);
  else if (endItems - start > overlap) array.insert(start + overlap, items.slice(start + overlap, endItems).map((item) => createTextListItem(item, newItemId())));
}

// ---------- openai.chat prompts (config.messages) ----------

/** The config key that may hold collaborative prompt messages. */
export const PROMPT_MESSAGES_KEY = "messages";

/** Whether a step of this type keeps `config.messages` as collaborative prompts (a Y.Array of message maps). */
export const hasPromptMessages = (type: unknown): boolean => type === "openai.chat";

/** A chat message as the definition JSON holds it. */
export interface PromptMessage {
  role: string;
  content: string;
}

/** A message of the Y.Array form: Y.Map { role: string, content: Y.XmlFragment }. */
export type PromptMessageMap = Y.Map<unknown>;

/**
 * Reads `config.messages` of an openai.chat step: a plain JSON value is returned as is (config validation
 * judges it); the Y.Array form becomes `[{ role, content }]` with `content` the fragment's plain text.
 * Items of the wrong shape are reported (and read as well as they can be, or skipped when not a map).
 */
function readPromptMessages(value: unknown, wrong: FieldProblem): unknown {
  if (!(value instanceof Y.Array)) {
    if (value instanceof Y.AbstractType) wrong(`config.${PROMPT_MESSAGES_KEY}`, "a JSON array or a Y.Array of Y.Map { role, content }");
    return yValueToJson(value);
  }
  const messages: PromptMessage[] = [];
  value.toArray().forEach((item: unknown, index: number) => {
    const at = `config.${PROMPT_MESSAGES_KEY}.${index}`;
    if (!(item instanceof Y.Map)) {
      wrong(at, "a Y.Map { role, content }");
      return;
    }
    const role = item.get("role");
    const content = item.get("content");
    if (typeof role !== "string") wrong(`${at}.role`, "a string");
    if (!(content instanceof Y.XmlFragment)) wrong(`${at}.content`, "a Y.XmlFragment");
    messages.push({
      role: asString(role),
      content: content instanceof Y.XmlFragment ? fragmentText(content) : asString(content),
    });
  });
  return messages;
}

/** The messages when `value` is an array of exactly `{ role: string, content: string }` (what the Y.Array form can hold). */
function asPromptMessages(value: unknown): PromptMessage[] | null {
  if (!Array.isArray(value)) return null;
  for (const item of value) {
    if (!item || typeof item !== "object" || Array.isArray(item)) return null;
    const keys = Object.keys(item);
    if (keys.length !== 2 || typeof item.role !== "string" || typeof item.content !== "string") return null;
  }
  return value as PromptMessage[];
}

const samePromptMessages = (a: PromptMessage[], b: PromptMessage[]) =>
  a.length === b.length && a.every((m, i) => m.role === b[i]!.role && m.content === b[i]!.content);

function readEdge(id: string, map: unknown, wrong: FieldProblem): Edge | null {
  if (!(map instanceof Y.Map)) return null;
  const label = map.get("label");
  for (const end of ["source", "target"]) {
    const value = map.get(end);
    if (value !== undefined && typeof value !== "string") wrong(end, "a step id string");
  }
  if (label !== undefined && typeof label !== "string") wrong("label", "a string");
  const edge: Edge = { id, source: asString(map.get("source")), target: asString(map.get("target")) };
  if (typeof label === "string") edge.label = label;
  return edge;
}

/**
 * Reads the definition a Y.Doc holds. Never throws: a doc edited by a faulty client yields the best
 * definition it can, plus problems naming what was wrong (problems never block editing).
 */
export function definitionFromDoc(doc: Y.Doc): { definition: WorkflowDefinition; problems: Problem[] } {
  const { meta, steps, edges, settings } = docMaps(doc);
  const pinned = presentMap(doc, DOC_KEYS.pinned);
  const testCases = presentMap(doc, DOC_KEYS.testCases);
  const problems: Problem[] = [];
  const raw: WorkflowDefinition = {
    schemaVersion: DEFINITION_SCHEMA_VERSION,
    name: asText(meta.get("name")),
    description: asText(meta.get("description")),
    steps: [] as Step[],
    edges: [] as Edge[],
    settings: Object.fromEntries([...settings.keys()].sort().map((key) => [key, yValueToJson(settings.get(key))])),
  };
  // Reported here, so the schema does not report the default it read instead.
  const reported = new Set<string>();
  for (const key of ["name", "description"] as const) {
    const value = meta.get(key);
    if (value !== undefined && readTextValue(value) === undefined) {
      reported.add(`meta:${key}`);
      problems.push({ code: "INVALID_DEFINITION", path: [key], message: `meta.${key} must be ${TEXT}` });
    }
  }
  // Fields already reported as holding the wrong kind of value, so the schema does not report them again.
  for (const id of [...steps.keys()].sort()) {
    const step = readStep(id, steps.get(id), (field, expected) => {
      reported.add(`steps:${id}:${field}`);
      problems.push({ code: "INVALID_DEFINITION", stepId: id, message: `Step "${id}": ${field} must be ${expected}` });
    });
    if (step) raw.steps.push(step);
    else problems.push({ code: "INVALID_DEFINITION", stepId: id, message: `Step "${id}" is malformed` });
  }
  for (const id of [...edges.keys()].sort()) {
    const edge = readEdge(id, edges.get(id), (field, expected) => {
      reported.add(`edges:${id}:${field}`);
      problems.push({ code: "INVALID_DEFINITION", edgeId: id, message: `Edge "${id}": ${field} must be ${expected}` });
    });
    if (edge) raw.edges.push(edge);
    else problems.push({ code: "INVALID_DEFINITION", edgeId: id, message: `Edge "${id}" is malformed` });
  }
  // L10: pins of steps that are gone are not read (removeStep deletes them; a concurrent delete may leave one).
  const stepIds = new Set(raw.steps.map((step) => step.id));
  const pins = pinned ? [...pinned.keys()].sort().filter((id) => stepIds.has(id)) : [];
  if (pinned && pins.length) raw.pinned = Object.fromEntries(pins.map((id) => [id, yValueToJson(pinned.get(id))]));
  const cases: TestCase[] = [];
  for (const id of testCases ? [...testCases.keys()].sort() : []) {
    const item = testCases!.get(id);
    if (!(item instanceof Y.Map)) {
      problems.push({ code: "INVALID_DEFINITION", path: ["testCases", id], message: `Test case "${id}" is malformed` });
      continue;
    }
    const name = item.get("name");
    if (name !== undefined && readTextValue(name) === undefined) problems.push({ code: "INVALID_DEFINITION", path: ["testCases", id, "name"], message: `Test case "${id}": name must be ${TEXT}` });
    const assertions = yValueToJson(item.get("assertions"));
    cases.push({ id, name: asText(name), input: yValueToJson(item.get("input")) ?? {}, assertions: (assertions ?? []) as TestCase["assertions"] });
  }
  if (cases.length) raw.testCases = cases;
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((part): part is string | number => typeof part !== "symbol");
      // Issues inside one step or edge name it by id (the array index means nothing to the reader).
      const [list, index, ...field] = path;
      const item = (list === "steps" || list === "edges") && typeof index === "number" ? raw[list][index] : undefined;
      if (item && field.length) {
        if (reported.has(`${list}:${item.id}:${field.join(".")}`)) continue;
        const owner = list === "steps" ? { stepId: item.id } : { edgeId: item.id };
        const kind = list === "steps" ? "Step" : "Edge";
        problems.push({ code: "INVALID_DEFINITION", ...owner, path, message: `${kind} "${item.id}": ${field.join(".")}: ${issue.message}` });
        continue;
      }
      if (path.length === 1 && reported.has(`meta:${path[0]}`)) continue;
      problems.push({ code: "INVALID_DEFINITION", path, message: `${path.join(".") || "definition"}: ${issue.message}` });
    }
    return { definition: raw, problems: [...problems, ...validateDefinition(raw)] };
  }
  return { definition: parsed.data, problems: [...problems, ...validateDefinition(parsed.data)] };
}

// ---------- writing ----------

function setIfChanged(map: Y.Map<unknown>, key: string, value: unknown) {
  if (value === undefined) {
    if (map.has(key)) map.delete(key);
    return;
  }
  const current = map.get(key);
  if (JSON.stringify(yValueToJson(current)) !== JSON.stringify(value)) map.set(key, value);
}

function writeNotes(fragment: Y.XmlFragment, text: string | undefined) {
  // A fragment not yet in a document (a new step) is empty and cannot be read yet.
  if (fragment.doc) {
    if ((text ?? "") === fragmentText(fragment)) return;
    fragment.delete(0, fragment.length);
  } else if (!text) return;
  const paragraphs = (text ?? "").split("\n").map((line) => {
    const paragraph = new Y.XmlElement("paragraph");
    if (line) paragraph.insert(0, [new Y.XmlText(line)]);
    return paragraph;
  });
  fragment.insert(0, paragraphs); // the fragment is empty here; insert(0) works before it joins a document
}

/** Creates the Y.Map of one prompt message (not yet in a document). */
export function createPromptMessageMap(message: PromptMessage): PromptMessageMap {
  const map = new Y.Map<unknown>();
  map.set("role", message.role);
  const content = new Y.XmlFragment();
  map.set("content", content);
  writeNotes(content, message.content);
  return map;
}

/** The Y.Array form of a message list (not yet in a document). */
export function createPromptMessagesArray(messages: PromptMessage[]): Y.Array<PromptMessageMap> {
  const array = new Y.Array<PromptMessageMap>();
  array.insert(0, messages.map(createPromptMessageMap));
  return array;
}

function writePromptContent(map: PromptMessageMap, text: string) {
  const content = map.get("content");
  if (content instanceof Y.XmlFragment) writeNotes(content, text);
  else {
    const fragment = new Y.XmlFragment();
    map.set("content", fragment);
    writeNotes(fragment, text);
  }
}

function writePromptMessage(map: PromptMessageMap, message: PromptMessage) {
  setIfChanged(map, "role", message.role);
  writePromptContent(map, message.content);
}

function isSameMessage(item: unknown, message: PromptMessage): boolean {
  if (!(item instanceof Y.Map) || item.get("role") !== message.role) return false;
  const content = item.get("content");
  return content instanceof Y.XmlFragment && fragmentText(content) === message.content;
}

/**
 * Writes the messages of an openai.chat step in the Y.Array form, as a minimal change: unchanged messages are
 * untouched, a changed message gets its role key set and/or its fragment rewritten, added and removed messages
 * are inserted into / deleted from the array. A plain JSON array that already holds these messages is left
 * alone (the studio converts it on the first edit); a value the Y.Array form cannot hold stays plain JSON.
 */
function writePromptMessages(config: Y.Map<unknown>, value: unknown) {
  const messages = asPromptMessages(value);
  const current = config.get(PROMPT_MESSAGES_KEY);
  if (!messages) {
    setIfChanged(config, PROMPT_MESSAGES_KEY, value);
    return;
  }
  if (!(current instanceof Y.Array)) {
    const plain = current instanceof Y.AbstractType ? null : asPromptMessages(current);
    if (plain && samePromptMessages(plain, messages)) return;
    config.set(PROMPT_MESSAGES_KEY, createPromptMessagesArray(messages));
    return;
  }
  const array = current as Y.Array<unknown>;
  const items = array.toArray();
  let start = 0;
  while (start < items.length && start < messages.length && isSameMessage(items[start], messages[start]!)) start++;
  let endItems = items.length;
  let endMessages = messages.length;
  while (endItems > start && endMessages > start && isSameMessage(items[endItems - 1], messages[endMessages - 1]!)) {
    endItems--;
    endMessages--;
  }
  // What lies between the common head and tail: update in place pairwise, then delete or insert the rest.
  const overlap = Math.min(endItems - start, endMessages - start);
  for (let i = start; i < start + overlap; i++) {
    const item = items[i];
    if (item instanceof Y.Map) writePromptMessage(item, messages[i]!);
    else {
      array.delete(i, 1);
      array.insert(i, [createPromptMessageMap(messages[i]!)]);
    }
  }
  if (endItems - start > overlap) array.delete(start + overlap, endItems - start - overlap);
  else if (endMessages - start > overlap) array.insert(start + overlap, messages.slice(start + overlap, endMessages).map(createPromptMessageMap));
}

/** Creates the Y.Map of a step, ready to insert into `steps`. */
export function createStepMap(step: Step): StepMap {
  const map = new Y.Map<unknown>();
  map.set("type", step.type);
  if (step.key !== undefined) map.set("key", step.key);
  map.set("name", createYText(step.name));
  const config = new Y.Map<unknown>();
  for (const [key, value] of Object.entries(step.config)) config.set(key, createConfigValue(step.type, key, value));
  map.set("config", config);
  map.set("position", new Y.Map<unknown>([["x", step.position.x], ["y", step.position.y]]));
  const notes = new Y.XmlFragment();
  map.set("notes", notes);
  if (step.notes) writeNotes(notes, step.notes);
  if (step.onError) map.set("onError", step.onError);
  return map;
}

function writeStep(map: StepMap, step: Step) {
  setIfChanged(map, "type", step.type);
  setIfChanged(map, "key", step.key);
  setTextField(map, "name", step.name);
  let config = map.get("config");
  if (!(config instanceof Y.Map)) map.set("config", (config = new Y.Map()));
  const configMap = config as Y.Map<unknown>;
  for (const key of [...configMap.keys()]) if (!Object.hasOwn(step.config, key)) configMap.delete(key);
  for (const [key, value] of Object.entries(step.config)) writeConfigValue(configMap, step.type, key, value);
  let position = map.get("position");
  if (!(position instanceof Y.Map)) map.set("position", (position = new Y.Map()));
  setIfChanged(position as Y.Map<unknown>, "x", step.position.x);
  setIfChanged(position as Y.Map<unknown>, "y", step.position.y);
  let notes = map.get("notes");
  if (!(notes instanceof Y.XmlFragment)) map.set("notes", (notes = new Y.XmlFragment()));
  writeNotes(notes as Y.XmlFragment, step.notes);
  setIfChanged(map, "onError", step.onError);
}

/**
 * Makes the doc hold `definition`, changing only what differs (so concurrent editors keep their
 * unrelated edits). One transaction, tagged with `origin`.
 */
export function applyDefinitionToDoc(doc: Y.Doc, definition: WorkflowDefinition, origin: unknown = null): void {
  const { meta, steps, edges, settings } = docMaps(doc);
  doc.transact(() => {
    setIfChanged(meta, "schemaVersion", definition.schemaVersion);
    const wanted: Record<string, unknown> = definition.settings ?? {};
    for (const key of [...settings.keys()]) if (!Object.hasOwn(wanted, key)) settings.delete(key);
    for (const [key, value] of Object.entries(wanted)) setIfChanged(settings, key, value);
    setTextField(meta, "name", definition.name);
    setTextField(meta, "description", definition.description);

    const stepIds = new Set(definition.steps.map((step) => step.id));
    for (const id of [...steps.keys()]) if (!stepIds.has(id)) steps.delete(id);
    for (const step of definition.steps) {
      const existing = steps.get(step.id);
      if (existing instanceof Y.Map) writeStep(existing, step);
      else steps.set(step.id, createStepMap(step));
    }

    const edgeIds = new Set(definition.edges.map((edge) => edge.id));
    for (const id of [...edges.keys()]) if (!edgeIds.has(id)) edges.delete(id);
    for (const edge of definition.edges) {
      let map = edges.get(edge.id);
      if (!(map instanceof Y.Map)) edges.set(edge.id, (map = new Y.Map()));
      setIfChanged(map, "source", edge.source);
      setIfChanged(map, "target", edge.target);
      setIfChanged(map, "label", edge.label);
    }

    // L10: a definition without `pinned` / `testCases` leaves the document's alone (a version from before
    // them restores without dropping today's); `{}` / `[]` clear them.
    if (definition.pinned !== undefined && (Object.keys(definition.pinned).length || presentMap(doc, DOC_KEYS.pinned))) {
      const pinned = docMaps(doc).pinned;
      for (const id of [...pinned.keys()]) if (!Object.hasOwn(definition.pinned, id)) pinned.delete(id);
      for (const [id, output] of Object.entries(definition.pinned)) setIfChanged(pinned, id, output ?? null);
    }
    if (definition.testCases !== undefined && (definition.testCases.length || presentMap(doc, DOC_KEYS.testCases))) {
      const testCases = docMaps(doc).testCases;
      const caseIds = new Set(definition.testCases.map((testCase) => testCase.id));
      for (const id of [...testCases.keys()]) if (!caseIds.has(id)) testCases.delete(id);
      for (const testCase of definition.testCases) writeTestCase(testCases, testCase);
    }
  }, origin);
}

export function docFromDefinition(definition: WorkflowDefinition): Y.Doc {
  const doc = new Y.Doc();
  applyDefinitionToDoc(doc, definition);
  return doc;
}

/** The whole doc state as one update, for storage. */
export function encodeDocState(doc: Y.Doc): Uint8Array {
  return Y.encodeStateAsUpdate(doc);
}

// ---------- edits the studio makes ----------

/** Removes a step and every edge touching it, in one transaction. */
export function removeStep(doc: Y.Doc, stepId: string, origin: unknown = null): void {
  const { steps, edges } = docMaps(doc);
  doc.transact(() => {
    steps.delete(stepId);
    presentMap(doc, DOC_KEYS.pinned)?.delete(stepId);
    for (const [id, edge] of [...edges.entries()]) {
      if (edge instanceof Y.Map && (edge.get("source") === stepId || edge.get("target") === stepId)) edges.delete(id);
    }
  }, origin);
}

/** The Y.Array form of an openai.chat step's messages, or null while the step holds none or the plain JSON form. */
export function promptMessagesArray(doc: Y.Doc, stepId: string): Y.Array<PromptMessageMap> | null {
  const step = docMaps(doc).steps.get(stepId);
  const config = step instanceof Y.Map ? step.get("config") : undefined;
  const messages = config instanceof Y.Map ? config.get(PROMPT_MESSAGES_KEY) : undefined;
  return messages instanceof Y.Array ? (messages as Y.Array<PromptMessageMap>) : null;
}

/**
 * Runs `edit` on the step's messages in the Y.Array form, in one transaction. A step that still holds the
 * plain JSON form (or no messages) is converted first, in the same transaction: items keep their role and
 * text (a missing or non-text role reads "user", a missing or non-text content ""). No-op for a step that is
 * not an openai.chat step.
 */
export function editPromptMessages(doc: Y.Doc, stepId: string, edit: (messages: Y.Array<PromptMessageMap>) => void, origin: unknown = null): void {
  const step = docMaps(doc).steps.get(stepId);
  if (!(step instanceof Y.Map) || !hasPromptMessages(step.get("type"))) return;
  doc.transact(() => {
    let config = step.get("config");
    if (!(config instanceof Y.Map)) step.set("config", (config = new Y.Map()));
    const configMap = config as Y.Map<unknown>;
    let messages = configMap.get(PROMPT_MESSAGES_KEY);
    if (!(messages instanceof Y.Array)) {
      const plain = Array.isArray(messages) ? (messages as unknown[]) : [];
      const converted = plain.map((item) => {
        const record = item && typeof item === "object" ? (item as Record<string, unknown>) : {};
        return { role: typeof record.role === "string" ? record.role : "user", content: typeof record.content === "string" ? record.content : "" };
      });
      configMap.set(PROMPT_MESSAGES_KEY, (messages = createPromptMessagesArray(converted)));
    }
    edit(messages as Y.Array<PromptMessageMap>);
  }, origin);
}

/** Sets the role and/or the text of message `index` (converting the plain JSON form first). */
export function updatePromptMessage(doc: Y.Doc, stepId: string, index: number, patch: Partial<PromptMessage>, origin: unknown = null): void {
  editPromptMessages(
    doc,
    stepId,
    (messages) => {
      const item = messages.get(index);
      if (!(item instanceof Y.Map)) return;
      if (patch.role !== undefined) setIfChanged(item, "role", patch.role);
      if (patch.content !== undefined) writePromptContent(item, patch.content);
    },
    origin,
  );
}

/** Inserts a message at `index` (the end when omitted). */
export function insertPromptMessage(doc: Y.Doc, stepId: string, message: PromptMessage, index?: number, origin: unknown = null): void {
  editPromptMessages(doc, stepId, (messages) => messages.insert(Math.min(index ?? messages.length, messages.length), [createPromptMessageMap(message)]), origin);
}

/** Removes message `index`. */
export function removePromptMessage(doc: Y.Doc, stepId: string, index: number, origin: unknown = null): void {
  editPromptMessages(doc, stepId, (messages) => (index >= 0 && index < messages.length ? messages.delete(index, 1) : undefined), origin);
}

// ---------- co-typed text the studio edits (L4) ----------

/**
 * Where a co-typed text lives: the workflow's name or description, a step's name, a step's text config field,
 * or one value of a step's name → text config field (`entry`: a header's name).
 */
export type TextFieldRef =
  | { kind: "meta"; key: "name" | "description" }
  | { kind: "step"; stepId: string; key: "name" }
  | { kind: "config"; stepId: string; key: string; entry?: string }
  /** A text field of one item of a "textList" config field (L11), the item named by its stable id. */
  | { kind: "listItem"; stepId: string; key: string; itemId: string; field: string }
  /** A comment's text (replyId absent) or one reply's (L13). */
  | { kind: "comment"; commentId: string; replyId?: string };

/** A stable name of the field, for presence (whose caret is in which field): "meta.name", "step:<id>.config.url". */
export function textFieldId(ref: TextFieldRef): string {
  if (ref.kind === "meta") return `meta.${ref.key}`;
  if (ref.kind === "comment") return `comment:${ref.commentId}${ref.replyId === undefined ? "" : `.${ref.replyId}`}.text`;
  if (ref.kind === "step") return `step:${ref.stepId}.${ref.key}`;
  if (ref.kind === "listItem") return `step:${ref.stepId}.config.${ref.key}.${ref.itemId}.${ref.field}`;
  return `step:${ref.stepId}.config.${ref.key}${ref.entry === undefined ? "" : `.${ref.entry}`}`;
}

/**
 * The map holding the field (and the key in it), or null when the doc has no such step. With `create`, a
 * missing config map is added and a header map in the plain JSON form is converted to a Y.Map of Y.Text
 * (call it inside the edit's transaction).
 */
function textFieldSlot(doc: Y.Doc, ref: TextFieldRef, create: boolean): { map: Y.Map<unknown>; key: string } | null {
  const { meta, steps } = docMaps(doc);
  if (ref.kind === "meta") return { map: meta, key: ref.key };
  if (ref.kind === "comment") {
    const entry = commentEntrySlot(doc, ref.commentId, ref.replyId ?? null);
    return entry ? { map: entry, key: "text" } : null;
  }
  const step = steps.get(ref.stepId);
  if (!(step instanceof Y.Map)) return null;
  if (ref.kind === "step") return { map: step, key: ref.key };
  let config = step.get("config");
  if (!(config instanceof Y.Map)) {
    if (!create) return null;
    step.set("config", (config = new Y.Map()));
  }
  const configMap = config as Y.Map<unknown>;
  if (ref.kind === "listItem") {
    let list = configMap.get(ref.key);
    if (!(list instanceof Y.Array)) {
      if (!create) return null;
      configMap.set(ref.key, (list = convertTextList(list)));
    }
    const item = findListItem(list as Y.Array<unknown>, ref.itemId);
    return item ? { map: item, key: ref.field } : null;
  }
  if (ref.entry === undefined) return { map: configMap, key: ref.key };
  let entries = configMap.get(ref.key);
  if (!(entries instanceof Y.Map)) {
    if (!create) return null;
    const plain = entries && typeof entries === "object" && !(entries instanceof Y.AbstractType) ? (entries as Record<string, unknown>) : {};
    configMap.set(ref.key, (entries = createTextMap(Object.fromEntries(Object.entries(plain).filter((e): e is [string, string] => typeof e[1] === "string")))));
  }
  return { map: entries as Y.Map<unknown>, key: ref.entry };
}

/** The field as the doc holds it: its Y.Text (null while it is a plain string or absent) and its text. */
export function readTextField(doc: Y.Doc, ref: TextFieldRef): { text: Y.Text | null; value: string | undefined } {
  const slot = textFieldSlot(doc, ref, false);
  let current = slot?.map.get(slot.key);
  if (!slot && ref.kind === "config" && ref.entry !== undefined) {
    // A header map still in the plain JSON form.
    const step = docMaps(doc).steps.get(ref.stepId);
    const config = step instanceof Y.Map ? step.get("config") : undefined;
    const plain = config instanceof Y.Map ? config.get(ref.key) : undefined;
    if (plain && typeof plain === "object" && !(plain instanceof Y.AbstractType)) current = (plain as Record<string, unknown>)[ref.entry];
  }
  if (!slot && ref.kind === "listItem") {
    // A list still in the plain JSON form: its items are named by their index (plainItemId).
    const plain = configOf(doc, ref.stepId)?.get(ref.key);
    const index = Array.isArray(plain) ? plain.findIndex((_, i) => plainItemId(i) === ref.itemId) : -1;
    const item = index >= 0 ? (plain as unknown[])[index] : undefined;
    if (item && typeof item === "object") current = (item as Record<string, unknown>)[ref.field];
  }
  return { text: isPlainYText(current) ? current : null, value: readTextValue(current) };
}

/**
 * The studio's edit of a text field: the Y.Text changes by a minimal splice (`caret`, where the caret is after
 * the edit, places it exactly); a plain string (or no value) becomes a Y.Text in the same transaction, so the
 * next keystrokes merge (L4). `undefined` removes the key (an emptied optional field). No-op for a missing step.
 */
export function editTextField(doc: Y.Doc, ref: TextFieldRef, value: string | undefined, caret?: number, origin: unknown = null): void {
  doc.transact(() => {
    const slot = textFieldSlot(doc, ref, value !== undefined);
    if (slot) setTextField(slot.map, slot.key, value, caret);
  }, origin);
}

/**
 * Turns a field still holding a plain string into a Y.Text with the same text, in one transaction (the studio
 * does it when a field gains focus, before the first keystroke: two people converting at once hold the same
 * text, so whichever Y.Text wins loses nothing). No-op when the field is already a Y.Text or absent.
 */
export function convertTextField(doc: Y.Doc, ref: TextFieldRef, origin: unknown = null): void {
  const { text, value } = readTextField(doc, ref);
  if (text || value === undefined) return;
  doc.transact(() => {
    const slot = textFieldSlot(doc, ref, true);
    if (slot) slot.map.set(slot.key, createYText(value));
  }, origin);
}

/**
 * Edits of a name → text config field (`http.request` headers, L6) the studio makes, each one transaction; a
 * map still in the plain JSON form is converted first, in the same transaction. A header's name is a key:
 * renaming moves its text to the new key (a name already taken is left alone and false is returned).
 */
export function editTextMap(
  doc: Y.Doc,
  stepId: string,
  key: string,
  edit: { add: string } | { remove: string } | { rename: string; to: string },
  origin: unknown = null,
): boolean {
  let done = false;
  doc.transact(() => {
    const name = "add" in edit ? edit.add : "remove" in edit ? edit.remove : edit.rename;
    const slot = textFieldSlot(doc, { kind: "config", stepId, key, entry: name }, true);
    if (!slot) return;
    const entries = slot.map;
    if ("add" in edit) {
      if (entries.has(edit.add) || !edit.add) return;
      entries.set(edit.add, createYText(""));
    } else if ("remove" in edit) {
      if (!entries.has(edit.remove)) return;
      entries.delete(edit.remove);
    } else {
      if (!edit.to || edit.to === edit.rename || entries.has(edit.to) || !entries.has(edit.rename)) return;
      const text = readTextValue(entries.get(edit.rename)) ?? "";
      entries.delete(edit.rename);
      entries.set(edit.to, createYText(text));
    }
    done = true;
  }, origin);
  return done;
}

/** The names of a name → text config field, sorted (either form), or [] when the step holds none. */
export function textMapNames(doc: Y.Doc, stepId: string, key: string): string[] {
  const step = docMaps(doc).steps.get(stepId);
  const config = step instanceof Y.Map ? step.get("config") : undefined;
  const value = config instanceof Y.Map ? config.get(key) : undefined;
  if (value instanceof Y.Map) return [...value.keys()].sort();
  if (value && typeof value === "object" && !(value instanceof Y.AbstractType) && !Array.isArray(value)) return Object.keys(value).sort();
  return [];
}

// ---------- lists of co-typed items the studio edits (L11) ----------

function configOf(doc: Y.Doc, stepId: string): Y.Map<unknown> | null {
  const step = docMaps(doc).steps.get(stepId);
  const config = step instanceof Y.Map ? step.get("config") : undefined;
  return config instanceof Y.Map ? (config as Y.Map<unknown>) : null;
}

/**
 * The Y.Array form of a list still in the plain JSON form (or none): each item keeps its strings (other
 * values are dropped, a non-object item becomes empty) and gets the id its index gives it (plainItemId), so
 * two people converting at once make the same ids and a caret's field survives whichever array wins.
 */
function convertTextList(value: unknown): Y.Array<Y.Map<unknown>> {
  const plain = Array.isArray(value) ? (value as unknown[]) : [];
  const items = plain.map((item) =>
    Object.fromEntries(Object.entries(item && typeof item === "object" && !Array.isArray(item) ? item : {}).filter((e): e is [string, string] => typeof e[1] === "string")),
  );
  return createTextListArray(items, plainItemId);
}

/** The item map with this id; an item without an id (a faulty client) is named "#<index>". */
function findListItem(list: Y.Array<unknown>, itemId: string): Y.Map<unknown> | null {
  const items = list.toArray();
  const found = items.find((item) => item instanceof Y.Map && item.get(TEXT_LIST_ITEM_ID) === itemId);
  if (found) return found as Y.Map<unknown>;
  const byIndex = /^#(\d+)$/.exec(itemId);
  const item = byIndex ? items[Number(byIndex[1])] : undefined;
  return item instanceof Y.Map ? (item as Y.Map<unknown>) : null;
}

/** The ids of a "textList" field's items in order (either form: a plain list's items are named by index), [] when none. */
export function textListItemIds(doc: Y.Doc, stepId: string, key: string): string[] {
  const list = configOf(doc, stepId)?.get(key);
  if (list instanceof Y.Array) {
    return (list as Y.Array<unknown>).toArray().map((item, index) => {
      const id = item instanceof Y.Map ? item.get(TEXT_LIST_ITEM_ID) : undefined;
      return typeof id === "string" ? id : `#${index}`;
    });
  }
  return Array.isArray(list) ? list.map((_, index) => plainItemId(index)) : [];
}

/** A change to a "textList" field's items: add one (at `index`, the end by default), remove one, or move one to `to`. */
export type TextListEdit = { add: TextListItem; index?: number } | { remove: string } | { move: string; to: number };

/**
 * Edits a "textList" config field (switch cases), one transaction; a list still in the plain JSON form is
 * converted first, in the same transaction. Returns the id of the item added, or whether it removed or moved
 * one. A move is a delete and an insert of a copy with the same id and texts (Yjs has no move): an edit typed
 * into that item at the same moment by someone else is lost, edits of other items are not.
 */
export function editTextList(doc: Y.Doc, stepId: string, key: string, edit: TextListEdit, origin: unknown = null): string | boolean {
  const step = docMaps(doc).steps.get(stepId);
  if (!(step instanceof Y.Map) || typedTextKind(step.get("type"), key) !== "textList") return false;
  let result: string | boolean = false;
  doc.transact(() => {
    let config = step.get("config");
    if (!(config instanceof Y.Map)) step.set("config", (config = new Y.Map()));
    const configMap = config as Y.Map<unknown>;
    let list = configMap.get(key);
    if (!(list instanceof Y.Array)) configMap.set(key, (list = convertTextList(list)));
    const array = list as Y.Array<unknown>;
    if ("add" in edit) {
      const id = newItemId();
      array.insert(Math.max(0, Math.min(edit.index ?? array.length, array.length)), [createTextListItem(edit.add, id)]);
      result = id;
      return;
    }
    const itemId = "remove" in edit ? edit.remove : edit.move;
    const item = findListItem(array, itemId);
    const index = item ? array.toArray().indexOf(item) : -1;
    if (index < 0) return;
    if ("remove" in edit) {
      array.delete(index, 1);
      result = true;
      return;
    }
    const to = Math.max(0, Math.min(edit.to, array.length - 1));
    if (to === index) return;
    const texts = Object.fromEntries([...item!.keys()].filter((k) => k !== TEXT_LIST_ITEM_ID).map((k) => [k, readTextValue(item!.get(k))]).filter((e): e is [string, string] => typeof e[1] === "string"));
    const id = item!.get(TEXT_LIST_ITEM_ID);
    array.delete(index, 1);
    array.insert(to, [createTextListItem(texts, typeof id === "string" ? id : newItemId())]);
    result = true;
  }, origin);
  return result;
}

// ---------- pinned data and test cases (L10) ----------

/** Writes one test case as a minimal change: its name a Y.Text (spliced, L3), input and assertions plain JSON. */
function writeTestCase(testCases: Y.Map<unknown>, testCase: TestCase) {
  let map = testCases.get(testCase.id);
  if (!(map instanceof Y.Map)) {
    testCases.set(testCase.id, (map = new Y.Map<unknown>()));
  }
  const item = map as Y.Map<unknown>;
  if (item.doc) setTextField(item, "name", testCase.name);
  else item.set("name", createYText(testCase.name));
  setIfChanged(item, "input", testCase.input ?? {});
  setIfChanged(item, "assertions", testCase.assertions);
}

/** Pins a step's output (R47): draft runs use it instead of executing the step. One transaction. */
export function pinStepOutput(doc: Y.Doc, stepId: string, output: unknown, origin: unknown = null): void {
  doc.transact(() => docMaps(doc).pinned.set(stepId, output === undefined ? null : output), origin);
}

/** Removes a step's pin. */
export function unpinStepOutput(doc: Y.Doc, stepId: string, origin: unknown = null): void {
  doc.transact(() => docMaps(doc).pinned.delete(stepId), origin);
}

/** Whether the step's output is pinned, and the pinned output. */
export function pinnedOutput(doc: Y.Doc, stepId: string): { pinned: boolean; output: unknown } {
  const pinned = presentMap(doc, DOC_KEYS.pinned);
  return pinned?.has(stepId) ? { pinned: true, output: yValueToJson(pinned!.get(stepId)) } : { pinned: false, output: undefined };
}

/** Adds or changes a test case (a minimal change of an existing one). */
export function putTestCase(doc: Y.Doc, testCase: TestCase, origin: unknown = null): void {
  doc.transact(() => writeTestCase(docMaps(doc).testCases, testCase), origin);
}

/** Removes a test case. */
export function removeTestCase(doc: Y.Doc, caseId: string, origin: unknown = null): void {
  doc.transact(() => docMaps(doc).testCases.delete(caseId), origin);
}
