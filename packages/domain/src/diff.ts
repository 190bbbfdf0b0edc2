import type { Edge, Step, WorkflowDefinition } from "./definition.js";

/** What changed between two definitions: for version history, the studio's visual diff and the API. */
export interface DefinitionDiff {
  nameChanged: boolean;
  descriptionChanged: boolean;
  stepsAdded: Step[];
  stepsRemoved: Step[];
  /** Steps in both, with the top-level fields that differ (`type`, `name`, `config`, `position`, `notes`). */
  stepsChanged: { id: string; fields: (keyof Step)[]; before: Step; after: Step }[];
  edgesAdded: Edge[];
  edgesRemoved: Edge[];
  edgesChanged: { id: string; before: Edge; after: Edge }[];
}

/** Deep equality of JSON values, ignoring object key order (stored JSON may come back reordered). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((item, index) => same(item, (b as unknown[])[index]));
  const keysA = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const keysB = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  return keysA.length === keysB.length && keysA.every((key) => same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
const STEP_FIELDS: (keyof Step)[] = ["type", "key", "name", "config", "position", "notes"];

export function diffDefinitions(before: WorkflowDefinition, after: WorkflowDefinition): DefinitionDiff {
  const beforeSteps = new Map(before.steps.map((step) => [step.id, step]));
  const afterSteps = new Map(after.steps.map((step) => [step.id, step]));
  const beforeEdges = new Map(before.edges.map((edge) => [edge.id, edge]));
  const afterEdges = new Map(after.edges.map((edge) => [edge.id, edge]));
  const diff: DefinitionDiff = {
    nameChanged: before.name !== after.name,
    descriptionChanged: before.description !== after.description,
    stepsAdded: after.steps.filter((step) => !beforeSteps.has(step.id)),
    stepsRemoved: before.steps.filter((step) => !afterSteps.has(step.id)),
    stepsChanged: [],
    edgesAdded: after.edges.filter((edge) => !beforeEdges.has(edge.id)),
    edgesRemoved: before.edges.filter((edge) => !afterEdges.has(edge.id)),
    edgesChanged: [],
  };
  for (const step of after.steps) {
    const old = beforeSteps.get(step.id);
    if (!old) continue;
    const fields = STEP_FIELDS.filter((field) => !same(old[field] ?? null, step[field] ?? null));
    if (fields.length) diff.stepsChanged.push({ id: step.id, fields, before: old, after: step });
  }
  for (const edge of after.edges) {
    const old = beforeEdges.get(edge.id);
    if (old && !same(old, edge)) diff.edgesChanged.push({ id: edge.id, before: old, after: edge });
  }
  return diff;
}

export function isEmptyDiff(diff: DefinitionDiff): boolean {
  return (
    !diff.nameChanged &&
    !diff.descriptionChanged &&
    [diff.stepsAdded, diff.stepsRemoved, diff.stepsChanged, diff.edgesAdded, diff.edgesRemoved, diff.edgesChanged].every((list) => list.length === 0)
  );
}
