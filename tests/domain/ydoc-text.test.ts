/**
 * Co-typed text fields in the Y.Doc (docs/ydoc-layout.md, "Co-typed text", rules L1–L8): every string a person
 * types into is a Y.Text (or, in older documents, a plain string); both read the same, writers splice minimally.
 */
import * as Y from "yjs";
import { describe, expect, it } from "vitest";
import { int, mulberry32, type Rng } from "../support/random.js";
import {
  applyDefinitionToDoc,
  createStepMap,
  definitionFromDoc,
  docFromDefinition,
  docMaps,
  editTextField,
  editTextList,
  editTextMap,
  readTextField,
  textListItemIds,
  textMapNames,
  STEP_TYPE_NAMES,
  stepConfigJsonSchema,
  stepTypes,
  textSplice,
  transformIndex,
  WorkflowDefinition,
  type TextFieldRef,
} from "@algorythmos/domain";
import { updatesDuring } from "../support/yjs.js";

const REMOTE = Symbol("remote");

const BASE = WorkflowDefinition.parse({
  name: "Orders",
  description: "Sync orders",
  steps: [
    { id: "start", type: "trigger.manual", name: "Start" },
    { id: "check", type: "condition", name: "Check", config: { expression: "input.go = true" }, position: { x: 0, y: 100 } },
    { id: "route", type: "switch", name: "Route", config: { cases: [{ key: "big", expression: "input.n > 2" }, { key: "vip", expression: "input.vip" }] }, position: { x: 0, y: 200 } },
  ],
  edges: [
    { id: "e1", source: "start", target: "check" },
    { id: "e2", source: "check", target: "route", label: "true" },
  ],
});

/** Two replicas of BASE that exchange updates only when `flush` delivers them (in a seeded random order). */
function pair(rng: Rng) {
  const base = new Y.Doc();
  base.clientID = 100;
  applyDefinitionToDoc(base, BASE);
  const state = Y.encodeStateAsUpdate(base);
  const docs = [1, 2].map((clientID) => {
    const doc = new Y.Doc();
    doc.clientID = clientID;
    Y.applyUpdate(doc, state, REMOTE);
    return doc;
  });
  const inboxes: Uint8Array[][] = [[], []];
  docs.forEach((doc, i) =>
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) inboxes[1 - i]!.push(update);
    }),
  );
  /** Delivers a random part of each inbox (all of it when `all`). */
  const flush = (all = false) => {
    docs.forEach((doc, i) => {
      const inbox = inboxes[i]!;
      const count = all ? inbox.length : int(rng, inbox.length + 1);
      for (const update of inbox.splice(0, count)) Y.applyUpdate(doc, update, REMOTE);
    });
  };
  return { docs, flush };
}

/** The characters of `text` that come from `alphabet`, in order: what one author typed, if nothing was lost. */
const byAuthor = (text: string, alphabet: RegExp) => [...text].filter((c) => alphabet.test(c)).join("");

// No spaces: the definition schema trims a workflow name, so a trailing space would not survive a read.
const A_TYPES = "_and(input.a=1)"; // lowercase, digits and punctuation
const B_TYPES = "XYZW"; // capitals only: never in A's text or the base
const A_CHARS = /[a-z0-9_.=()]/;
const B_CHARS = /[XYZW]/;

type Field = { read(definition: WorkflowDefinition): string; write(definition: WorkflowDefinition, value: string): void };
const FIELDS: Record<string, Field> = {
  "workflow name": { read: (d) => d.name, write: (d, v) => (d.name = v) },
  "condition expression": {
    read: (d) => String(d.steps.find((s) => s.id === "check")!.config.expression),
    write: (d, v) => (d.steps.find((s) => s.id === "check")!.config.expression = v),
  },
  // L11: one switch case's expression, inside the co-typed list of cases.
  "switch case expression": {
    read: (d) => (d.steps.find((s) => s.id === "route")!.config.cases as { expression: string }[])[1]!.expression,
    write: (d, v) => ((d.steps.find((s) => s.id === "route")!.config.cases as { expression: string }[])[1]!.expression = v),
  },
};

/**
 * Two authors type into one field at once, a keystroke at a time, each appending at the end of the text
 * their replica shows; every keystroke is read → changed → written back with applyDefinitionToDoc (the
 * writer imports, restores and the API use), and updates cross in a seeded random order.
 */
