import { isStepType, stepTypes } from "./step-types.js";

/**
 * What a step is called on screen: its name, or — when the name is empty — "Untitled <type label>", never
 * the internal id (defect 8 of issue #17: an emptied name showed `step_0insp4brb9up`).
 */
export function stepDisplayName(step: { name?: string | undefined; type: string }, typeLabel?: string): string {
  const name = step.name?.trim();
  if (name) return step.name!;
  return `Untitled ${typeLabel ?? (isStepType(step.type) ? stepTypes[step.type].label : step.type)}`;
}
