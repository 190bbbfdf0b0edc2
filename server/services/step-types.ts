import { STEP_TYPE_NAMES, stepConfigJsonSchema, stepOutputJsonSchema, stepTypes } from "@algorythmos/domain";

export interface StepTypeView {
  type: string;
  label: string;
  description: string;
  category: string;
  sideEffects: string;
  /** The Credential.type its `config.credentialId` names; null for a step without a credential. */
  credentialType: string | null;
  configSchema: unknown;
  outputSchema: unknown;
}

// Computed once: the registry is static.
const STEP_TYPES: StepTypeView[] = STEP_TYPE_NAMES.map((type) => ({
  type,
  label: stepTypes[type].label,
  description: stepTypes[type].description,
  category: stepTypes[type].category,
  sideEffects: stepTypes[type].sideEffects,
  credentialType: stepTypes[type].credentialType ?? null,
  configSchema: stepConfigJsonSchema(type),
  outputSchema: stepOutputJsonSchema(type),
}));

export function listStepTypes(): StepTypeView[] {
  return STEP_TYPES;
}