function typeConcurrently(seed: number, field: Field) {
  const rng = mulberry32(seed);
  const { docs, flush } = pair(rng);
  const queues = [[...A_TYPES], [...B_TYPES]];
  let guard = 0;
  while (queues.some((q) => q.length) && guard++ < 1000) {
    const who = queues[0]!.length && queues[1]!.length ? int(rng, 2) : queues[0]!.length ? 0 : 1;
    const doc = docs[who]!;
    const { definition } = definitionFromDoc(doc);
    field.write(definition, field.read(definition) + queues[who]!.shift()!);
    applyDefinitionToDoc(doc, definition);
    if (rng() < 0.5) flush();
  }
  flush(true);
  const [a, b] = docs.map((doc) => field.read(definitionFromDoc(doc).definition));
  return { a: a!, b: b! };
}

const SEEDS = Array.from({ length: 20 }, (_, i) => 0x7e47 + i * 104729);

describe("L3 concurrent typing through applyDefinitionToDoc merges character by character", () => {
  for (const [name, field] of Object.entries(FIELDS)) {
    it(`${name}: both authors' characters survive, each in order (${SEEDS.length} seeds)`, () => {
      const failures: string[] = [];
      for (const seed of SEEDS) {
        const { a, b } = typeConcurrently(seed, field);
        const original = field.read(BASE);
        if (a !== b) failures.push(`seed ${seed}: replicas differ: "${a}" vs "${b}"`);
        else if (!a.startsWith(original)) failures.push(`seed ${seed}: the original text is gone: "${a}"`);
        else if (byAuthor(a.slice(original.length), A_CHARS) !== A_TYPES) failures.push(`seed ${seed}: A's typing lost or reordered: "${a}"`);
        else if (byAuthor(a, B_CHARS) !== B_TYPES) failures.push(`seed ${seed}: B's typing lost or reordered: "${a}"`);
      }
      expect(failures, failures.join("\n")).toEqual([]);
    });
  }
});


// ---------- the layout ----------

const FULL = WorkflowDefinition.parse({
  name: "Lead follow-up",
  description: "Fetch, decide, mail",
  steps: [
    { id: "cron", type: "trigger.cron", name: "Every hour", config: { cron: "0 * * * *", timezone: "Europe/Paris" } },
    {
      id: "fetch",
      type: "http.request",
      name: "Fetch",
      config: { method: "POST", url: "https://crm.example/leads", headers: { accept: "application/json", "x-team": "sales" }, body: "plain text", timeoutMs: 5000 },
    },
    { id: "json", type: "http.request", name: "JSON body", config: { url: "https://crm.example/x", body: { a: [1, "two"] } } },
    { id: "ask", type: "openai.chat", name: "Ask", config: { credentialId: "cred_1", model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] } },
    { id: "mail", type: "email.postmark", name: "Mail", config: { credentialId: "cred_2", from: "a@b.co", to: "c@d.co", subject: "Hello", textBody: "Body", messageStream: "outbound" } },
    { id: "shape", type: "transform", name: "Shape", config: { expression: "$.leads" } },
    { id: "check", type: "condition", name: "Check", config: { expression: "input.go = true" } },
    { id: "wait", type: "delay", name: "Wait", config: { durationMs: 1000 } },
    { id: "route", type: "switch", name: "Route", config: { cases: [{ key: "big", expression: "$count(input.orders) > 2" }, { key: "gold", expression: "input.tier = 'gold'" }] } },
  ],
  edges: [],
});

const stepOf = (doc: Y.Doc, id: string) => docMaps(doc).steps.get(id)!;
const configOf = (doc: Y.Doc, id: string) => stepOf(doc, id).get("config") as Y.Map<unknown>;

/** The same document written with plain strings everywhere (as documents written before Y.Text were). */
function plainDoc(definition: WorkflowDefinition): Y.Doc {
  const doc = new Y.Doc();
  const { meta, steps } = docMaps(doc);
  doc.transact(() => {
    meta.set("schemaVersion", definition.schemaVersion);
    meta.set("name", definition.name);
    meta.set("description", definition.description);
    for (const step of definition.steps) {
      steps.set(step.id, createStepMap(step));
      const map = steps.get(step.id)!;
      map.set("name", step.name);
      const config = map.get("config") as Y.Map<unknown>;
      // Prompt messages have their own forms (ydoc-prompts.test.ts); every other value plain JSON.
      for (const [key, value] of Object.entries(step.config)) if (key !== "messages") config.set(key, structuredClone(value));
    }
  });
  return doc;
}

