import { describe, expect, it } from "vitest";
import {
  canManageMembers,
  canWrite,
  CreateWorkflowInput,
  DEFINITION_SCHEMA_VERSION,
  Email,
  emptyDefinition,
  FINAL_RUN_STATUSES,
  MAX_RUN_INPUT_BYTES,
  newId,
  PageArgs,
  ROLES,
  RUN_STATUSES,
  SignUpInput,
  StartRunInput,
  WorkflowDefinition,
} from "@algorythmos/domain";

/** The issues of a failed parse as "path: message" lines, the way an API consumer sees them. */
function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  expect(result.success).toBe(false);
  return result.error!.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`);
}

describe("WorkflowDefinition schema", () => {
  it("fills defaults: schema version, description, steps, edges, step name/config/position", () => {
    const parsed = WorkflowDefinition.parse({ name: "Onboarding", steps: [{ id: "trigger", type: "trigger.manual" }] });
    expect(parsed).toEqual({
      schemaVersion: DEFINITION_SCHEMA_VERSION,
      name: "Onboarding",
      description: "",
      steps: [{ id: "trigger", type: "trigger.manual", name: "", config: {}, position: { x: 0, y: 0 } }],
      edges: [],
      settings: {},
    });
    expect(WorkflowDefinition.parse({ name: "Empty" })).toMatchObject({ steps: [], edges: [], settings: {} });
  });

  it("trims the name and rejects a blank one with 'Name is required'", () => {
    expect(WorkflowDefinition.parse({ name: "  Spaced  " }).name).toBe("Spaced");
    expect(issues(WorkflowDefinition.safeParse({ name: "   " }))).toEqual(["name: Name is required"]);
    expect(issues(WorkflowDefinition.safeParse({ name: "x".repeat(201) }))).toEqual(["name: Name is at most 200 characters"]);
  });

  it("rejects step ids with spaces, dots or slashes, naming the step's index and the allowed characters", () => {
    for (const id of ["has space", "dot.ted", "slash/ed", "émoji"]) {
      const result = WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "ok", type: "delay" }, { id, type: "delay" }] });
      expect(issues(result), id).toEqual(["steps.1.id: Step id may contain letters, digits, '_' and '-' only"]);
    }
  });

  it("rejects empty and over-long step ids with specific messages, and accepts letters, digits, '_' and '-'", () => {
    expect(issues(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "", type: "delay" }] }))).toContain(
      "steps.0.id: Step id is required",
    );
    expect(issues(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "a".repeat(65), type: "delay" }] }))).toEqual([
      "steps.0.id: Step id is at most 64 characters",
    ]);
    expect(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "Step_1-b", type: "delay" }] }).success).toBe(true);
    expect(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "a".repeat(64), type: "delay" }] }).success).toBe(true);
  });

  it("rejects a step without a type", () => {
    expect(issues(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "a", type: "" }] }))).toEqual([
      "steps.0.type: Step type is required",
    ]);
  });

  it("rejects edge labels that are not short words (which labels fit a source is validateDefinition's call), naming the edge's label field", () => {
    const base = { name: "w", steps: [{ id: "a", type: "condition" }, { id: "b", type: "delay" }] };
    for (const label of ["", "has space", "x".repeat(65), true]) {
      const lines = issues(WorkflowDefinition.safeParse({ ...base, edges: [{ id: "e1", source: "a", target: "b", label }] }));
      expect(lines.length, String(label)).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^edges\.0\.label: /);
    }
    for (const label of ["true", "false", "body", "error", "high_priority", undefined]) {
      expect(WorkflowDefinition.safeParse({ ...base, edges: [{ id: "e1", source: "a", target: "b", label }] }).success).toBe(true);
    }
  });

  it("rejects edges with a missing id and edge ends that are not valid step ids", () => {
    const lines = issues(
      WorkflowDefinition.safeParse({ name: "w", edges: [{ id: "", source: "a b", target: "" }] }),
    );
    expect(lines).toContain("edges.0.id: Edge id is required");
    expect(lines).toContain("edges.0.source: Step id may contain letters, digits, '_' and '-' only");
    expect(lines).toContain("edges.0.target: Step id is required");
  });

  it("rejects non-finite positions and a schema version other than 1", () => {
    expect(
      issues(WorkflowDefinition.safeParse({ name: "w", steps: [{ id: "a", type: "delay", position: { x: Infinity, y: 0 } }] }))[0],
    ).toMatch(/^steps\.0\.position\.x: /);
    expect(issues(WorkflowDefinition.safeParse({ name: "w", schemaVersion: 2 }))[0]).toMatch(/^schemaVersion: /);
  });

  it("caps steps at 500 with a message saying so", () => {
    const steps = Array.from({ length: 501 }, (_, i) => ({ id: `s${i}`, type: "delay" }));
    expect(issues(WorkflowDefinition.safeParse({ name: "w", steps }))).toEqual(["steps: A workflow has at most 500 steps"]);
    expect(WorkflowDefinition.safeParse({ name: "w", steps: steps.slice(0, 500) }).success).toBe(true);
  });

  it("emptyDefinition is a valid definition holding one manual trigger", () => {
    const definition = emptyDefinition("New workflow", "about it");
    expect(WorkflowDefinition.parse(definition)).toEqual(definition);
    expect(definition).toMatchObject({ name: "New workflow", description: "about it", edges: [] });
    expect(definition.steps.map((step) => step.type)).toEqual(["trigger.manual"]);
    expect(() => emptyDefinition("  ")).toThrow(/Name is required/);
  });
});

describe("ids", () => {
  it("newId is the prefix, '_' and 20 lowercase base-36 characters, and does not repeat", () => {
    const ids = Array.from({ length: 500 }, () => newId("wf"));
    for (const id of ids) expect(id).toMatch(/^wf_[0-9a-z]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newId("run", 8)).toMatch(/^run_[0-9a-z]{8}$/);
  });
});

describe("statuses and roles", () => {
  it("final run statuses are run statuses, and 'queued'/'running' are not final", () => {
    for (const status of FINAL_RUN_STATUSES) expect(RUN_STATUSES).toContain(status);
    expect(FINAL_RUN_STATUSES).not.toContain("queued");
    expect(FINAL_RUN_STATUSES).not.toContain("running");
  });

  it("owners and editors write, viewers do not; only owners manage members", () => {
    expect(ROLES.filter(canWrite)).toEqual(["owner", "editor"]);
    expect(ROLES.filter(canManageMembers)).toEqual(["owner"]);
  });
});

describe("API inputs", () => {
  it("Email trims and lowercases, and rejects a non-address with an actionable message", () => {
    expect(Email.parse("  Ada@Example.COM ")).toBe("ada@example.com");
    expect(issues(Email.safeParse("not-an-email"))).toEqual([": Enter a valid email address"]);
  });

  it("SignUpInput names each bad field", () => {
    const lines = issues(SignUpInput.safeParse({ email: "ada@example.com", password: "short", name: " " }));
    expect(lines).toEqual(["password: Password must be at least 8 characters", "name: Name is required"]);
  });

  it("CreateWorkflowInput requires a workspace and a name", () => {
    expect(issues(CreateWorkflowInput.safeParse({ workspaceId: "", name: "" }))).toEqual([
      "workspaceId: workspaceId is required",
      "name: Name is required",
    ]);
  });

  it("StartRunInput defaults the input to {} and refuses inputs over the size limit", () => {
    expect(StartRunInput.parse({ workflowId: "wf_1" })).toEqual({ workflowId: "wf_1", input: {} });
    const big = { text: "x".repeat(MAX_RUN_INPUT_BYTES) };
    expect(issues(StartRunInput.safeParse({ workflowId: "wf_1", input: big }))).toEqual([
      `input: Run input is larger than ${MAX_RUN_INPUT_BYTES} bytes`,
    ]);
  });

  it("PageArgs defaults to 20 and bounds first to 1..100", () => {
    expect(PageArgs.parse({})).toEqual({ first: 20 });
    expect(issues(PageArgs.safeParse({ first: 0 }))).toEqual(["first: first must be at least 1"]);
    expect(issues(PageArgs.safeParse({ first: 101 }))).toEqual(["first: first must be at most 100"]);
  });
});
