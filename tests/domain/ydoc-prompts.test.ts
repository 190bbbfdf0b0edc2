/**
 * openai.chat prompts in the Y.Doc (docs/ydoc-layout.md, "Collaborative prompts"): `config.messages` is either a
 * plain JSON array or a Y.Array of Y.Map { role, content: Y.XmlFragment }; both read as the same definition.
 */
import * as Y from "yjs";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../support/random.js";
import {
  applyDefinitionToDoc,
  createStepMap,
  definitionFromDoc,
  docFromDefinition,
  docMaps,
  editPromptMessages,
  encodeDocState,
  insertPromptMessage,
  promptMessagesArray,
  removePromptMessage,
  updatePromptMessage,
  WorkflowDefinition,
} from "@algorythmos/domain";
import { updatesDuring } from "../support/yjs.js";

const MESSAGES = [
  { role: "system", content: "You are terse.\n\nAnswer in English." },
  { role: "user", content: "Summarise {{ input.text }}" },
  { role: "assistant", content: "" },
];

function sample(messages: unknown = MESSAGES): WorkflowDefinition {
  return WorkflowDefinition.parse({
    name: "Prompts",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start" },
      { id: "ask", type: "openai.chat", name: "Ask", config: { credentialId: "cred_1", model: "gpt-4o-mini", messages: structuredClone(messages), jsonMode: false } },
      // Another step type keeps `messages` as plain JSON, whatever it holds.
      { id: "shape", type: "transform", name: "Shape", config: { expression: "$", messages: [{ role: "user", content: "x" }] } },
    ],
    edges: [
      { id: "e1", source: "start", target: "ask" },
      { id: "e2", source: "ask", target: "shape" },
    ],
  });
}

const stepOf = (doc: Y.Doc, id: string) => docMaps(doc).steps.get(id)!;
const configOf = (doc: Y.Doc, id: string) => stepOf(doc, id).get("config") as Y.Map<unknown>;
const messagesOf = (definition: WorkflowDefinition, id = "ask") => definition.steps.find((s) => s.id === id)!.config.messages;

/** A doc whose openai.chat step holds `messages` in the plain JSON form (as docs written before the Y.Array form do). */
function plainDoc(messages: unknown = MESSAGES): Y.Doc {
  const doc = docFromDefinition(sample());
  configOf(doc, "ask").set("messages", structuredClone(messages));
  return doc;
}

/** What `updates` change on a replica of `before`, as "path: keys" or "path: (content)" lines. */
function changesOnReplica(before: Uint8Array, updates: Uint8Array[]): string[] {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, before);
  const changes: string[] = [];
  docMaps(replica).steps.observeDeep((events) => {
    for (const event of events) {
      const target = ["steps", ...event.path.map(String)].join("/");
      const keys = [...event.changes.keys.keys()].sort();
      changes.push(keys.length ? `${target}: ${keys.join(",")}` : `${target}: (content)`);
    }
  });
  for (const update of updates) Y.applyUpdate(replica, update);
  return changes.sort();
}

