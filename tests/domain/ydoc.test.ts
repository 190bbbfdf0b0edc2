import * as Y from "yjs";
import { describe, expect, it } from "vitest";
import {
  applyDefinitionToDoc,
  createStepMap,
  definitionFromDoc,
  docFromDefinition,
  docMaps,
  encodeDocState,
  fragmentText,
  removeStep,
  WorkflowDefinition,
  type WorkflowDefinitionInput,
} from "@algorythmos/domain";
import { updatesDuring } from "../support/yjs.js";

function sample(): WorkflowDefinition {
  const input: WorkflowDefinitionInput = {
    name: "Lead follow-up",
    description: "Fetch, decide, mail",
    steps: [
      // Listed out of id order on purpose: the doc is keyed by id, and reads back sorted by id.
      { id: "trigger", type: "trigger.manual", name: "Start", position: { x: 10, y: 20 }, notes: "Run me\n\nwith { lead }" },
      {
        id: "fetch",
        type: "http.request",
        name: "Fetch lead",
        config: { method: "POST", url: "https://crm.example/leads", headers: { "x-a": "1" }, body: { nested: [1, { b: true }] } },
        position: { x: 200, y: 20.5 },
      },
      { id: "check", type: "condition", name: "Is hot?", config: { expression: "fetch.body.score > 50" }, position: { x: 400, y: 0 } },
      { id: "mail", type: "email.postmark", name: "Mail", config: { credentialId: "cred_1", from: "a@b.co", to: "c@d.co", subject: "Hi", textBody: "Hello" } },
      { id: "wait", type: "delay", name: "Wait", config: { durationMs: 60_000 }, position: { x: -5, y: 3 } },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "fetch" },
      { id: "e2", source: "fetch", target: "check" },
      { id: "e3", source: "check", target: "mail", label: "true" },
      { id: "e4", source: "check", target: "wait", label: "false" },
    ],
  };
  return WorkflowDefinition.parse(input);
}

const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const sorted = (definition: WorkflowDefinition) => ({ ...definition, steps: byId(definition.steps), edges: byId(definition.edges) });

/**
 * Applies `updates` to a replica of `before` and reports what changed there, as "target: keys" lines, where
 * target is "meta", "steps", "edges", "steps/<id>", "steps/<id>/config" and so on.
 */
function changesOnReplica(before: Uint8Array, updates: Uint8Array[]): string[] {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, before);
  const changes: string[] = [];
  const record = (root: string) => (events: Y.YEvent<any>[]) => {
    for (const event of events) {
      const target = [root, ...event.path.map(String)].join("/");
      const keys = [...event.changes.keys.keys()].sort();
      changes.push(keys.length ? `${target}: ${keys.join(",")}` : `${target}: (content)`);
    }
  };
  const { meta, steps, edges } = docMaps(replica);
  meta.observeDeep(record("meta"));
  steps.observeDeep(record("steps"));
  edges.observeDeep(record("edges"));
  for (const update of updates) Y.applyUpdate(replica, update);
  return changes.sort();
}

