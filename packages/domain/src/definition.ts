import { z } from "zod";

/** The workflow definition: the one JSON shape of a workflow graph, shared by every part. */
export const DEFINITION_SCHEMA_VERSION = 1 as const;

export const StepId = z
  .string()
  .min(1, "Step id is required")
  .max(64, "Step id is at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "Step id may contain letters, digits, '_' and '-' only");

/**
 * A step's readable key (docs/ydoc-layout.md L12): what expressions and templates call it, `steps.<key>.output`.
 * Lower-case letters, digits and '_', starting with a letter, so it never needs quoting in JSONata.
 */
export const STEP_KEY_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const StepKey = z
  .string()
  .min(1, "A step key is required")
  .max(64, "A step key is at most 64 characters")
  .regex(STEP_KEY_PATTERN, "A step key starts with a lower-case letter and holds only a–z, 0–9 and '_'");

export const Position = z.object({ x: z.number().finite(), y: z.number().finite() });
export type Position = z.infer<typeof Position>;

export const Step = z.object({
  id: StepId,
  type: z.string().min(1, "Step type is required"),
  /** L12: the readable key expressions use (`steps.<key>.output`); absent in steps made before keys (id only). */
  key: StepKey.optional(),
  name: z.string().max(200).default(""),
  config: z.record(z.string(), z.unknown()).default({}),
  position: Position.default({ x: 0, y: 0 }),
  /** Plain text of the step's collaborative notes (read-only projection of the Y.XmlFragment). */
  notes: z.string().optional(),
  /**
   * What a failure of this step does (docs/run-engine.md): "fail" (the default) fails the run; "continue"
   * settles the step as failed and goes on as if it succeeded with `{ error }`; "branch" follows the step's
   * edges labelled `error`, which receive `{ error, input }`.
   */
  onError: z.enum(["fail", "continue", "branch"]).optional(),
});
export type Step = z.infer<typeof Step>;

/**
 * An edge's label says which output of its source it follows: "true" / "false" (condition), "body" (loop:
 * the loop's body), "error" (a step with onError "branch"), or a branch key (switch). Which labels a source
 * may have is checked by validateDefinition, not here, so an unknown label is a problem, not a parse error.
 */
export const EdgeLabel = z
  .string()
  .min(1, "An edge label cannot be empty")
  .max(64, "An edge label is at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "An edge label may contain letters, digits, '_' and '-' only");
export const Edge = z.object({
  id: z.string().min(1, "Edge id is required").max(128),
  source: StepId,
  target: StepId,
  label: EdgeLabel.optional(),
});
export type Edge = z.infer<typeof Edge>;

export const WorkflowSettings = z.object({
  /** At most this many runs of the workflow run at once; later ones wait queued, in order. */
  maxConcurrentRuns: z.number().int().min(1, "At least 1").max(1000, "At most 1000").optional(),
  /** A workflow (its published version) started when a run of this one fails, with the failure as input. */
  errorWorkflowId: z.string().min(1).max(64).optional(),
});
export type WorkflowSettings = z.infer<typeof WorkflowSettings>;

/**
 * Pinned data (docs/run-engine.md R47, R48): a step's output fixed by a person while building. A draft run
 * uses it instead of executing the step; published and test runs ignore it. Keyed by step id.
 */
export const PinnedOutputs = z.record(StepId, z.unknown());
export type PinnedOutputs = z.infer<typeof PinnedOutputs>;

/** What a test case checks, on the run's output or (with `stepId`) on one step's output (R49). */
export const TestAssertion = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("equals"), stepId: StepId.optional(), expected: z.unknown() }),
  z.object({ kind: z.literal("jsonata"), stepId: StepId.optional(), expression: z.string().trim().min(1, "Write a JSONata predicate").max(10_000) }),
  z.object({ kind: z.literal("schema"), stepId: StepId.optional(), schema: z.record(z.string(), z.unknown()) }),
]);
export type TestAssertion = z.infer<typeof TestAssertion>;

export const TestCaseId = z
  .string()
  .min(1, "Test case id is required")
  .max(64, "Test case id is at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "Test case id may contain letters, digits, '_' and '-' only");

/** A named test case: a run input and what its run must produce (R49, R50). */
export const TestCase = z.object({
  id: TestCaseId,
  name: z.string().max(200, "A test case name is at most 200 characters").default(""),
  input: z.unknown().transform((value) => (value === undefined ? {} : value)),
  assertions: z.array(TestAssertion).max(50, "A test case has at most 50 assertions").default([]),
});
export type TestCase = z.infer<typeof TestCase>;

export const WorkflowDefinition = z.object({
  schemaVersion: z.literal(DEFINITION_SCHEMA_VERSION).default(DEFINITION_SCHEMA_VERSION),
  name: z
    .string({ error: (issue) => (issue.input === undefined ? "Name is required" : "Name must be a string") })
    .trim()
    .min(1, "Name is required").max(200, "Name is at most 200 characters"),
  description: z.string().max(5000).default(""),
  steps: z.array(Step).max(500, "A workflow has at most 500 steps").default([]),
  edges: z.array(Edge).max(2000, "A workflow has at most 2000 edges").default([]),
  /** Workflow-level settings (docs/run-engine.md): part of the draft, published with it. */
  settings: WorkflowSettings.default({}),
  /** Pinned step outputs (R47): absent when nothing is pinned. */
  pinned: PinnedOutputs.optional(),
  /** Test cases (R49), ordered by id: absent when there are none. */
  testCases: z.array(TestCase).max(100, "A workflow has at most 100 test cases").optional(),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinition>;

/** A fresh workflow: a manual trigger, ready for its first step. */
export function emptyDefinition(name: string, description = ""): WorkflowDefinition {
  return WorkflowDefinition.parse({
    name,
    description,
    steps: [{ id: "trigger", type: "trigger.manual", name: "Manual trigger", position: { x: 0, y: 0 } }],
  });
}

/** The definition a run that ignores pins captures (published and test runs, R48). */
export function withoutPins<T extends { pinned?: unknown }>(definition: T): Omit<T, "pinned"> {
  const { pinned: _pinned, ...rest } = definition;
  return rest;
}