describe("the Y.Array form of openai.chat messages", () => {
  it("createStepMap writes messages as a Y.Array of Y.Map { role, content: Y.XmlFragment } of paragraphs", () => {
    const doc = docFromDefinition(sample());
    const messages = configOf(doc, "ask").get("messages");
    expect(messages).toBeInstanceOf(Y.Array);
    const items = (messages as Y.Array<Y.Map<unknown>>).toArray();
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item).toBeInstanceOf(Y.Map);
      expect([...item.keys()].sort()).toEqual(["content", "role"]);
      expect(item.get("content")).toBeInstanceOf(Y.XmlFragment);
    }
    expect(items.map((item) => item.get("role"))).toEqual(["system", "user", "assistant"]);
    expect((items[0]!.get("content") as Y.XmlFragment).toString()).toBe(
      "<paragraph>You are terse.</paragraph><paragraph></paragraph><paragraph>Answer in English.</paragraph>",
    );
    expect((items[2]!.get("content") as Y.XmlFragment).length).toBe(0);
    // Other step types and other keys are unchanged plain values.
    expect(configOf(doc, "shape").get("messages")).toEqual([{ role: "user", content: "x" }]);
    expect(String(configOf(doc, "ask").get("model"))).toBe("gpt-4o-mini");
  });

  it("round-trips messages (blank lines, empty content, unicode) with no problems", () => {
    for (const content of ["one", "a\nb", "a\n\n\nb", "trailing\n", "", "ünïcødé {{ x }} ✓"]) {
      const definition = sample([{ role: "user", content }]);
      const read = definitionFromDoc(docFromDefinition(definition));
      expect(read.problems, JSON.stringify(content)).toEqual([]);
      expect(messagesOf(read.definition), JSON.stringify(content)).toEqual([{ role: "user", content }]);
    }
    const copy = new Y.Doc();
    Y.applyUpdate(copy, encodeDocState(docFromDefinition(sample())));
    expect(messagesOf(definitionFromDoc(copy).definition)).toEqual(MESSAGES);
  });

  it("the plain JSON form and the Y.Array form read as the same definition", () => {
    const fromY = definitionFromDoc(docFromDefinition(sample()));
    const fromPlain = definitionFromDoc(plainDoc());
    expect(configOf(plainDoc(), "ask").get("messages")).not.toBeInstanceOf(Y.Array);
    expect(JSON.stringify(fromPlain)).toBe(JSON.stringify(fromY));
    expect(fromY.problems).toEqual([]);
  });

  it("text the editor writes with formatting runs reads as plain text", () => {
    const doc = docFromDefinition(sample());
    const content = (promptMessagesArray(doc, "ask")!.get(1)!.get("content") as Y.XmlFragment).get(0) as Y.XmlElement;
    const run = content.get(0) as Y.XmlText;
    run.insert(run.length, " now", { bold: true });
    expect(messagesOf(definitionFromDoc(doc).definition)).toEqual([MESSAGES[0], { role: "user", content: "Summarise {{ input.text }} now" }, MESSAGES[2]]);
  });

  it("a message list the Y.Array form cannot hold stays plain JSON and round-trips", () => {
    for (const messages of ["not a list", [{ role: "user" }], [{ role: "user", content: "x", name: "bob" }], [{ role: 1, content: "x" }]]) {
      const definition = sample(messages);
      const doc = docFromDefinition(definition);
      expect(configOf(doc, "ask").get("messages"), JSON.stringify(messages)).toEqual(messages);
      expect(messagesOf(definitionFromDoc(doc).definition)).toEqual(messages);
    }
  });
});

describe("applyDefinitionToDoc writes messages as a minimal diff", () => {
  function edit(change: (messages: { role: string; content: string }[]) => void) {
    const doc = docFromDefinition(sample());
    const before = encodeDocState(doc);
    const items = promptMessagesArray(doc, "ask")!.toArray();
    const definition = sample();
    change(messagesOf(definition) as { role: string; content: string }[]);
    const updates = updatesDuring(doc, () => applyDefinitionToDoc(doc, definition));
    expect(messagesOf(definitionFromDoc(doc).definition)).toEqual(messagesOf(definition));
    return { doc, updates, changes: changesOnReplica(before, updates), items, after: promptMessagesArray(doc, "ask")!.toArray() };
  }

  it("applying the same definition (or the one read back) emits no update", () => {
    const doc = docFromDefinition(sample());
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, sample()))).toEqual([]);
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, definitionFromDoc(doc).definition))).toEqual([]);
  });

  it("changed text rewrites only that message's fragment", () => {
    const { changes, items, after } = edit((messages) => (messages[1]!.content = "Summarise briefly"));
    expect(changes).toEqual(["steps/ask/config/messages/1/content: (content)"]);
    expect(after.every((item, i) => item === items[i])).toBe(true);
  });

  it("a role change sets only that message's role key", () => {
    const { changes } = edit((messages) => (messages[2]!.role = "user"));
    expect(changes).toEqual(["steps/ask/config/messages/2: role"]);
  });

  it("an added message inserts one item and leaves the others alone", () => {
    const { changes, items, after } = edit((messages) => messages.splice(1, 0, { role: "user", content: "Context: {{ input.ctx }}" }));
    expect(changes).toEqual(["steps/ask/config/messages: (content)"]);
    expect(after).toHaveLength(4);
    expect([after[0], after[2], after[3]]).toEqual(items);
    expect(after[0] === items[0] && after[2] === items[1] && after[3] === items[2]).toBe(true);
  });

  it("a removed message deletes one item and leaves the others alone", () => {
    const { changes, items, after } = edit((messages) => messages.splice(0, 1));
    expect(changes).toEqual(["steps/ask/config/messages: (content)"]);
    expect(after[0] === items[1] && after[1] === items[2]).toBe(true);
  });

  it("an equal plain JSON list is left alone; a changed one is written in the Y.Array form", () => {
    const doc = plainDoc();
    expect(updatesDuring(doc, () => applyDefinitionToDoc(doc, sample()))).toEqual([]);
    const definition = sample([{ role: "user", content: "new" }]);
    applyDefinitionToDoc(doc, definition);
    expect(configOf(doc, "ask").get("messages")).toBeInstanceOf(Y.Array);
    expect(definitionFromDoc(doc)).toEqual(definitionFromDoc(docFromDefinition(definition)));
  });

  it("a list that becomes unrepresentable is written as plain JSON, and back", () => {
    const doc = docFromDefinition(sample());
    applyDefinitionToDoc(doc, sample([{ role: "user" }]));
    expect(configOf(doc, "ask").get("messages")).toEqual([{ role: "user" }]);
    applyDefinitionToDoc(doc, sample());
    expect(configOf(doc, "ask").get("messages")).toBeInstanceOf(Y.Array);
    expect(messagesOf(definitionFromDoc(doc).definition)).toEqual(MESSAGES);
  });

  it("changing the step's type away from openai.chat writes messages as plain JSON", () => {
    const doc = docFromDefinition(sample());
    const definition = sample();
    definition.steps.find((s) => s.id === "ask")!.type = "transform";
    applyDefinitionToDoc(doc, definition);
    expect(configOf(doc, "ask").get("messages")).toEqual(MESSAGES);
  });
});