describe("L2 writers create Y.Text for every field people type into", () => {
  it("workflow name and description, step names and every typedText config field are Y.Text; header values too", () => {
    const doc = docFromDefinition(FULL);
    const { meta } = docMaps(doc);
    expect(meta.get("name")).toBeInstanceOf(Y.Text);
    expect(meta.get("description")).toBeInstanceOf(Y.Text);
    for (const step of FULL.steps) {
      expect(stepOf(doc, step.id).get("name"), step.id).toBeInstanceOf(Y.Text);
      const fields = stepTypes[step.type as keyof typeof stepTypes].typedText ?? {};
      for (const [key, value] of Object.entries(step.config)) {
        const held = configOf(doc, step.id).get(key);
        const kind = (fields as Record<string, string>)[key];
        if (kind === "text" && typeof value === "string") expect(held, `${step.id}.${key}`).toBeInstanceOf(Y.Text);
        else if (kind === "textMap") {
          expect(held, `${step.id}.${key}`).toBeInstanceOf(Y.Map);
          for (const entry of (held as Y.Map<unknown>).values()) expect(entry).toBeInstanceOf(Y.Text);
        } else if (kind === "textList") {
          // L11: an ordered Y.Array of Y.Map items, each with a string id and its text fields as Y.Text.
          expect(held, `${step.id}.${key}`).toBeInstanceOf(Y.Array);
          const itemFields = (stepTypes[step.type as keyof typeof stepTypes] as { textListFields?: Record<string, readonly string[]> }).textListFields?.[key] ?? [];
          expect(itemFields.length).toBeGreaterThan(0);
          for (const item of (held as Y.Array<Y.Map<unknown>>).toArray()) {
            expect(typeof item.get("id")).toBe("string");
            for (const field of itemFields) expect(item.get(field), `${step.id}.${key}.${field}`).toBeInstanceOf(Y.Text);
          }
        } else if (key !== "messages") expect(held instanceof Y.AbstractType, `${step.id}.${key} stays plain`).toBe(false);
      }
    }
    // A JSON body is not text; a chosen credential is not typed.
    expect(configOf(doc, "json").get("body")).toEqual({ a: [1, "two"] });
    expect(configOf(doc, "mail").get("credentialId")).toBe("cred_2");
  });

  it("the registry names every string field a person types (enums, credentials, workflows picked from a list and prompt messages aside)", () => {
    for (const type of STEP_TYPE_NAMES) {
      const schema = stepConfigJsonSchema(type) as { properties?: Record<string, { type?: string; enum?: unknown[] }> };
      const typed = Object.keys(stepTypes[type].typedText ?? {}).sort();
      const strings = Object.entries(schema.properties ?? {})
        .filter(([key, p]) => (p.type === "string" && !p.enum && key !== "credentialId" && key !== "workflowId") || (p.type === undefined && key === "body"))
        .map(([key]) => key);
      const maps = Object.entries(schema.properties ?? {}).filter(([, p]) => p.type === "object" && (p as { additionalProperties?: { type?: string } }).additionalProperties?.type === "string");
      // Lists of items people type (L11: switch cases), prompt messages aside: their string item fields are textListFields.
      type ItemSchema = { type?: string; items?: { type?: string; properties?: Record<string, { type?: string; enum?: unknown[] }> } };
      const lists = Object.entries(schema.properties ?? {})
        .map(([key, p]) => [key, Object.entries((p as ItemSchema).items?.properties ?? {}).filter(([, f]) => f.type === "string" && !f.enum).map(([field]) => field)] as const)
        .filter(([key, fields]) => key !== "messages" && (schema.properties![key] as ItemSchema).type === "array" && fields.length > 0);
      expect(typed, type).toEqual([...strings, ...maps.map(([key]) => key), ...lists.map(([key]) => key)].sort());
      const listFields = (stepTypes[type] as { textListFields?: Record<string, readonly string[]> }).textListFields ?? {};
      expect(Object.fromEntries(Object.entries(listFields).map(([key, fields]) => [key, [...fields].sort()])), type).toEqual(Object.fromEntries(lists.map(([key, fields]) => [key, [...fields].sort()])));
    }
  });
});

