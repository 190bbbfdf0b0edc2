/**
 * Steps by readable key in expressions (docs/run-engine.md R55, R56) on the real worker (PostgreSQL, Redis,
 * BullMQ): `steps.<key>.output` resolves, `steps.<id>.output` still does, and a key renamed in the Y.Doc keeps
 * the workflow running the same.
 */
import { definitionFromDoc, docFromDefinition, renameStepKey, WorkflowDefinition } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const keyed = () =>
  WorkflowDefinition.parse({
    name: "Keys",
    steps: [
      { id: "start", type: "trigger.manual" },
      { id: "step_0insp4brb9up", key: "fetch_user", type: "transform", name: "Fetch user", config: { expression: "{ 'name': input.name }" } },
      { id: "greet", key: "greet", type: "transform", config: { expression: "'Hi ' & steps.fetch_user.output.name & ' / ' & steps.step_0insp4brb9up.output.name" } },
    ],
    edges: [
      { id: "e1", source: "start", target: "step_0insp4brb9up" },
      { id: "e2", source: "step_0insp4brb9up", target: "greet" },
    ],
  });

describe("R55 steps by key", () => {
  it("R55: an expression's steps.<key>.output resolves, and steps.<id>.output still does", async () => {
    const run = await h.run(keyed(), { name: "Ada" });
    expect(run.error).toBeNull();
    expect(run.status).toBe("succeeded");
    // R16: the run's output stays keyed by step id.
    expect(run.output).toEqual({ greet: "Hi Ada / Ada" });
  });

  it("R56: renaming a key rewrites its references, so the renamed workflow runs the same", async () => {
    const doc = docFromDefinition(keyed());
    expect(renameStepKey(doc, "step_0insp4brb9up", "user")).toBe(true);
    const { definition, problems } = definitionFromDoc(doc);
    expect(problems).toEqual([]);
    expect(definition.steps.find((s) => s.id === "greet")!.config.expression).toBe("'Hi ' & steps.user.output.name & ' / ' & steps.user.output.name");
    const run = await h.run(definition, { name: "Grace" });
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ greet: "Hi Grace / Grace" });
  });
});
