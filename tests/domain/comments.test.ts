/**
 * Comments in the workflow's Y.Doc (docs/ydoc-layout.md L13): threads pinned to a step or the canvas, replies,
 * @mentions, resolve/reopen, co-typed text; two replicas exchanging updates converge; applying a definition
 * (imports, version restores) keeps every comment; the palette of collaborators' colours is perceptually distinct.
 */
import {
  addComment,
  addReply,
  applyDefinitionToDoc,
  definitionFromDoc,
  docFromDefinition,
  editTextField,
  matchMembers,
  mentionQuery,
  readComments,
  readTextField,
  setCommentResolved,
  stepDisplayName,
  textFieldId,
  type WorkflowDefinition,
} from "@algorythmos/domain";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { assignColors, colorDistance, contrastRatio, labelTextColor, USER_PALETTE } from "../../app/lib/user-colors.js";

const ada = { id: "usr_ada", name: "Ada Lovelace" };
const bea = { id: "usr_bea", name: "Bea" };

const definition = (steps: WorkflowDefinition["steps"]): WorkflowDefinition =>
  ({ schemaVersion: 1, name: "Flow", description: "", steps, edges: [] }) as unknown as WorkflowDefinition;
const start = { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } } as WorkflowDefinition["steps"][number];
const fetch = { id: "fetch", type: "http.request", name: "Fetch", config: { method: "GET", url: "https://x.example" }, position: { x: 200, y: 0 } } as WorkflowDefinition["steps"][number];

/** Two replicas wired to each other, as the collab service relays updates. */
function pair(from: Y.Doc) {
  const a = new Y.Doc();
  const b = new Y.Doc();
  Y.applyUpdate(a, Y.encodeStateAsUpdate(from));
  Y.applyUpdate(b, Y.encodeStateAsUpdate(from));
  a.on("update", (u: Uint8Array, origin: unknown) => origin !== "remote" && Y.applyUpdate(b, u, "remote"));
  b.on("update", (u: Uint8Array, origin: unknown) => origin !== "remote" && Y.applyUpdate(a, u, "remote"));
  return [a, b] as const;
}