describe("L1 readers accept both forms", () => {
  it("a document of plain strings and one of Y.Text read as the same definition, with the same problems", () => {
    const plain = plainDoc(FULL);
    expect(docMaps(plain).meta.get("name")).toBe("Lead follow-up");
    expect(configOf(plain, "fetch").get("headers")).toEqual({ accept: "application/json", "x-team": "sales" });
    expect(definitionFromDoc(plain)).toEqual(definitionFromDoc(docFromDefinition(FULL)));
  });

  it("a plain string already equal is left alone: re-applying the read definition emits no update (L3)", () => {
    const plain = plainDoc(FULL);
    expect(updatesDuring(plain, () => applyDefinitionToDoc(plain, definitionFromDoc(plain).definition))).toEqual([]);
  });

  it("a changed plain string becomes a Y.Text holding the new text", () => {
    const plain = plainDoc(FULL);
    const next = structuredClone(FULL);
    next.name = "Lead follow-up v2";
    next.steps.find((s) => s.id === "check")!.config.expression = "input.go = false";
    applyDefinitionToDoc(plain, next);
    expect(docMaps(plain).meta.get("name")).toBeInstanceOf(Y.Text);
    expect(String(configOf(plain, "check").get("expression"))).toBe("input.go = false");
    expect(definitionFromDoc(plain).definition.name).toBe("Lead follow-up v2");
  });
});

describe("L3 writers splice minimally, so a concurrent edit elsewhere in the string survives", () => {
  it("textSplice keeps the common prefix and suffix", () => {
    expect(textSplice("https://a.example/x", "https://b.example/x")).toEqual({ index: 8, remove: 1, insert: "b" });
    expect(textSplice("same", "same")).toBeNull();
    expect(textSplice("", "new")).toEqual({ index: 0, remove: 0, insert: "new" });
    expect(textSplice("gone", "")).toEqual({ index: 0, remove: 4, insert: "" });
  });

  it("textSplice never cuts a surrogate pair, and uses the caret to place an ambiguous insertion", () => {
    // 😀 is \ud83d\ude00 and 😁 is \ud83d\ude01: they share the high surrogate.
    expect(textSplice("a😀b", "a😁b")).toEqual({ index: 1, remove: 2, insert: "😁" });
    expect(textSplice("aa", "aaa")).toEqual({ index: 2, remove: 0, insert: "a" });
    expect(textSplice("aa", "aaa", 1)).toEqual({ index: 0, remove: 0, insert: "a" });
    expect(textSplice("aa", "aaa", 2)).toEqual({ index: 1, remove: 0, insert: "a" });
  });

  it("an import changing the end of a URL keeps a remote edit at its start", () => {
    const a = docFromDefinition(FULL);
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    // B types "api." into the host while A's import changes the path.
    editTextField(b, { kind: "config", stepId: "fetch", key: "url" }, "https://api.crm.example/leads", 12);
    const next = structuredClone(FULL);
    next.steps.find((s) => s.id === "fetch")!.config.url = "https://crm.example/leads/v2";
    applyDefinitionToDoc(a, next, "import");
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    for (const doc of [a, b]) expect(definitionFromDoc(doc).definition.steps.find((s) => s.id === "fetch")!.config.url).toBe("https://api.crm.example/leads/v2");
  });

  it("one header value changed by an import touches only that value's text", () => {
    const doc = docFromDefinition(FULL);
    const next = structuredClone(FULL);
    (next.steps.find((s) => s.id === "fetch")!.config.headers as Record<string, string>)["x-team"] = "sales-eu";
    const updates = updatesDuring(doc, () => applyDefinitionToDoc(doc, next));
    expect(updates).toHaveLength(1);
    expect(Y.decodeUpdate(updates[0]!).structs).toHaveLength(1); // the inserted "-eu", nothing else
    expect(String((configOf(doc, "fetch").get("headers") as Y.Map<unknown>).get("x-team"))).toBe("sales-eu");
  });
});

