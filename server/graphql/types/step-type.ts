import { builder } from "../builder.js";
import { listStepTypes, type StepTypeView } from "../../services/step-types.js";

const StepTypeRef = builder.objectRef<StepTypeView>("StepType").implement({
  fields: (t) => ({
    type: t.exposeString("type"),
    label: t.exposeString("label"),
    description: t.exposeString("description"),
    category: t.exposeString("category"),
    sideEffects: t.exposeString("sideEffects", { description: "none, idempotent (retried safely) or at-most-once (never sent twice silently)." }),
    configSchema: t.field({ type: "JSON", description: "The step's config as JSON Schema.", resolve: (s) => s.configSchema }),
  }),
});

builder.queryField("stepTypes", (t) => t.field({ type: [StepTypeRef], resolve: () => listStepTypes() }));