describe("studio edits of prompt messages", () => {
  it("the first edit of a plain JSON list converts it to the Y.Array form in the same single update", () => {
    const doc = plainDoc();
    const updates = updatesDuring(doc, () => updatePromptMessage(doc, "ask", 1, { content: "Summarise {{ input.text }} in one line" }));
    expect(updates).toHaveLength(1);
    expect(promptMessagesArray(doc, "ask")).toBeInstanceOf(Y.Array);
    const { definition, problems } = definitionFromDoc(doc);
    expect(problems).toEqual([]);
    expect(messagesOf(definition)).toEqual([MESSAGES[0], { role: "user", content: "Summarise {{ input.text }} in one line" }, MESSAGES[2]]);
  });

  it("converts a step with no messages yet when the first message is added", () => {
    const doc = plainDoc();
    configOf(doc, "ask").delete("messages");
    insertPromptMessage(doc, "ask", { role: "system", content: "Be kind" });
    expect(messagesOf(definitionFromDoc(doc).definition)).toEqual([{ role: "system", content: "Be kind" }]);
  });

  it("sets a role, inserts and removes messages, each as one update tagged with the origin", () => {
    const doc = docFromDefinition(sample());
    const origins: unknown[] = [];
    doc.on("update", (_u: Uint8Array, origin: unknown) => origins.push(origin));
    updatePromptMessage(doc, "ask", 2, { role: "user" }, "me");
    insertPromptMessage(doc, "ask", { role: "assistant", content: "ok" }, 1, "me");
    removePromptMessage(doc, "ask", 0, "me");
    expect(origins).toEqual(["me", "me", "me"]);
    expect(messagesOf(definitionFromDoc(doc).definition)).toEqual([
      { role: "assistant", content: "ok" },
      MESSAGES[1],
      { role: "user", content: "" },
    ]);
  });

  it("does nothing for a step that is not openai.chat, or an index out of range", () => {
    const doc = docFromDefinition(sample());
    expect(updatesDuring(doc, () => editPromptMessages(doc, "shape", (m) => m.delete(0, 1)))).toEqual([]);
    expect(updatesDuring(doc, () => removePromptMessage(doc, "ask", 7))).toEqual([]);
    expect(updatesDuring(doc, () => updatePromptMessage(doc, "ask", 7, { role: "user" }))).toEqual([]);
  });

  it("concurrent edits of different messages (text and role) both win", () => {
    const base = encodeDocState(docFromDefinition(sample()));
    const [a, b] = [new Y.Doc(), new Y.Doc()];
    Y.applyUpdate(a, base);
    Y.applyUpdate(b, base);
    const fromA = updatesDuring(a, () => updatePromptMessage(a, "ask", 0, { content: "You are verbose." }));
    const fromB = updatesDuring(b, () => {
      updatePromptMessage(b, "ask", 1, { role: "assistant" });
      insertPromptMessage(b, "ask", { role: "user", content: "And?" });
    });
    for (const update of fromB) Y.applyUpdate(a, update);
    for (const update of fromA) Y.applyUpdate(b, update);
    const expected = [
      { role: "system", content: "You are verbose." },
      { role: "assistant", content: MESSAGES[1]!.content },
      MESSAGES[2],
      { role: "user", content: "And?" },
    ];
    expect(messagesOf(definitionFromDoc(a).definition)).toEqual(expected);
    expect(JSON.stringify(definitionFromDoc(b))).toBe(JSON.stringify(definitionFromDoc(a)));
  });

  it("two replicas converting the same plain list concurrently converge (one conversion wins)", () => {
    const base = encodeDocState(plainDoc());
    const [a, b] = [new Y.Doc(), new Y.Doc()];
    Y.applyUpdate(a, base);
    Y.applyUpdate(b, base);
    const fromA = updatesDuring(a, () => updatePromptMessage(a, "ask", 0, { content: "A wrote this" }));
    const fromB = updatesDuring(b, () => updatePromptMessage(b, "ask", 1, { content: "B wrote this" }));
    for (const update of fromB) Y.applyUpdate(a, update);
    for (const update of fromA) Y.applyUpdate(b, update);
    expect(JSON.stringify(definitionFromDoc(a))).toBe(JSON.stringify(definitionFromDoc(b)));
    expect(definitionFromDoc(a).problems).toEqual([]);
  });
});

