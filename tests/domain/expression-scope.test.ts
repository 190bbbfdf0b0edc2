/**
 * What the expression editor offers (issue #17 UX-3, app/lib/expression-scope.ts): only steps that run before the
 * current one, by key (L12) or by id without one; output fields from the last run, pinned data and the registry's
 * output schemas; the preview context exposes steps by id and by key as the engine does (R55).
 */
import { WorkflowDefinition } from "@algorythmos/domain";
import { describe, expect, it } from "vitest";
import { completionsAt, expressionScope, pathBeforeCaret } from "../../app/lib/expression-scope.js";

const definition = WorkflowDefinition.parse({
  name: "Scope",
  steps: [
    { id: "start", type: "trigger.manual" },
    { id: "step_abc", key: "fetch_user", name: "Fetch user", type: "http.request", config: { url: "https://x.test" } },
    { id: "legacy", name: "Old", type: "transform", config: { expression: "1" } },
    { id: "shape", key: "shape", type: "transform", config: { expression: "2" } },
    { id: "later", key: "later", type: "transform", config: { expression: "3" } },
  ],
  edges: [
    { id: "e1", source: "start", target: "step_abc" },
    { id: "e2", source: "step_abc", target: "legacy" },
    { id: "e3", source: "legacy", target: "shape" },
    { id: "e4", source: "shape", target: "later" },
  ],
  pinned: { legacy: { pinnedField: 1 } },
});
const lastRun = { input: { name: "Ada", address: { city: "London" } }, outputs: { step_abc: { status: 200, headers: {}, body: { user: { id: 7 } } } } };

describe("expression scope", () => {
  it("offers the earlier steps only, by key or by id, with their names", () => {
    const scope = expressionScope(definition, "shape", lastRun);
    expect(completionsAt(scope, ["steps"]).map((c) => [c.label, c.detail])).toEqual([
      ["start", "trigger.manual"],
      ["fetch_user", "Fetch user · http.request"],
      ["legacy", "Old · transform"],
    ]);
  });

  it("offers output fields from the last run (with values), pinned data and the output schema (with types)", () => {
    const scope = expressionScope(definition, "shape", lastRun);
    expect(completionsAt(scope, ["steps", "fetch_user"])).toEqual([{ label: "output", kind: "property", detail: "from the last run" }]);
    const output = completionsAt(scope, ["steps", "fetch_user", "output"]);
    expect(output.find((c) => c.label === "status")?.detail).toBe("200");
    expect(completionsAt(scope, ["steps", "fetch_user", "output", "body", "user"]).map((c) => c.label)).toEqual(["id"]);
    expect(completionsAt(scope, ["steps", "legacy", "output"]).map((c) => c.label)).toEqual(["pinnedField"]);
    // No run: the registry's output schema still names the fields.
    const schemaOnly = expressionScope(definition, "shape", null);
    expect(completionsAt(schemaOnly, ["steps", "fetch_user", "output"]).map((c) => [c.label, c.detail])).toEqual([
      ["status", "integer"],
      ["headers", "object"],
      ["body", "any"],
    ]);
    expect(completionsAt(scope, ["input", "address"]).map((c) => [c.label, c.detail])).toEqual([["city", '"London"']]);
  });

  it("the preview context names steps by id and by key; the path before the caret is read as the editor does", () => {
    const scope = expressionScope(definition, "shape", lastRun);
    expect(Object.keys(scope.previewContext!.steps).sort()).toEqual(["fetch_user", "step_abc"]);
    expect(pathBeforeCaret("$string(steps.fetch_user.out")).toEqual({ path: ["steps", "fetch_user"], word: "out", from: 25 });
    expect(pathBeforeCaret("steps.")).toEqual({ path: ["steps"], word: "", from: 6 });
    expect(pathBeforeCaret("'steps.")).toBeNull();
  });
});