describe("L4 the studio converts a plain string on its first edit, in the same transaction", () => {
  const NAME: TextFieldRef = { kind: "meta", key: "name" };
  const EXPRESSION: TextFieldRef = { kind: "config", stepId: "check", key: "expression" };
  const HEADER: TextFieldRef = { kind: "config", stepId: "fetch", key: "headers", entry: "x-team" };

  for (const ref of [NAME, EXPRESSION, HEADER]) {
    it(`${JSON.stringify(ref)}: one update converts and edits; later edits from two replicas merge`, () => {
      const a = plainDoc(FULL);
      const b = new Y.Doc();
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
      const start = readTextField(a, ref).value!;
      expect(readTextField(a, ref).text).toBeNull();
      const updates = updatesDuring(a, () => editTextField(a, ref, start + "!", start.length + 1));
      expect(updates).toHaveLength(1);
      expect(readTextField(a, ref).text).toBeInstanceOf(Y.Text);
      Y.applyUpdate(b, updates[0]!);
      // Now both type at once: A at the end, B at the start.
      editTextField(a, ref, start + "!a", start.length + 2);
      editTextField(b, ref, "B" + start + "!", 1);
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
      expect(readTextField(a, ref).value).toBe("B" + start + "!a");
      expect(readTextField(b, ref).value).toBe("B" + start + "!a");
    });
  }

  it("an emptied optional field is removed; a missing step is a no-op", () => {
    const doc = docFromDefinition(FULL);
    editTextField(doc, { kind: "config", stepId: "mail", key: "messageStream" }, undefined);
    expect(configOf(doc, "mail").has("messageStream")).toBe(false);
    expect(updatesDuring(doc, () => editTextField(doc, { kind: "config", stepId: "nope", key: "url" }, "x"))).toEqual([]);
  });
});

describe("L5 concurrent typing at remembered carets converges, each author's characters in order", () => {
  /**
   * 3 replicas type into the same expression at once, each at its own caret (which follows remote edits
   * the way the studio's inputs keep it, transformIndex), updates delivered in a seeded random order.
   */
  function run(seed: number): string | null {
    const rng = mulberry32(seed);
    const ref: TextFieldRef = { kind: "config", stepId: "check", key: "expression" };
    const base = docFromDefinition(FULL);
    const state = Y.encodeStateAsUpdate(base);
    // Alphabets disjoint from each other and from the original text.
    const typed = ["ABCDEFGHIJ", "KLMNOPQRST", "0123456789"];
    const alphabets = [/[A-J]/, /[K-T]/, /[0-9]/];
    const docs = typed.map((_, i) => {
      const doc = new Y.Doc();
      doc.clientID = 10 + i;
      Y.applyUpdate(doc, state, REMOTE);
      return doc;
    });
    const carets = docs.map(() => int(rng, "input.go = true".length + 1));
    docs.forEach((doc, i) => {
      readTextField(doc, ref).text!.observe((event) => {
        if (event.transaction.origin === REMOTE) carets[i] = transformIndex(carets[i]!, event.delta);
      });
    });
    const inboxes: Uint8Array[][] = docs.map(() => []);
    docs.forEach((doc, i) =>
      doc.on("update", (update: Uint8Array, origin: unknown) => {
        if (origin !== REMOTE) inboxes.forEach((inbox, j) => j !== i && inbox.push(update));
      }),
    );
    const deliver = (to: number, all: boolean) => {
      const inbox = inboxes[to]!;
      for (const update of inbox.splice(0, all ? inbox.length : int(rng, inbox.length + 1))) Y.applyUpdate(docs[to]!, update, REMOTE);
    };
    const queues = typed.map((t) => [...t]);
    for (let round = 0; round < 400 && queues.some((q) => q.length); round++) {
      const who = int(rng, docs.length);
      if (rng() < 0.35) deliver(who, false);
      const char = queues[who]!.shift();
      if (char === undefined) continue;
      const text = readTextField(docs[who]!, ref).value!;
      const caret = carets[who]!;
      editTextField(docs[who]!, ref, text.slice(0, caret) + char + text.slice(caret), caret + 1);
      carets[who] = caret + 1;
    }
    for (let pass = 0; pass < 3; pass++) docs.forEach((_, i) => deliver(i, true));
    const results = docs.map((doc) => readTextField(doc, ref).value!);
    if (new Set(results).size !== 1) return `replicas differ: ${results.join(" | ")}`;
    for (let i = 0; i < typed.length; i++) if (byAuthor(results[0]!, alphabets[i]!) !== typed[i]) return `author ${i} lost or reordered: ${results[0]}`;
    if (byAuthor(results[0]!, /[^A-T0-9]/) !== "input.go = true") return `the original text changed: ${results[0]}`;
    return null;
  }

  it(`3 authors, random carets, random delivery (${SEEDS.length} seeds)`, () => {
    const failures = SEEDS.map((seed) => [seed, run(seed)] as const).filter(([, f]) => f).map(([seed, f]) => `seed ${seed}: ${f}`);
    expect(failures, failures.join("\n")).toEqual([]);
  });

  it("transformIndex moves a caret by remote inserts and deletes before it, not by those after it", () => {
    expect(transformIndex(5, [{ retain: 2 }, { insert: "abc" }])).toBe(8);
    expect(transformIndex(5, [{ retain: 5 }, { insert: "abc" }])).toBe(5); // at the caret: stays before it
    expect(transformIndex(5, [{ retain: 1 }, { delete: 2 }])).toBe(3);
    expect(transformIndex(5, [{ retain: 3 }, { delete: 10 }])).toBe(3); // the deletion swallowed the caret
    expect(transformIndex(5, [{ retain: 7 }, { delete: 1 }])).toBe(5);
  });
});

