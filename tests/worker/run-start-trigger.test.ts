/**
 * R4 (issue #17, defect 5): a run starts at the trigger that started it. The other triggers are skipped with the
 * reason, so are the steps only they reach (R6) and steps no trigger reaches — on the real worker.
 */
import { newId, type WorkflowDefinitionInput } from "@algorythmos/domain";
import { json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, stepStatuses, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 *   manual ──▶ by_hand ──▶ joined ◀── on_hook ◀── hook
 *   schedule ──▶ nightly                 loose (no edge)
 */
const THREE_TRIGGERS: WorkflowDefinitionInput = {
  name: "Three triggers",
  steps: [
    { id: "manual", type: "trigger.manual", name: "Run by hand" },
    { id: "hook", type: "trigger.webhook", name: "On webhook" },
    { id: "schedule", type: "trigger.cron", name: "Nightly", config: { cron: "0 3 * * *" } },
    { id: "by_hand", type: "transform", config: { expression: `"manual branch"` } },
    { id: "on_hook", type: "transform", config: { expression: `"webhook branch"` } },
    { id: "nightly", type: "transform", config: { expression: `"cron branch"` } },
    { id: "joined", type: "transform", config: { expression: `"joined"` } },
    { id: "loose", type: "transform", config: { expression: `"never"` } },
  ],
  edges: [
    { id: "e1", source: "manual", target: "by_hand" },
    { id: "e2", source: "hook", target: "on_hook" },
    { id: "e3", source: "schedule", target: "nightly" },
    { id: "e4", source: "by_hand", target: "joined" },
    { id: "e5", source: "on_hook", target: "joined" },
  ],
};

async function run(definition: WorkflowDefinitionInput, trigger: string, triggerStepId: string | null = null, input: unknown = { n: 1 }) {
  const id = newId("run");
  await h.db.run.create({ data: { id, workflowId: h.workflowId, workspaceId: h.workspaceId, definition: json(definition), trigger, triggerStepId, input: json(input) } });
  await h.enqueue(id);
  return h.waitForFinal(id);
}
const errorOf = (finished: Awaited<ReturnType<typeof run>>, stepId: string) => finished.steps.find((step) => step.stepId === stepId)?.error ?? null;

describe("R4: a run starts at the trigger that started it", () => {
  it("R4: a manual run of a workflow with manual, webhook and cron triggers executes only the manual branch", async () => {
    const finished = await run(THREE_TRIGGERS, "manual");
    expect(finished.status).toBe("succeeded");
    expect(stepStatuses(finished)).toEqual({
      manual: "succeeded", by_hand: "succeeded", joined: "succeeded",
      hook: "skipped", on_hook: "skipped", schedule: "skipped", nightly: "skipped", loose: "skipped",
    });
    // The trace says which trigger started it, and why the rest did not run.
    expect(errorOf(finished, "hook")).toBe(`Not started: this run started at trigger "Run by hand"`);
    expect(errorOf(finished, "schedule")).toBe(`Not started: this run started at trigger "Run by hand"`);
    expect(errorOf(finished, "loose")).toBe("Not run: no trigger leads to this step");
    expect(finished.output).toEqual({ joined: "joined" });
    expect(finished.steps.find((step) => step.stepId === "manual")?.output).toEqual({ n: 1 });
  });

  it("R4: a webhook run starts at the webhook trigger, a cron run at its cron trigger", async () => {
    const hooked = await run(THREE_TRIGGERS, "webhook");
    expect(stepStatuses(hooked)).toMatchObject({ hook: "succeeded", on_hook: "succeeded", joined: "succeeded", manual: "skipped", by_hand: "skipped", schedule: "skipped", nightly: "skipped" });
    expect(errorOf(hooked, "manual")).toBe(`Not started: this run started at trigger "On webhook"`);
    const nightly = await run(THREE_TRIGGERS, "cron", "schedule");
    expect(stepStatuses(nightly)).toMatchObject({ schedule: "succeeded", nightly: "succeeded", manual: "skipped", hook: "skipped", joined: "skipped" });
    expect(nightly.output).toEqual({ nightly: "cron branch" });
  });

  it("R4: with two manual triggers the chosen one starts the run; a start step that is not a trigger fails the run before any step", async () => {
    const two: WorkflowDefinitionInput = {
      name: "Two manual triggers",
      steps: [
        { id: "first", type: "trigger.manual", name: "First" },
        { id: "second", type: "trigger.manual", name: "Second" },
        { id: "a", type: "transform", config: { expression: `"a"` } },
        { id: "b", type: "transform", config: { expression: `"b"` } },
      ],
      edges: [
        { id: "e1", source: "first", target: "a" },
        { id: "e2", source: "second", target: "b" },
      ],
    };
    const chosen = await run(two, "manual", "second");
    expect(stepStatuses(chosen)).toEqual({ first: "skipped", a: "skipped", second: "succeeded", b: "succeeded" });
    expect(chosen.output).toEqual({ b: "b" });

    const wrong = await run(two, "manual", "a");
    expect(wrong.status).toBe("failed");
    expect(wrong.error).toBe(`The run starts at step "a", which is not a trigger of this definition`);
    expect(wrong.steps).toEqual([]);
  });
});