describe("malformed prompt messages yield INVALID_DEFINITION problems naming the step, never an exception", () => {
  function malformed(mutate: (config: Y.Map<unknown>, messages: Y.Array<unknown>) => void) {
    const doc = docFromDefinition(sample());
    const config = configOf(doc, "ask");
    mutate(config, config.get("messages") as Y.Array<unknown>);
    let result: ReturnType<typeof definitionFromDoc> | undefined;
    expect(() => (result = definitionFromDoc(doc))).not.toThrow();
    return { doc, ...result!, invalid: result!.problems.filter((p) => p.code === "INVALID_DEFINITION") };
  }

  it.each([
    ["an item is not a Y.Map", (_c: Y.Map<unknown>, m: Y.Array<unknown>) => m.insert(1, ["just text"]), /messages\.1 must be a Y\.Map/],
    ["a role is not a string", (_c: Y.Map<unknown>, m: Y.Array<unknown>) => (m.get(0) as Y.Map<unknown>).set("role", 3), /messages\.0\.role must be a string/],
    ["a role is missing", (_c: Y.Map<unknown>, m: Y.Array<unknown>) => (m.get(2) as Y.Map<unknown>).delete("role"), /messages\.2\.role must be a string/],
    ["a content is a string", (_c: Y.Map<unknown>, m: Y.Array<unknown>) => (m.get(1) as Y.Map<unknown>).set("content", "hi"), /messages\.1\.content must be a Y\.XmlFragment/],
    ["a content is missing", (_c: Y.Map<unknown>, m: Y.Array<unknown>) => (m.get(1) as Y.Map<unknown>).delete("content"), /messages\.1\.content/],
    ["messages is a Y.Map", (c: Y.Map<unknown>) => c.set("messages", new Y.Map()), /config\.messages must be a JSON array or a Y\.Array/],
    ["messages is a Y.Text", (c: Y.Map<unknown>) => c.set("messages", new Y.Text("hi")), /config\.messages/],
  ])("%s", (_label, mutate, message) => {
    const { invalid } = malformed(mutate);
    expect(invalid.length).toBeGreaterThan(0);
    for (const problem of invalid) expect(problem).toMatchObject({ stepId: "ask", message: expect.stringMatching(/^Step "ask": /) });
    expect(invalid.map((p) => p.message).join("\n")).toMatch(message);
  });

  it("reads what it can: a string content is kept, a non-map item is skipped", () => {
    const { definition } = malformed((_c, m) => {
      (m.get(1) as Y.Map<unknown>).set("content", "kept");
      m.insert(0, [42]);
    });
    expect(messagesOf(definition)).toEqual([MESSAGES[0], { role: "user", content: "kept" }, MESSAGES[2]]);
  });

  it("applying the definition read from a malformed list repairs it", () => {
    const { doc, definition } = malformed((_c, m) => {
      m.insert(1, ["junk"]);
      (m.get(0) as Y.Map<unknown>).set("content", "plain");
    });
    applyDefinitionToDoc(doc, definition);
    const after = definitionFromDoc(doc);
    expect(after.problems).toEqual([]);
    expect(messagesOf(after.definition)).toEqual([{ role: "system", content: "plain" }, MESSAGES[1], MESSAGES[2]]);
    for (const item of promptMessagesArray(doc, "ask")!.toArray()) expect(item.get("content")).toBeInstanceOf(Y.XmlFragment);
  });

  it("a step created by createStepMap with malformed messages still reads without throwing", () => {
    const doc = docFromDefinition(sample());
    docMaps(doc).steps.set("ask2", createStepMap({ id: "ask2", type: "openai.chat", name: "", config: { messages: [null] }, position: { x: 0, y: 0 } }));
    const { problems } = definitionFromDoc(doc);
    expect(problems).toContainEqual(expect.objectContaining({ code: "INVALID_CONFIG", stepId: "ask2" }));
  });
});