describe("L6 headers are a Y.Map of header name → Y.Text", () => {
  const headersOf = (doc: Y.Doc) => definitionFromDoc(doc).definition.steps.find((s) => s.id === "fetch")!.config.headers;

  it("two people editing different headers, and one adding a header, all win", () => {
    const a = docFromDefinition(FULL);
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    editTextField(a, { kind: "config", stepId: "fetch", key: "headers", entry: "accept" }, "application/json; q=1", 21);
    editTextField(b, { kind: "config", stepId: "fetch", key: "headers", entry: "x-team" }, "sales-eu", 8);
    expect(editTextMap(b, "fetch", "headers", { add: "x-trace" })).toBe(true);
    editTextField(b, { kind: "config", stepId: "fetch", key: "headers", entry: "x-trace" }, "on", 2);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    for (const doc of [a, b]) expect(headersOf(doc)).toEqual({ accept: "application/json; q=1", "x-team": "sales-eu", "x-trace": "on" });
  });

  it("rename keeps the text under the new name; a taken or empty name is refused; remove deletes one name", () => {
    const doc = docFromDefinition(FULL);
    expect(editTextMap(doc, "fetch", "headers", { rename: "x-team", to: "accept" })).toBe(false);
    expect(editTextMap(doc, "fetch", "headers", { rename: "x-team", to: "" })).toBe(false);
    expect(editTextMap(doc, "fetch", "headers", { rename: "x-team", to: "x-group" })).toBe(true);
    expect(headersOf(doc)).toEqual({ accept: "application/json", "x-group": "sales" });
    expect(editTextMap(doc, "fetch", "headers", { remove: "accept" })).toBe(true);
    expect(textMapNames(doc, "fetch", "headers")).toEqual(["x-group"]);
  });

  it("a plain JSON headers object is converted on the first edit, in the same transaction, keeping every header", () => {
    const doc = plainDoc(FULL);
    expect(textMapNames(doc, "fetch", "headers")).toEqual(["accept", "x-team"]);
    const updates = updatesDuring(doc, () => editTextMap(doc, "fetch", "headers", { add: "x-new" }));
    expect(updates).toHaveLength(1);
    expect(configOf(doc, "fetch").get("headers")).toBeInstanceOf(Y.Map);
    expect(headersOf(doc)).toEqual({ accept: "application/json", "x-new": "", "x-team": "sales" });
  });
});