describe("Y.Doc layout (docs/ydoc-layout.md)", () => {
  it("has exactly the top-level keys meta, settings, steps and edges, all Y.Maps", () => {
    const doc = docFromDefinition(sample());
    expect([...doc.share.keys()].sort()).toEqual(["edges", "meta", "settings", "steps"]);
    for (const key of ["meta", "settings", "steps", "edges"]) expect(doc.share.get(key), key).toBeInstanceOf(Y.Map);
  });

  it("meta holds schemaVersion, name and description", () => {
    const { meta } = docMaps(docFromDefinition(sample()));
    expect(meta.toJSON()).toEqual({ schemaVersion: 1, name: "Lead follow-up", description: "Fetch, decide, mail" });
    // L2: name and description are co-typed text.
    expect(meta.get("name")).toBeInstanceOf(Y.Text);
    expect(meta.get("description")).toBeInstanceOf(Y.Text);
  });

  it("each step is a Y.Map {type, name, config: Y.Map, position: Y.Map{x,y}, notes: Y.XmlFragment} keyed by step id", () => {
    const { steps } = docMaps(docFromDefinition(sample()));
    expect([...steps.keys()].sort()).toEqual(["check", "fetch", "mail", "trigger", "wait"]);
    for (const [id, step] of steps.entries()) {
      expect(step, id).toBeInstanceOf(Y.Map);
      expect([...step.keys()].sort(), id).toEqual(["config", "name", "notes", "position", "type"]);
      expect(typeof step.get("type")).toBe("string");
      // L2: a name people type is a Y.Text (readers also accept a plain string, L1).
      expect(step.get("name")).toBeInstanceOf(Y.Text);
      expect(step.get("config")).toBeInstanceOf(Y.Map);
      const position = step.get("position") as Y.Map<unknown>;
      expect(position).toBeInstanceOf(Y.Map);
      expect([...position.keys()].sort()).toEqual(["x", "y"]);
      expect(step.get("notes")).toBeInstanceOf(Y.XmlFragment);
    }
    const fetch = steps.get("fetch")!;
    expect(fetch.get("type")).toBe("http.request");
    const url = (fetch.get("config") as Y.Map<unknown>).get("url");
    expect(url).toBeInstanceOf(Y.Text);
    expect(String(url)).toBe("https://crm.example/leads");
    expect((fetch.get("position") as Y.Map<unknown>).toJSON()).toEqual({ x: 200, y: 20.5 });
  });

  it("each edge is a Y.Map {source, target, label?} keyed by edge id", () => {
    const { edges } = docMaps(docFromDefinition(sample()));
    expect(edges.get("e1")!.toJSON()).toEqual({ source: "trigger", target: "fetch" });
    expect(edges.get("e3")!.toJSON()).toEqual({ source: "check", target: "mail", label: "true" });
  });

  it("notes are stored as Tiptap paragraphs, one per line", () => {
    const { steps } = docMaps(docFromDefinition(sample()));
    const notes = steps.get("trigger")!.get("notes") as Y.XmlFragment;
    expect(notes.toArray().map((node) => (node as Y.XmlElement).nodeName)).toEqual(["paragraph", "paragraph", "paragraph"]);
    expect(notes.toString()).toBe("<paragraph>Run me</paragraph><paragraph></paragraph><paragraph>with { lead }</paragraph>");
  });
});

describe("docFromDefinition → definitionFromDoc", () => {
  it("round-trips a definition (steps and edges come back sorted by id) with no problems", () => {
    const definition = sample();
    const { definition: read, problems } = definitionFromDoc(docFromDefinition(definition));
    expect(problems).toEqual([]);
    expect(read).toEqual(sorted(definition));
  });

  it("round-trips through the encoded state, as storage does", () => {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, encodeDocState(docFromDefinition(sample())));
    expect(definitionFromDoc(copy).definition).toEqual(sorted(sample()));
  });

  it("reads the same JSON from replicas that received the same edits in different orders", () => {
    const base = Y.encodeStateAsUpdate(docFromDefinition(sample()));
    const [first, second, left, right] = [0, 1, 2, 3].map(() => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, base);
      return doc;
    });
    const configOf = (doc: Y.Doc) => docMaps(doc).steps.get("wait")!.get("config") as Y.Map<unknown>;
    const a = updatesDuring(first!, () => configOf(first!).set("zeta", 1));
    const b = updatesDuring(second!, () => configOf(second!).set("alpha", 2));
    for (const update of [...a, ...b]) Y.applyUpdate(left!, update);
    for (const update of [...b, ...a]) Y.applyUpdate(right!, update);
    expect(JSON.stringify(definitionFromDoc(left!))).toBe(JSON.stringify(definitionFromDoc(right!)));
  });

  it("round-trips notes as plain text, blank and trailing lines included", () => {
    for (const notes of ["one line", "a\nb", "a\n\n\nb", "trailing\n", "\nleading", "  spaced  ", "ünïcødé ✓"]) {
      const definition = WorkflowDefinition.parse({ name: "n", steps: [{ id: "t", type: "trigger.manual", notes }] });
      expect(definitionFromDoc(docFromDefinition(definition)).definition.steps[0]!.notes, JSON.stringify(notes)).toBe(notes);
    }
  });

  it("omits notes when a step has none", () => {
    const { definition } = definitionFromDoc(docFromDefinition(sample()));
    expect(definition.steps.find((step) => step.id === "fetch")).not.toHaveProperty("notes");
  });

  it("reads a blank doc as an empty definition with problems, without throwing", () => {
    const { definition, problems } = definitionFromDoc(new Y.Doc());
    expect(definition).toMatchObject({ name: "", steps: [], edges: [] });
    expect(problems.map((p) => p.code).sort()).toEqual(["INVALID_DEFINITION", "MISSING_TRIGGER"]);
    expect(problems.find((p) => p.code === "INVALID_DEFINITION")!.message).toMatch(/Name is required/);
  });

  it("passes graph problems through from validateDefinition", () => {
    const definition = sample();
    definition.edges.push({ id: "e5", source: "wait", target: "ghost" });
    expect(definitionFromDoc(docFromDefinition(definition)).problems).toEqual([
      expect.objectContaining({ code: "DANGLING_EDGE", edgeId: "e5", stepId: "ghost" }),
    ]);
  });
});

