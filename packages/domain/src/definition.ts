import { z } from "zod";

/** The workflow definition: the one JSON shape of a workflow graph, shared by every part. */
export const DEFINITION_SCHEMA_VERSION = 1 as const;

export const StepId = z
  .string()
  .min(1, "Step id is required")
  .max(64, "Step id is at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "Step id may contain letters, digits, '_' and '-' only");

export const Position = z.object({ x: z.number().finite(), y: z.number().finite() });
export type Position = z.infer<typeof Position>;

export const Step = z.object({
  id: StepId,
  type: z.string().min(1, "Step type is required"),
  name: z.string().max(200).default(""),
  config: z.record(z.string(), z.unknown()).default({}),
  position: Position.default({ x: 0, y: 0 }),
  /** Plain text of the step's collaborative notes (read-only projection of the Y.XmlFragment). */
  notes: z.string().optional(),
});
export type Step = z.infer<typeof Step>;

export const EdgeLabel = z.enum(["true", "false"]);
export const Edge = z.object({
  id: z.string().min(1, "Edge id is required").max(128),
  source: StepId,
  target: StepId,
  label: EdgeLabel.optional(),
});
export type Edge = z.infer<typeof Edge>;

export const WorkflowDefinition = z.object({
  schemaVersion: z.literal(DEFINITION_SCHEMA_VERSION).default(DEFINITION_SCHEMA_VERSION),
  name: z
    .string({ error: (issue) => (issue.input === undefined ? "Name is required" : "Name must be a string") })
    .trim()
    .min(1, "Name is required").max(200, "Name is at most 200 characters"),
  description: z.string().max(5000).default(""),
  steps: z.array(Step).max(500, "A workflow has at most 500 steps").default([]),
  edges: z.array(Edge).max(2000, "A workflow has at most 2000 edges").default([]),
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
