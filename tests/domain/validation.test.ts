import { describe, expect, it } from "vitest";
import { validateDefinition, WorkflowDefinition, type WorkflowDefinitionInput } from "@algorythmos/domain";

/** A valid workflow: trigger → fetch → check ─true→ shape, ─false→ wait. */
function validInput(): WorkflowDefinitionInput {
  return {
    name: "Valid",
    steps: [
      { id: "trigger", type: "trigger.manual", name: "Start" },
      { id: "fetch", type: "http.request", name: "Fetch", config: { url: "https://example.com" } },
      { id: "check", type: "condition", name: "Check", config: { expression: "fetch.status = 200" } },
      { id: "shape", type: "transform", name: "Shape", config: { expression: "fetch.body" } },
      { id: "wait", type: "delay", name: "Wait" },
    ],
    edges: [
      { id: "e1", source: "trigger", target: "fetch" },
      { id: "e2", source: "fetch", target: "check" },
      { id: "e3", source: "check", target: "shape", label: "true" },
      { id: "e4", source: "check", target: "wait", label: "false" },
    ],
  };
}

function definition(edit: (input: WorkflowDefinitionInput & { steps: any[]; edges: any[] }) => void = () => {}) {
  const input = validInput() as WorkflowDefinitionInput & { steps: any[]; edges: any[] };
  edit(input);
  return WorkflowDefinition.parse(input);
}

describe("validateDefinition", () => {
  it("finds no problems in a valid workflow", () => {
    expect(validateDefinition(definition())).toEqual([]);
  });

  it("CYCLE names the steps of the cycle in order", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.edges.push({ id: "back", source: "wait", target: "fetch" });
      }),
    );
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem!.code).toBe("CYCLE");
    expect(["fetch", "check", "wait"]).toContain(problem!.stepId);
    expect(problem!.message).toMatch(/cycle/i);
    // The message uses step names and closes the loop.
    const names = problem!.message.replace(/^.*: /, "").split(" → ");
    expect(names[0]).toBe(names[names.length - 1]);
    expect(new Set(names.slice(0, -1))).toEqual(new Set(["Fetch", "Check", "Wait"]));
  });

  it("CYCLE catches a self-loop", () => {
    const problems = validateDefinition(definition((d) => d.edges.push({ id: "self", source: "wait", target: "wait" })));
    expect(problems).toEqual([expect.objectContaining({ code: "CYCLE", stepId: "wait" })]);
  });

  it("DANGLING_EDGE names the edge and the missing step", () => {
    const problems = validateDefinition(definition((d) => d.edges.push({ id: "e9", source: "shape", target: "ghost" })));
    expect(problems).toEqual([
      { code: "DANGLING_EDGE", edgeId: "e9", stepId: "ghost", message: 'Edge "e9" points to missing step "ghost"' },
    ]);
  });

  it("UNKNOWN_STEP_TYPE names the step and the type", () => {
    const problems = validateDefinition(definition((d) => (d.steps[4].type = "slack.post")));
    expect(problems).toEqual([
      { code: "UNKNOWN_STEP_TYPE", stepId: "wait", message: 'Step "Wait" has unknown type "slack.post"' },
    ]);
  });

  it("MISSING_TRIGGER when no step is a trigger", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.steps.shift();
        d.edges.shift();
      }),
    );
    expect(problems).toEqual([{ code: "MISSING_TRIGGER", message: "The workflow needs a trigger step" }]);
  });

  it("INVALID_CONFIG names the step and the config field, one problem per issue", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.steps[1].config = { url: "", timeoutMs: 5 };
      }),
    );
    expect(problems.map((p) => p.code)).toEqual(["INVALID_CONFIG", "INVALID_CONFIG"]);
    expect(problems.every((p) => p.stepId === "fetch")).toBe(true);
    expect(problems.map((p) => p.path)).toEqual([["url"], ["timeoutMs"]]);
    expect(problems[0]!.message).toBe('Step "Fetch": url: URL is required');
    expect(problems[1]!.message).toMatch(/^Step "Fetch": timeoutMs: /);
  });

  it("INVALID_CONFIG falls back to the step id when the step has no name", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.steps[3].name = "";
        d.steps[3].config = {};
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: "INVALID_CONFIG", stepId: "shape", path: ["expression"] });
    expect(problems[0]!.message).toMatch(/^Step "shape": expression: /);
  });

  it("DUPLICATE_STEP_ID and DUPLICATE_EDGE_ID name the id", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.steps.push({ id: "wait", type: "delay" });
        d.edges.push({ id: "e1", source: "trigger", target: "fetch" });
      }),
    );
    expect(problems).toEqual([
      { code: "DUPLICATE_STEP_ID", stepId: "wait", message: 'Two steps share the id "wait"' },
      { code: "DUPLICATE_EDGE_ID", edgeId: "e1", message: 'Two edges share the id "e1"' },
    ]);
  });

  it("TRIGGER_HAS_INCOMING_EDGE names the edge and the trigger", () => {
    const problems = validateDefinition(definition((d) => {
        d.steps.push({ id: "hook", type: "trigger.webhook", name: "Hook" });
        d.edges.push({ id: "into", source: "hook", target: "trigger" });
      }),);
    expect(problems).toEqual([
      {
        code: "TRIGGER_HAS_INCOMING_EDGE",
        edgeId: "into",
        stepId: "trigger",
        message: 'Trigger "Start" cannot have incoming edges',
      },
    ]);
  });

  it("UNLABELLED_CONDITION_EDGE names the edge and the condition", () => {
    const problems = validateDefinition(definition((d) => delete d.edges[3].label));
    expect(problems).toEqual([
      {
        code: "UNLABELLED_CONDITION_EDGE",
        edgeId: "e4",
        stepId: "check",
        message: 'Edges leaving condition "Check" must be labelled true or false',
      },
    ]);
  });

  it("reports several problems at once", () => {
    const problems = validateDefinition(
      definition((d) => {
        d.steps[0].type = "trigger.nope";
        d.edges.push({ id: "x", source: "nowhere", target: "wait" });
      }),
    );
    expect(problems.map((p) => p.code).sort()).toEqual(["DANGLING_EDGE", "MISSING_TRIGGER", "UNKNOWN_STEP_TYPE"]);
  });
});
