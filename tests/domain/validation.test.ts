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

/** trigger → each ══body══▶ a → b, each → after (a loop), with `edit` applied. */
function loopDefinition(edit: (input: { steps: any[]; edges: any[] }) => void = () => {}) {
  const input = {
    name: "Loops",
    steps: [
      { id: "trigger", type: "trigger.manual" },
      { id: "each", type: "loop", name: "Each", config: { items: "input.list" } },
      { id: "a", type: "transform", config: { expression: "item" } },
      { id: "b", type: "transform", config: { expression: "item" } },
      { id: "after", type: "transform", config: { expression: "steps.each.output" } },
    ] as any[],
    edges: [
      { id: "e1", source: "trigger", target: "each" },
      { id: "body", source: "each", target: "a", label: "body" },
      { id: "e2", source: "a", target: "b" },
      { id: "e3", source: "each", target: "after" },
    ] as any[],
  };
  edit(input);
  return WorkflowDefinition.parse(input);
}

describe("validateDefinition: control flow (R25–R27)", () => {
  it("R25: a loop with one body edge, entered only through it, has no problems; nested loops neither", () => {
    expect(validateDefinition(loopDefinition())).toEqual([]);
    const nested = loopDefinition((d) => {
      d.steps.push({ id: "inner", type: "loop", config: { items: "item" } }, { id: "c", type: "transform", config: { expression: "item" } });
      d.edges.push({ id: "e4", source: "b", target: "inner" }, { id: "ib", source: "inner", target: "c", label: "body" });
    });
    expect(validateDefinition(nested)).toEqual([]);
  });

  it("R25: LOOP_WITHOUT_BODY for a loop without a body edge, or with two", () => {
    expect(validateDefinition(loopDefinition((d) => (d.edges = d.edges.filter((e) => e.id !== "body"))))).toEqual([
      { code: "LOOP_WITHOUT_BODY", stepId: "each", message: 'Loop "Each" needs an edge labelled body to the first step of its body' },
    ]);
    const two = validateDefinition(loopDefinition((d) => d.edges.push({ id: "body2", source: "each", target: "b", label: "body" })));
    expect(two.map((p) => p.message)).toContain('Loop "Each" has 2 body edges; its body starts at one step');
  });

  it("R25: LOOP_BODY_ENTERED for an edge from outside the body into it (also the loop's own unlabelled edge)", () => {
    const fromOutside = validateDefinition(loopDefinition((d) => d.edges.push({ id: "in", source: "trigger", target: "b" })));
    expect(fromOutside).toEqual([
      {
        code: "LOOP_BODY_ENTERED",
        edgeId: "in",
        stepId: "b",
        message: 'Step "b" is in the body of loop "Each", so it can only be reached through the loop\'s body edge (edge "in" comes from "trigger")',
      },
    ]);
    const own = validateDefinition(loopDefinition((d) => d.edges.push({ id: "own", source: "each", target: "b" })));
    expect(own.map((p) => [p.code, p.edgeId])).toEqual([["LOOP_BODY_ENTERED", "own"]]);
    // A body leading out of the loop makes the outside step part of the body, entered from outside by "e3".
    const out = validateDefinition(loopDefinition((d) => d.edges.push({ id: "leak", source: "b", target: "after" })));
    expect(out.map((p) => [p.code, p.edgeId])).toEqual([["LOOP_BODY_ENTERED", "e3"]]);
  });

  it("R25: INVALID_EDGE_LABEL for a loop edge with another label, and for body from a step that is not a loop", () => {
    const problems = validateDefinition(
      loopDefinition((d) => {
        d.edges.find((e) => e.id === "e3").label = "done";
        d.edges.find((e) => e.id === "e2").label = "body";
      }),
    );
    expect(problems.map((p) => [p.code, p.edgeId]).sort()).toEqual([
      ["INVALID_EDGE_LABEL", "e2"],
      ["INVALID_EDGE_LABEL", "e3"],
    ]);
    expect(problems.find((p) => p.edgeId === "e2")!.message).toBe('Edge "e2" is labelled body, but only a loop has a body ("a" is a transform)');
  });

  it("R25: loop config — concurrency 1..20, maxItems up to 10000, items an expression", () => {
    const problems = validateDefinition(loopDefinition((d) => (d.steps[1].config = { items: "", concurrency: 50, maxItems: 20000 })));
    expect(problems.filter((p) => p.code === "INVALID_CONFIG").map((p) => p.path)).toEqual([["items"], ["concurrency"], ["maxItems"]]);
  });

  it("R26: a switch's edges are labelled with its case keys or default; keys are unique and not reserved", () => {
    const base = (labels: (string | undefined)[], cases: unknown = [{ key: "gold", expression: "input.tier = 'gold'" }]) =>
      WorkflowDefinition.parse({
        name: "Switch",
        steps: [
          { id: "trigger", type: "trigger.manual" },
          { id: "route", type: "switch", name: "Route", config: { cases } },
          ...labels.map((_, index) => ({ id: `t${index}`, type: "transform", config: { expression: "1" } })),
        ],
        edges: [{ id: "e0", source: "trigger", target: "route" }, ...labels.map((label, index) => ({ id: `s${index}`, source: "route", target: `t${index}`, ...(label ? { label } : {}) }))],
      });
    expect(validateDefinition(base(["gold", "default"]))).toEqual([]);
    expect(validateDefinition(base(["silver"]))).toEqual([
      { code: "INVALID_EDGE_LABEL", edgeId: "s0", stepId: "route", message: 'Edge "s0" leaving switch "Route" is labelled "silver"; use one of its case keys (gold) or default' },
    ]);
    expect(validateDefinition(base([undefined]))).toEqual([
      { code: "INVALID_EDGE_LABEL", edgeId: "s0", stepId: "route", message: 'Edges leaving switch "Route" must be labelled with a case key or default' },
    ]);
    const dup = validateDefinition(base(["a"], [{ key: "a", expression: "1" }, { key: "a", expression: "2" }, { key: "default", expression: "3" }]));
    expect(dup.filter((p) => p.code === "INVALID_CONFIG").map((p) => p.message)).toEqual([
      'Step "Route": cases.2.key: A case key cannot be default, error, body',
      'Step "Route": cases.1.key: Two cases share the key "a"',
    ]);
  });

  it("R27: an error edge needs onError branch on its source; a condition's edges stay true / false (plus error when it branches)", () => {
    const withError = (onError?: string) =>
      definition((d) => {
        if (onError) d.steps[1].onError = onError;
        d.steps.push({ id: "recover", type: "transform", config: { expression: "steps.fetch.output.error" } });
        d.edges.push({ id: "err", source: "fetch", target: "recover", label: "error" });
      });
    expect(validateDefinition(withError("branch"))).toEqual([]);
    expect(validateDefinition(withError())).toEqual([
      {
        code: "ERROR_EDGE_WITHOUT_BRANCH",
        edgeId: "err",
        stepId: "fetch",
        message: 'Edge "err" is labelled error, but step "Fetch" does not branch on errors (set its onError to "branch")',
      },
    ]);
    expect(validateDefinition(definition((d) => (d.edges[3].label = "maybe")))).toEqual([
      { code: "UNLABELLED_CONDITION_EDGE", edgeId: "e4", stepId: "check", message: 'Edges leaving condition "Check" must be labelled true or false' },
    ]);
  });
});
