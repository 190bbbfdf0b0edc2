/**
 * Readable step keys (docs/ydoc-layout.md L12): derived from names, unique per workflow, kept in the Y.Doc as a
 * plain string, and renamed together with every reference to the step in one transaction.
 */
import {
  applyDefinitionToDoc,
  definitionFromDoc,
  docFromDefinition,
  docMaps,
  editPromptMessages,
  expressionSyntaxError,
  isExpressionField,
  renameStepKey,
  rewriteStepReferences,
  stepKeyBase,
  stepKeyError,
  uniqueStepKey,
  WorkflowDefinition,
} from "@algorythmos/domain";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";

const definition = (steps: object[]) =>
  WorkflowDefinition.parse({ name: "Keys", steps: [{ id: "trigger", type: "trigger.manual" }, ...steps], edges: [] });

describe("L12 step keys", () => {
  it("L12: a key is derived from the name, made unique by a suffix, and must match the pattern", () => {
    expect(stepKeyBase("Fetch user")).toBe("fetch_user");
    expect(stepKeyBase("  Résumé — v2! ")).toBe("resume_v2");
    expect(stepKeyBase("2nd call")).toBe("step_2nd_call");
    expect(stepKeyBase("")).toBe("step");
    expect(uniqueStepKey("fetch_user", new Set(["fetch_user", "fetch_user_2"]))).toBe("fetch_user_3");
    expect(uniqueStepKey("x".repeat(64), new Set(["x".repeat(64)]))).toBe(`${"x".repeat(62)}_2`);
    const steps = [{ id: "a", key: "fetch", name: "Fetch" }, { id: "b", name: "Other" }];
    expect(stepKeyError("Fetch-User", "b", steps)).toMatch(/lower-case letter/);
    expect(stepKeyError("fetch", "b", steps)).toBe('Another step ("Fetch") is already called fetch');
    expect(stepKeyError("a", "b", steps)).toBe('Another step ("Fetch") is already called a');
    expect(stepKeyError("fetch", "a", steps)).toBeNull();
  });

  it("L12: the key is a plain string in the step map; read back into the definition; a step without one reads as before", () => {
    const doc = docFromDefinition(definition([{ id: "s1", key: "fetch_user", type: "transform", config: { expression: "1" } }, { id: "s2", type: "transform", config: { expression: "2" } }]));
    const step = docMaps(doc).steps.get("s1")!;
    expect(step.get("key")).toBe("fetch_user");
    const read = definitionFromDoc(doc);
    expect(read.definition.steps.find((s) => s.id === "s1")!.key).toBe("fetch_user");
    expect("key" in read.definition.steps.find((s) => s.id === "s2")!).toBe(false);
    expect(read.problems).toEqual([]);
    // Applying the definition read back is a fixed point (no update).
    let updates = 0;
    doc.on("update", () => updates++);
    applyDefinitionToDoc(doc, read.definition);
    expect(updates).toBe(0);
  });

  it("L12: two steps with one key, or a key that is another step's id, are DUPLICATE_STEP_KEY problems; a malformed key is named", () => {
    const doc = docFromDefinition(definition([{ id: "s1", key: "fetch", type: "transform", config: { expression: "1" } }, { id: "s2", key: "fetch", type: "transform", config: { expression: "2" } }]));
    const codes = definitionFromDoc(doc).problems.map((p) => [p.code, p.stepId]);
    expect(codes).toEqual([["DUPLICATE_STEP_KEY", "s1"], ["DUPLICATE_STEP_KEY", "s2"]]);
    docMaps(doc).steps.get("s2")!.set("key", "s1");
    expect(definitionFromDoc(doc).problems.map((p) => p.message)).toContain('Step "s2": the key s1 is also the id of step "s1"; give each step its own key');
    docMaps(doc).steps.get("s2")!.set("key", 42);
    expect(definitionFromDoc(doc).problems.map((p) => p.message)).toContain('Step "s2": key must be a string');
    docMaps(doc).steps.get("s2")!.set("key", "Bad Key");
    expect(definitionFromDoc(doc).problems.some((p) => p.code === "INVALID_DEFINITION" && p.stepId === "s2" && /key/.test(p.message))).toBe(true);
  });

  it("L12: references are rewritten in dotted, bracketed and backticked forms, not in look-alikes", () => {
    const text = `steps.fetch.output & steps["fetch"].output & steps['fetch'] & steps.\`fetch\` & steps.fetcher & input.steps.fetch & $steps.fetch`;
    expect(rewriteStepReferences(text, "fetch", "load")).toBe(
      "steps.load.output & steps.load.output & steps.load & steps.load & steps.fetcher & input.steps.fetch & $steps.fetch",
    );
    expect(rewriteStepReferences("{{ steps.fetch.output.body }}", "fetch", "load")).toBe("{{ steps.load.output.body }}");
  });

  it("L12: renameStepKey sets the key and rewrites every reference (by old key and by id) in one transaction, others' text kept", () => {
    const doc = docFromDefinition(
      definition([
        { id: "step_0insp4brb9up", type: "http.request", name: "Fetch user", config: { url: "https://x.test/{{ input.id }}", method: "GET" } },
        { id: "t1", type: "transform", config: { expression: "steps.step_0insp4brb9up.output.body.name & ' / ' & $string(steps.other.output)" } },
        { id: "c1", type: "switch", config: { cases: [{ key: "ok", expression: "steps.step_0insp4brb9up.output.status = 200" }] } },
        { id: "h1", type: "http.request", config: { url: "https://y.test/{{ steps.step_0insp4brb9up.output.body.id }}", method: "POST", headers: { "x-user": "{{ steps.step_0insp4brb9up.output.body.id }}" }, body: { user: "{{ steps.step_0insp4brb9up.output.body }}" } } },
        { id: "ai", type: "openai.chat", config: { credentialId: "c", model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello {{ steps.step_0insp4brb9up.output.body.name }}" }] } },
      ]),
    );
    editPromptMessages(doc, "ai", () => {}); // the collaborative (Y.Array / Y.XmlFragment) form
    let transactions = 0;
    doc.on("afterTransaction", () => transactions++);
    expect(renameStepKey(doc, "step_0insp4brb9up", "fetch_user")).toBe(true);
    expect(transactions).toBe(1);
    const steps = Object.fromEntries(definitionFromDoc(doc).definition.steps.map((s) => [s.id, s]));
    expect(steps.step_0insp4brb9up!.key).toBe("fetch_user");
    expect(steps.t1!.config.expression).toBe("steps.fetch_user.output.body.name & ' / ' & $string(steps.other.output)");
    expect(steps.c1!.config.cases).toEqual([{ key: "ok", expression: "steps.fetch_user.output.status = 200" }]);
    expect(steps.h1!.config).toMatchObject({ url: "https://y.test/{{ steps.fetch_user.output.body.id }}", headers: { "x-user": "{{ steps.fetch_user.output.body.id }}" }, body: { user: "{{ steps.fetch_user.output.body }}" } });
    expect(steps.ai!.config.messages).toEqual([{ role: "user", content: "Hello {{ steps.fetch_user.output.body.name }}" }]);

    // Renamed again: the old key's references follow; a concurrent edit elsewhere in the same Y.Text survives.
    const remote = new Y.Doc();
    Y.applyUpdate(remote, Y.encodeStateAsUpdate(doc));
    const remoteText = (docMaps(remote).steps.get("t1")!.get("config") as Y.Map<unknown>).get("expression") as Y.Text;
    remoteText.insert(remoteText.length, " & 'x'");
    expect(renameStepKey(doc, "step_0insp4brb9up", "user")).toBe(true);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote));
    Y.applyUpdate(remote, Y.encodeStateAsUpdate(doc));
    for (const replica of [doc, remote]) {
      const t1 = definitionFromDoc(replica).definition.steps.find((s) => s.id === "t1")!;
      expect(t1.config.expression).toBe("steps.user.output.body.name & ' / ' & $string(steps.other.output) & 'x'");
    }
  });

  it("L12: renameStepKey refuses a malformed key or one another step is called by, changing nothing", () => {
    const doc = docFromDefinition(definition([{ id: "a", key: "fetch", type: "transform", config: { expression: "1" } }, { id: "b", type: "transform", config: { expression: "steps.a.output" } }]));
    const before = Y.encodeStateVector(doc);
    expect(renameStepKey(doc, "b", "fetch")).toBe(false);
    expect(renameStepKey(doc, "b", "trigger")).toBe(false);
    expect(renameStepKey(doc, "b", "Not A Key")).toBe(false);
    expect(renameStepKey(doc, "missing", "fine")).toBe(false);
    expect(Y.encodeStateVector(doc)).toEqual(before);
  });
});

describe("expression syntax (the parser the worker uses)", () => {
  it("reports JSONata's message and position; a valid expression is null", () => {
    expect(expressionSyntaxError("steps.fetch.output.body[0].name")).toBeNull();
    const error = expressionSyntaxError("steps.fetch.output.(");
    expect(error).toMatchObject({ code: expect.stringMatching(/^S0/), position: expect.any(Number) });
    expect(error!.message.length).toBeGreaterThan(3);
  });

  it("the registry says which fields are expressions and which are templates", () => {
    expect(isExpressionField("transform", "expression")).toBe(true);
    expect(isExpressionField("condition", "expression")).toBe(true);
    expect(isExpressionField("loop", "items")).toBe(true);
    expect(isExpressionField("workflow.call", "input")).toBe(true);
    expect(isExpressionField("switch", "cases.expression")).toBe(true);
    expect(isExpressionField("http.request", "url")).toBe(false);
    expect(isExpressionField("ai.agent", "task")).toBe(false);
    expect(isExpressionField("nope", "expression")).toBe(false);
  });
});