describe("L7 malformed shapes become INVALID_DEFINITION problems naming the field", () => {
  const problemsOf = (doc: Y.Doc) => definitionFromDoc(doc).problems.filter((p) => p.code === "INVALID_DEFINITION").map((p) => p.message);

  it("a workflow name that is a Y.Map, a step name that is a Y.XmlText, a URL that is a Y.Array, a header value that is a Y.Map", () => {
    const doc = docFromDefinition(FULL);
    doc.transact(() => {
      docMaps(doc).meta.set("name", new Y.Map());
      stepOf(doc, "check").set("name", new Y.XmlText("x"));
      configOf(doc, "fetch").set("url", new Y.Array());
      (configOf(doc, "fetch").get("headers") as Y.Map<unknown>).set("accept", new Y.Map());
    });
    const problems = problemsOf(doc);
    expect(problems).toContain("meta.name must be a string or a Y.Text");
    expect(problems).toContain('Step "check": name must be a string or a Y.Text');
    expect(problems).toContain('Step "fetch": config.url must be a string or a Y.Text');
    expect(problems).toContain('Step "fetch": config.headers.accept must be a string or a Y.Text');
    // Each named once (the schema's own complaint about the default it read is not repeated).
    expect(new Set(problems).size).toBe(problems.length);
    // Applying the definition read back repairs the layout (the name it read was empty, a problem of its own).
    applyDefinitionToDoc(doc, definitionFromDoc(doc).definition);
    expect(problemsOf(doc)).toEqual(["name: Name is required"]);
    expect(docMaps(doc).meta.get("name")).toBeInstanceOf(Y.Text);
    expect(configOf(doc, "fetch").get("headers")).toBeInstanceOf(Y.Map);
  });

  it("a garbled condition expression (one that no longer parses) shows in the problems, naming the field", () => {
    const doc = docFromDefinition(FULL);
    // What two people typing "$exists(" and "(a or b)" into one expression used to leave.
    configOf(doc, "check").set("expression", "input.go = true and $exi(stsa or b)(");
    const problems = definitionFromDoc(doc).problems.filter((p) => p.stepId === "check");
    expect(problems).toEqual([
      expect.objectContaining({ code: "INVALID_CONFIG", path: ["expression"], message: expect.stringMatching(/^Step "Check": expression: Invalid expression: .+ \(at \d+\)$/) }),
    ]);
    // The same for a transform; a valid expression has none.
    configOf(doc, "shape").set("expression", "$.leads[");
    expect(definitionFromDoc(doc).problems.some((p) => p.stepId === "shape" && p.path?.[0] === "expression")).toBe(true);
    configOf(doc, "check").set("expression", "input.go = true and $exists(input.b)");
    expect(definitionFromDoc(doc).problems.filter((p) => p.stepId === "check")).toEqual([]);
  });

  it("a garbled condition expression shows in the problems: a number where the text belongs", () => {
    const doc = docFromDefinition(FULL);
    configOf(doc, "check").set("expression", 42);
    const problems = definitionFromDoc(doc).problems;
    expect(problems.some((p) => p.code === "INVALID_CONFIG" && p.stepId === "check" && p.path?.[0] === "expression")).toBe(true);
  });
});

