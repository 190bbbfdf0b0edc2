import { STEP_TYPE_NAMES, stepConfigJsonSchema, stepTypes } from "@algorythmos/domain";
import { builder } from "../builder.js";

interface StepTypeView {
  type: string;
  label: string;
  description: string;
  category: string;
  configSchema: unknown;
}

// Computed once: the registry is static.
const STEP_TYPES: StepTypeView[] = STEP_TYPE_NAMES.map((type) => ({
  type,
  label: stepTypes[type].label,
  description: stepTypes[type].description,
  category: stepTypes[type].category,
  configSchema: stepConfigJsonSchema(type),
}));

export function listStepTypes(): StepTypeView[] {
  return STEP_TYPES;
}

const StepTypeRef = builder.objectRef<StepTypeView>("StepType").implement({
  fields: (t) => ({
    type: t.exposeString("type"),
    label: t.exposeString("label"),
    description: t.exposeString("description"),
    category: t.exposeString("category"),
    configSchema: t.field({ type: "JSON", description: "The step's config as JSON Schema.", resolve: (s) => s.configSchema }),
  }),
});

builder.queryField("stepTypes", (t) => t.field({ type: [StepTypeRef], resolve: () => STEP_TYPES }));