describe("fragmentText (notes written by the studio's Tiptap editor)", () => {
  const text = (value: string) => new Y.XmlText(value);
  const element = (name: string, children: (Y.XmlElement | Y.XmlText)[]) => {
    const node = new Y.XmlElement(name);
    node.insert(0, children);
    return node;
  };

  function notesOf(...blocks: Y.XmlElement[]) {
    const doc = new Y.Doc();
    const fragment = doc.getXmlFragment("notes");
    fragment.insert(0, blocks);
    return fragmentText(fragment);
  }

  it("joins the text runs of a paragraph (formatting splits text into runs)", () => {
    const doc = new Y.Doc();
    const fragment = doc.getXmlFragment("notes");
    const paragraph = new Y.XmlElement("paragraph");
    fragment.insert(0, [paragraph]);
    const run = new Y.XmlText();
    paragraph.insert(0, [run]);
    run.insert(0, "plain ");
    run.insert(6, "bold", { bold: true });
    run.insert(10, " end");
    expect(fragmentText(fragment)).toBe("plain bold end");
  });

  it("keeps headings, lists, code blocks and quotes in document order, one line per text block", () => {
    const notes = notesOf(
      element("heading", [text("Title")]),
      element("paragraph", [text("Intro")]),
      element("bulletList", [
        element("listItem", [element("paragraph", [text("one")])]),
        element("listItem", [element("paragraph", [text("two")])]),
      ]),
      element("codeBlock", [text("const x = 1")]),
      element("blockquote", [element("paragraph", [text("quoted")])]),
      element("paragraph", [text("Outro")]),
    );
    expect(notes).toBe("Title\nIntro\none\ntwo\nconst x = 1\nquoted\nOutro");
  });

  it("an editor-written list survives definitionFromDoc → applyDefinitionToDoc unchanged", () => {
    const doc = docFromDefinition(sample());
    const notes = docMaps(doc).steps.get("wait")!.get("notes") as Y.XmlFragment;
    notes.insert(0, [
      element("paragraph", [text("Why wait:")]),
      element("orderedList", [element("listItem", [element("paragraph", [text("rate limit")])])]),
    ]);
    const { definition } = definitionFromDoc(doc);
    expect(definition.steps.find((s) => s.id === "wait")!.notes).toBe("Why wait:\nrate limit");
    // Re-applying what was read must not rewrite the rich text the editor holds.
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, definition))).toEqual([]);
    expect(notes.toArray().map((node) => (node as Y.XmlElement).nodeName)).toEqual(["paragraph", "orderedList"]);
  });
});