describe("L13 comments", () => {
  it("L13: a thread on a step and one on the canvas, with replies, mentions and resolve, reach the other replica", () => {
    const [a, b] = pair(docFromDefinition(definition([start, fetch])));
    const onStep = addComment(a, { anchor: { stepId: "fetch" }, text: "Is this URL right, @Bea?", author: ada, mentions: [bea.id, bea.id] });
    const onCanvas = addComment(b, { anchor: { x: 120.4, y: -30.6 }, text: "Add a retry branch here", author: bea });
    addReply(b, onStep, { text: "Yes, it is the sandbox", author: bea });
    addReply(a, onStep, { text: "Thanks", author: ada });
    setCommentResolved(b, onStep, true, bea);
    for (const doc of [a, b]) {
      const comments = readComments(doc);
      expect(comments.map((c) => c.id).sort()).toEqual([onStep, onCanvas].sort());
      const thread = comments.find((c) => c.id === onStep)!;
      expect(thread).toMatchObject({ anchor: { stepId: "fetch" }, text: "Is this URL right, @Bea?", authorName: "Ada Lovelace", mentions: [bea.id], resolved: true, resolvedBy: "Bea" });
      expect(thread.replies.map((r) => [r.authorName, r.text])).toEqual([
        ["Bea", "Yes, it is the sandbox"],
        ["Ada Lovelace", "Thanks"],
      ]);
      expect(comments.find((c) => c.id === onCanvas)!.anchor).toEqual({ x: 120, y: -31 });
    }
    setCommentResolved(a, onStep, false, ada);
    expect(readComments(b).find((c) => c.id === onStep)).toMatchObject({ resolved: false, resolvedBy: null });
  });

  it("L13: comment text is co-typed (a Y.Text): two people typing into it at once both keep their characters", () => {
    const [a, b] = pair(docFromDefinition(definition([start])));
    const id = addComment(a, { anchor: { x: 0, y: 0 }, text: "Check it", author: ada });
    const ref = { kind: "comment" as const, commentId: id };
    expect(textFieldId(ref)).toBe(`comment:${id}.text`);
    expect(readTextField(a, ref).text).toBeInstanceOf(Y.Text);
    // c is a third replica, offline: both edit the same text before they exchange anything.
    const c = new Y.Doc();
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a));
    editTextField(a, ref, "Check it now", 12);
    editTextField(c, ref, "Please check it", 7);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(c));
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a));
    expect(readComments(a)[0]!.text).toBe(readComments(c)[0]!.text);
    expect(readComments(a)[0]!.text).toBe("Please check it now");
    expect(readComments(b)[0]!.text).toBe("Please check it now"); // relayed from a
  });

  it("L13: an empty or too long comment is refused with a message, never stored", () => {
    const doc = docFromDefinition(definition([start]));
    expect(() => addComment(doc, { anchor: { x: 0, y: 0 }, text: "   ", author: ada })).toThrow("Write something first.");
    expect(() => addComment(doc, { anchor: { x: 0, y: 0 }, text: "x".repeat(4001), author: ada })).toThrow(/at most 4000 characters/);
    expect(readComments(doc)).toEqual([]);
  });

  it("L13: restoring an older version (applyDefinitionToDoc) keeps every comment, those on removed steps included, and comments stay out of the definition", () => {
    const doc = docFromDefinition(definition([start]));
    const v1 = definitionFromDoc(doc).definition;
    applyDefinitionToDoc(doc, definition([start, fetch]));
    const id = addComment(doc, { anchor: { stepId: "fetch" }, text: "Review the fetch", author: ada });
    addReply(doc, id, { text: "On it", author: bea });
    const before = definitionFromDoc(doc).definition;
    expect(JSON.stringify(before)).not.toContain("Review the fetch");
    applyDefinitionToDoc(doc, v1, "restore");
    expect(definitionFromDoc(doc).definition.steps.map((s) => s.id)).toEqual(["start"]);
    expect(readComments(doc)).toHaveLength(1);
    expect(readComments(doc)[0]).toMatchObject({ text: "Review the fetch", anchor: { stepId: "fetch" } });
    expect(readComments(doc)[0]!.replies).toHaveLength(1);
  });

  it("L13: malformed entries are skipped, never a crash", () => {
    const doc = new Y.Doc();
    const map = doc.getMap<unknown>("comments");
    map.set("bad1", "not a map");
    const noAnchor = new Y.Map();
    noAnchor.set("text", new Y.Text("hi"));
    map.set("bad2", noAnchor);
    expect(readComments(doc)).toEqual([]);
  });

  it("mentions: the @query before the caret and the members it matches", () => {
    expect(mentionQuery("Hi @lo", 6)).toEqual({ start: 3, query: "lo" });
    expect(mentionQuery("mail a@b", 8)).toBeNull();
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    const members = [{ id: "1", name: "Ada Lovelace", email: "ada@x" }, { id: "2", name: "Bea", email: "bea@x" }];
    expect(matchMembers(members, "lo").map((m) => m.name)).toEqual(["Ada Lovelace"]);
    expect(matchMembers(members, "").length).toBe(2);
  });
});

describe("collaborators' colours and names", () => {
  it("the palette: every pair perceptually distinct (OKLab ≥ 0.1) and each label legible (contrast ≥ 4.5)", () => {
    for (let i = 0; i < USER_PALETTE.length; i++) {
      expect(contrastRatio(USER_PALETTE[i]!, labelTextColor(USER_PALETTE[i]!))).toBeGreaterThanOrEqual(4.5);
      for (let j = i + 1; j < USER_PALETTE.length; j++) expect(colorDistance(USER_PALETTE[i]!, USER_PALETTE[j]!)).toBeGreaterThanOrEqual(0.1);
    }
  });

  it("6 people in a room (many random rooms) always get pairwise distinct colours, the same on every client", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let room = 0; room < 300; room++) {
      const ids = Array.from({ length: 6 }, () => `usr_${Math.floor(random() * 1e9).toString(36)}`);
      const colors = assignColors(ids);
      expect(assignColors([...ids].reverse())).toEqual(colors);
      const list = ids.map((id) => colors.get(id)!);
      for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) expect(colorDistance(list[i]!, list[j]!)).toBeGreaterThanOrEqual(0.1);
    }
  });

  it("an emptied step name reads as 'Untitled <type>', never the id", () => {
    expect(stepDisplayName({ name: "", type: "http.request" })).toBe("Untitled HTTP request");
    expect(stepDisplayName({ name: "  ", type: "code" }, "Code")).toBe("Untitled Code");
    expect(stepDisplayName({ name: "Fetch", type: "http.request" })).toBe("Fetch");
  });
});