describe("L11 switch cases are a Y.Array of Y.Map { id, key: Y.Text, expression: Y.Text }", () => {
  const casesOf = (doc: Y.Doc) => configOf(doc, "route").get("cases") as Y.Array<Y.Map<unknown>>;
  const caseRef = (doc: Y.Doc, index: number, field = "expression"): TextFieldRef => ({ kind: "listItem", stepId: "route", key: "cases", itemId: textListItemIds(doc, "route", "cases")[index]!, field });
  const readCases = (doc: Y.Doc) => definitionFromDoc(doc).definition.steps.find((s) => s.id === "route")!.config.cases;

  it("L11: a plain JSON cases array reads the same as the Y.Array form, with the same problems, and re-applying it is a fixed point", () => {
    const plain = plainDoc(FULL);
    expect(configOf(plain, "route").get("cases")).toEqual(FULL.steps.find((s) => s.id === "route")!.config.cases);
    expect(readCases(plain)).toEqual([{ key: "big", expression: "$count(input.orders) > 2" }, { key: "gold", expression: "input.tier = 'gold'" }]);
    expect(definitionFromDoc(plain)).toEqual(definitionFromDoc(docFromDefinition(FULL)));
    const yForm = docFromDefinition(FULL);
    expect(updatesDuring(yForm, () => applyDefinitionToDoc(yForm, definitionFromDoc(yForm).definition))).toEqual([]);
    // The stored definition JSON keeps the engine's shape: the item ids are not in it.
    expect(JSON.stringify(readCases(yForm))).toBe(JSON.stringify(FULL.steps.find((s) => s.id === "route")!.config.cases));
  });

  it("L11: applyDefinitionToDoc splices one case's expression, keeps the other cases' texts and every id, and a remote edit at the start survives", () => {
    const a = docFromDefinition(FULL);
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a), REMOTE);
    const idsBefore = textListItemIds(a, "route", "cases");
    const firstText = casesOf(a).get(0).get("expression");
    const gold = readTextField(a, caseRef(a, 1)).text!;
    // b types at the start of case 1's expression while a's import changes its end.
    editTextField(b, caseRef(b, 1), "(input.tier = 'gold'", 1);
    const next = structuredClone(definitionFromDoc(a).definition);
    (next.steps.find((s) => s.id === "route")!.config.cases as { expression: string }[])[1]!.expression = "input.tier = 'platinum'";
    applyDefinitionToDoc(a, next);
    expect(casesOf(a).get(0).get("expression")).toBe(firstText);
    expect(readTextField(a, caseRef(a, 1)).text).toBe(gold);
    expect(textListItemIds(a, "route", "cases")).toEqual(idsBefore);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b), REMOTE);
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a), REMOTE);
    expect(readCases(a)).toEqual(readCases(b));
    expect((readCases(a) as { expression: string }[])[1]!.expression).toBe("(input.tier = 'platinum'");
  });

  it("L11: removing a middle case deletes only it; adding one inserts only it", () => {
    const doc = docFromDefinition(FULL);
    const next = structuredClone(definitionFromDoc(doc).definition);
    const cases = next.steps.find((s) => s.id === "route")!.config.cases as { key: string; expression: string }[];
    cases.splice(1, 0, { key: "mid", expression: "input.mid" });
    const [first, last] = [casesOf(doc).get(0), casesOf(doc).get(1)];
    applyDefinitionToDoc(doc, next);
    expect(casesOf(doc).length).toBe(3);
    expect(casesOf(doc).get(0)).toBe(first);
    expect(casesOf(doc).get(2)).toBe(last);
    cases.splice(1, 1);
    applyDefinitionToDoc(doc, next);
    expect(casesOf(doc).toArray()).toEqual([first, last]);
    expect(readCases(doc)).toEqual(cases);
  });

  it("L11: the studio's edits convert a plain list in the same transaction; converted ids are the same on every replica; add, move and remove keep ids", () => {
    const plain = plainDoc(FULL);
    const ids = textListItemIds(plain, "route", "cases");
    expect(ids).toEqual(["p0", "p1"]);
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(plain), REMOTE);
    // Both convert at once by typing into case 1 (same field id on both): whichever array wins, the field still exists.
    const updates = updatesDuring(plain, () => editTextField(plain, caseRef(plain, 1), "input.tier = 'gold' and x", 25));
    expect(updates).toHaveLength(1);
    editTextField(other, caseRef(other, 1), "input.tier = 'gold'!", 20);
    Y.applyUpdate(other, Y.encodeStateAsUpdate(plain), REMOTE);
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(other), REMOTE);
    expect(textListItemIds(plain, "route", "cases")).toEqual(["p0", "p1"]);
    expect(textListItemIds(other, "route", "cases")).toEqual(["p0", "p1"]);
    expect(readCases(plain)).toEqual(readCases(other));

    const added = editTextList(plain, "route", "cases", { add: { key: "new", expression: "" } });
    expect(typeof added).toBe("string");
    expect(textListItemIds(plain, "route", "cases")).toEqual(["p0", "p1", added]);
    editTextField(plain, { kind: "listItem", stepId: "route", key: "cases", itemId: added as string, field: "expression" }, "input.new", 9);
    expect(editTextList(plain, "route", "cases", { move: added as string, to: 0 })).toBe(true);
    expect(textListItemIds(plain, "route", "cases")).toEqual([added, "p0", "p1"]);
    expect((readCases(plain) as { key: string; expression: string }[])[0]).toEqual({ key: "new", expression: "input.new" });
    expect(editTextList(plain, "route", "cases", { remove: "p0" })).toBe(true);
    expect(textListItemIds(plain, "route", "cases")).toEqual([added, "p1"]);
    expect(editTextList(plain, "route", "cases", { remove: "gone" })).toBe(false);
    // Not a list field: no-op.
    expect(editTextList(plain, "check", "expression", { add: { key: "x" } })).toBe(false);
  });

  it("L11: a case that is not a map, or a key that is a Y.Map, is an INVALID_DEFINITION problem naming it; applying the read definition repairs it", () => {
    const doc = docFromDefinition(FULL);
    doc.transact(() => {
      casesOf(doc).get(0).set("key", new Y.Map());
      casesOf(doc).push([new Y.Text("stray") as unknown as Y.Map<unknown>]);
    });
    const { definition, problems } = definitionFromDoc(doc);
    const messages = problems.filter((p) => p.code === "INVALID_DEFINITION").map((p) => p.message);
    expect(messages).toContain('Step "route": config.cases.0.key must be a string or a Y.Text');
    expect(messages).toContain('Step "route": config.cases.2 must be a Y.Map');
    applyDefinitionToDoc(doc, definition);
    expect(casesOf(doc).toArray().every((item) => item instanceof Y.Map)).toBe(true);
    expect(definitionFromDoc(doc).problems.filter((p) => p.code === "INVALID_DEFINITION")).toEqual([]);
  });
});