describe("applyDefinitionToDoc is a minimal diff", () => {
  it("applying the same definition again emits no update", () => {
    const definition = sample();
    const doc = docFromDefinition(definition);
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, definition))).toEqual([]);
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, WorkflowDefinition.parse(structuredClone(definition))))).toEqual([]);
  });

  it("applying the definition read from the doc emits no update (a fixed point)", () => {
    const doc = docFromDefinition(sample());
    const { definition } = definitionFromDoc(doc);
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, definition))).toEqual([]);
  });

  it("renaming one step emits one update that touches only that step's name", () => {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const definition = sample();
    definition.steps.find((s) => s.id === "check")!.name = "Is it hot?";
    const updates = updatesDuring(doc, () => applyDefinitionToDoc(doc, definition));
    expect(updates).toHaveLength(1);
    // L3: the name's Y.Text changes by one splice (its common prefix and suffix stay).
    expect(changesOnReplica(before, updates)).toEqual(["steps/check/name: (content)"]);
    // One new item (the inserted middle); the old middle is only deleted.
    expect(Y.decodeUpdate(updates[0]!).structs).toHaveLength(1);
  });

  it("moving a step writes only its position's changed coordinate", () => {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const definition = sample();
    definition.steps.find((s) => s.id === "wait")!.position.x = 999;
    expect(changesOnReplica(before, updatesDuring(doc, () => applyDefinitionToDoc(doc, definition)))).toEqual([
      "steps/wait/position: x",
    ]);
  });

  it("editing, adding and removing config fields touches only those keys", () => {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const definition = sample();
    const config = definition.steps.find((s) => s.id === "fetch")!.config;
    config.url = "https://crm.example/v2/leads";
    config.timeoutMs = 5000;
    delete config.body;
    expect(changesOnReplica(before, updatesDuring(doc, () => applyDefinitionToDoc(doc, definition)))).toEqual([
      "steps/fetch/config/url: (content)",
      "steps/fetch/config: body,timeoutMs",
    ]);
    expect(definitionFromDoc(doc).definition.steps.find((s) => s.id === "fetch")!.config).toEqual(config);
  });

  it("removes config keys that happen to share a name with Object.prototype members", () => {
    const definition = WorkflowDefinition.parse({
      name: "w",
      steps: [{ id: "t", type: "trigger.manual", config: { constructor: "x", toString: 1, keep: true } }],
    });
    const doc = docFromDefinition(definition);
    definition.steps[0]!.config = { keep: true };
    applyDefinitionToDoc(doc, definition);
    expect(definitionFromDoc(doc).definition.steps[0]!.config).toEqual({ keep: true });
  });

  it("adds and removes steps and edges, clears a removed label, and changes meta", () => {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const definition = sample();
    definition.name = "Renamed";
    definition.steps = definition.steps.filter((s) => s.id !== "mail");
    definition.edges = definition.edges.filter((e) => e.id !== "e3");
    definition.steps.push({ id: "log", type: "transform", name: "Log", config: { expression: "$" }, position: { x: 1, y: 1 } });
    definition.edges.push({ id: "e9", source: "check", target: "log", label: "true" });
    delete definition.edges.find((e) => e.id === "e4")!.label;
    const updates = updatesDuring(doc, () => applyDefinitionToDoc(doc, definition, "import"));
    expect(updates).toHaveLength(1);
    expect(changesOnReplica(before, updates)).toEqual(["edges/e4: label", "edges: e3,e9", "meta/name: (content)", "steps: log,mail"]);
    expect(definitionFromDoc(doc).definition).toEqual(sorted(definition));
  });

  it("tags the transaction with the given origin", () => {
    const doc = docFromDefinition(sample());
    const origins: unknown[] = [];
    doc.on("update", (_update: Uint8Array, origin: unknown) => origins.push(origin));
    const definition = sample();
    definition.description = "changed";
    const origin = { source: "restore" };
    applyDefinitionToDoc(doc, definition, origin);
    expect(origins).toEqual([origin]);
  });

  it("replaces changed notes and leaves unchanged notes alone", () => {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const definition = sample();
    definition.steps.find((s) => s.id === "wait")!.notes = "new note";
    const updates = updatesDuring(doc, () => applyDefinitionToDoc(doc, definition));
    expect(changesOnReplica(before, updates)).toEqual(["steps/wait/notes: (content)"]);
    expect(definitionFromDoc(doc).definition.steps.find((s) => s.id === "wait")!.notes).toBe("new note");
  });
});