describe("seeded concurrent prompt editing converges", () => {
  /** 3 replicas starting from the plain JSON form; studio edits and imports; random delivery order. */
  function runSeed(seed: number): string | null {
    const rng = mulberry32(seed);
    const int = (n: number) => Math.floor(rng() * n);
    const base = encodeDocState(plainDoc());
    const docs = [1, 2, 3].map((clientID) => {
      const doc = new Y.Doc();
      doc.clientID = clientID;
      Y.applyUpdate(doc, base, "remote");
      return doc;
    });
    const inboxes: Uint8Array[][] = docs.map(() => []);
    docs.forEach((doc, i) =>
      doc.on("update", (update: Uint8Array, origin: unknown) => {
        if (origin !== "remote") inboxes.forEach((inbox, j) => j !== i && inbox.push(update));
      }),
    );
    for (let round = 0; round < 80; round++) {
      const i = int(docs.length);
      const doc = docs[i]!;
      const length = promptMessagesArray(doc, "ask")?.length ?? MESSAGES.length;
      switch (int(6)) {
        case 0:
          updatePromptMessage(doc, "ask", int(length + 1), { content: `text ${i}.${round}${rng() < 0.3 ? "\nsecond line" : ""}` });
          break;
        case 1:
          updatePromptMessage(doc, "ask", int(length + 1), { role: ["system", "user", "assistant"][int(3)]! });
          break;
        case 2:
          insertPromptMessage(doc, "ask", { role: "user", content: `new ${i}.${round}` }, int(length + 1));
          break;
        case 3:
          removePromptMessage(doc, "ask", int(length + 1));
          break;
        case 4: {
          const { definition } = definitionFromDoc(doc);
          const messages = messagesOf(definition) as { role: string; content: string }[];
          if (Array.isArray(messages) && messages.length) messages[int(messages.length)]!.content = `import ${i}.${round}`;
          applyDefinitionToDoc(doc, definition, "import");
          break;
        }
        default: {
          const inbox = inboxes[i]!.splice(0);
          for (const update of inbox.sort(() => rng() - 0.5)) Y.applyUpdate(doc, update, "remote");
        }
      }
      definitionFromDoc(doc);
    }
    for (let pass = 0; pass < 3; pass++) docs.forEach((doc, i) => inboxes[i]!.splice(0).forEach((u) => Y.applyUpdate(doc, u, "remote")));
    const reads = docs.map((doc) => JSON.stringify(definitionFromDoc(doc)));
    if (reads.some((read) => read !== reads[0])) return `seed ${seed}: replicas differ`;
    let updates = 0;
    docs[0]!.on("update", () => updates++);
    applyDefinitionToDoc(docs[0]!, definitionFromDoc(docs[0]!).definition);
    return updates ? `seed ${seed}: re-applying the converged definition emitted ${updates} update(s)` : null;
  }

  it("3 replicas editing one prompt converge and the result is a fixed point (20 seeds)", () => {
    const failures = Array.from({ length: 20 }, (_, k) => runSeed(0xc0ffee + k * 7919)).filter(Boolean);
    expect(failures).toEqual([]);
  });
});
