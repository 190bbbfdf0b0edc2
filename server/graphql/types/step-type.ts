import { builder } from "../builder.js";
import { listStepTypes, type StepTypeView } from "../../services/step-types.js";

const StepTypeRef = builder.objectRef<StepTypeView>("StepType").implement({
  description: "A kind of step a workflow can hold (the step registry).",
  fields: (t) => ({
    type: t.exposeString("type", { description: "Its name in definitions, e.g. http.request." }),
    label: t.exposeString("label", { description: "Its name for people." }),
    description: t.exposeString("description", { description: "What it does." }),
    category: t.exposeString("category", { description: "Its group in the studio's palette, e.g. trigger." }),
    sideEffects: t.exposeString("sideEffects", { description: "What it does outside: none, idempotent (retried safely) or at-most-once (never sent twice silently)." }),
    credentialType: t.exposeString("credentialType", {
      nullable: true,
      description: "The Credential.type its config.credentialId names (openai, postmark, httpHeader); null when it takes no credential.",
    }),
    configSchema: t.field({ type: "JSON", description: "The step's config as JSON Schema.", resolve: (s) => s.configSchema }),
    outputSchema: t.field({ type: "JSON", description: "What a succeeded step records as its output (steps.<id>.output), as JSON Schema.", resolve: (s) => s.outputSchema }),
  }),
});

builder.queryField("stepTypes", (t) =>
  t.field({ type: [StepTypeRef], description: "Every step type, with its config schema. No sign-in needed.", resolve: () => listStepTypes() }),
);