describe("malformed Y data yields INVALID_DEFINITION problems, never an exception", () => {
  /** A doc holding the sample, with `mutate` applied to its maps directly, as a faulty client would. */
  function malformed(mutate: (maps: ReturnType<typeof docMaps>) => void) {
    const doc = docFromDefinition(sample());
    mutate(docMaps(doc));
    let result: ReturnType<typeof definitionFromDoc> | undefined;
    expect(() => (result = definitionFromDoc(doc))).not.toThrow();
    return { doc, ...result! };
  }
  const invalid = (problems: { code: string }[]) => problems.filter((p) => p.code === "INVALID_DEFINITION");

  it("a step map missing `type` names the step", () => {
    const { problems } = malformed(({ steps }) => steps.get("wait")!.delete("type"));
    expect(invalid(problems)).toEqual([expect.objectContaining({ code: "INVALID_DEFINITION", stepId: "wait" })]);
    expect(invalid(problems)[0]).toMatchObject({ message: expect.stringMatching(/wait.*type/) });
  });

  it("a `type` that is not a string names the step", () => {
    const { problems } = malformed(({ steps }) => steps.get("wait")!.set("type", 42));
    expect(invalid(problems).length).toBeGreaterThan(0);
    for (const problem of invalid(problems)) expect(problem).toMatchObject({ stepId: "wait", message: expect.stringMatching(/type/) });
  });

  it("a step that is not a Y.Map names the step; the other steps are still read", () => {
    const { problems, definition } = malformed(({ steps }) => (steps as Y.Map<unknown>).set("wait", "not a map"));
    expect(invalid(problems)).toEqual([{ code: "INVALID_DEFINITION", stepId: "wait", message: 'Step "wait" is malformed' }]);
    expect(definition.steps.map((s) => s.id)).toEqual(["check", "fetch", "mail", "trigger"]);
    // The edge into the unreadable step now dangles.
    expect(problems).toContainEqual(expect.objectContaining({ code: "DANGLING_EDGE", edgeId: "e4" }));
  });

  it("an edge that is not a Y.Map names the edge", () => {
    const { problems } = malformed(({ edges }) => (edges as Y.Map<unknown>).set("e2", 7));
    expect(invalid(problems)).toEqual([{ code: "INVALID_DEFINITION", edgeId: "e2", message: 'Edge "e2" is malformed' }]);
  });

  it.each([
    ["name is a number", (step: Y.Map<unknown>) => step.set("name", 5), /name/],
    ["config is a plain object instead of a Y.Map", (step: Y.Map<unknown>) => step.set("config", { durationMs: 5 }), /config/],
    ["position is an array", (step: Y.Map<unknown>) => step.set("position", [1, 2]), /position/],
    ["position.x is a string", (step: Y.Map<unknown>) => (step.get("position") as Y.Map<unknown>).set("x", "12"), /position/],
    ["notes is a string", (step: Y.Map<unknown>) => step.set("notes", "hello"), /notes/],
  ])("a step whose %s names the step and the field", (_label, mutate, field) => {
    const { problems } = malformed(({ steps }) => mutate(steps.get("wait")!));
    expect(invalid(problems).length).toBeGreaterThan(0);
    for (const problem of invalid(problems)) expect(problem).toMatchObject({ stepId: "wait", message: expect.stringMatching(field) });
  });

  it.each([
    ["source is missing", (edge: Y.Map<unknown>) => edge.delete("source"), /source/],
    ["target is a number", (edge: Y.Map<unknown>) => edge.set("target", 3), /target/],
    ["label is not a string", (edge: Y.Map<unknown>) => edge.set("label", 7), /label/],
  ])("an edge whose %s names the edge and the field", (_label, mutate, field) => {
    const { problems } = malformed(({ edges }) => mutate(edges.get("e3")!));
    expect(invalid(problems).length).toBeGreaterThan(0);
    for (const problem of invalid(problems)) expect(problem).toMatchObject({ edgeId: "e3", message: expect.stringMatching(field) });
  });

  it("a meta name that is not a string is reported", () => {
    const { problems } = malformed(({ meta }) => meta.set("name", { not: "text" }));
    expect(invalid(problems)).toEqual([expect.objectContaining({ path: ["name"], message: expect.stringMatching(/name/i) })]);
  });

  it("applying the definition read from a malformed doc repairs the layout", () => {
    const { doc, definition } = malformed(({ steps }) => {
      steps.get("wait")!.set("config", { durationMs: 5 });
      steps.get("wait")!.set("position", "here");
      steps.get("wait")!.set("notes", 1);
    });
    applyDefinitionToDoc(doc, definition);
    const after = definitionFromDoc(doc);
    expect(after.problems).toEqual([]);
    const wait = docMaps(doc).steps.get("wait")!;
    expect(wait.get("config")).toBeInstanceOf(Y.Map);
    expect(wait.get("position")).toBeInstanceOf(Y.Map);
    expect(wait.get("notes")).toBeInstanceOf(Y.XmlFragment);
  });
});

describe("removeStep", () => {
  it("removes the step and every edge into or out of it, in one update, leaving the rest", () => {
    const doc = docFromDefinition(sample());
    const updates = updatesDuring(doc, () => removeStep(doc, "check"));
    expect(updates).toHaveLength(1);
    const { definition, problems } = definitionFromDoc(doc);
    expect(definition.steps.map((s) => s.id)).toEqual(["fetch", "mail", "trigger", "wait"]);
    expect(definition.edges.map((e) => e.id)).toEqual(["e1"]);
    expect(problems).toEqual([]);
  });

  it("is a no-op for an unknown step", () => {
    const doc = docFromDefinition(sample());
    expect(updatesDuring(doc, () => removeStep(doc, "ghost"))).toEqual([]);
  });
});

describe("createStepMap", () => {
  it("builds a step map that reads back as the step", () => {
    const doc = docFromDefinition(sample());
    const step = { id: "extra", type: "delay", name: "Extra", config: { durationMs: 1 }, position: { x: 3, y: 4 }, notes: "n" };
    docMaps(doc).steps.set(step.id, createStepMap(step));
    expect(definitionFromDoc(doc).definition.steps.find((s) => s.id === "extra")).toEqual(step);
  });
});
