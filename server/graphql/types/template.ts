import { WORKFLOW_TEMPLATES, type WorkflowTemplate } from "@algorythmos/domain";
import { builder } from "../builder.js";

const WorkflowTemplateRef = builder.objectRef<WorkflowTemplate>("WorkflowTemplate").implement({
  description: "A ready-made workflow from the templates gallery. Create one with createWorkflow(input: { workspaceId, name, definition }).",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable template id, e.g. llm-summarise." }),
    title: t.exposeString("title", { description: "Its name for people (also the created workflow's default name)." }),
    description: t.exposeString("description", { description: "One line: what it does." }),
    category: t.exposeString("category", { description: "Its gallery group: Notifications, AI, Approvals, Monitoring or Data." }),
    credentialTypes: t.exposeStringList("credentialTypes", { description: "Credential types (Credential.type) its steps need before it can run; empty when none." }),
    definition: t.field({ type: "JSON", description: "The workflow definition to pass to createWorkflow.", resolve: (template) => template.definition }),
  }),
});

builder.queryField("workflowTemplates", (t) =>
  t.field({ type: [WorkflowTemplateRef], description: "The templates gallery, in display order. No sign-in needed.", resolve: () => WORKFLOW_TEMPLATES }),
);
