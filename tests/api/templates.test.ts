/**
 * The templates gallery through both doors (issue #17): GraphQL `workflowTemplates` and the REST routes
 * `GET /api/templates` and `GET /api/templates/:id` answer the same templates, without sign-in; an unknown id is
 * a 404 that says where the ids are; and every template, created as a workflow the way the studio's "Use
 * template" does (createWorkflow with its definition and its title as name), has no problem but "Choose a
 * credential" on the steps that need one, and no step that never runs.
 */
import { CREDENTIAL_TYPE_NAMES, reachabilityWarnings, stepTypes, TEMPLATE_CATEGORIES, WorkflowDefinition, type StepType } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { gql, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Templates");
});
afterAll(async () => {
  await stack?.close();
});

interface Template {
  id: string;
  title: string;
  description: string;
  category: string;
  credentialTypes: string[];
  definition: WorkflowDefinition;
}
const TEMPLATES = `{ workflowTemplates { id title description category credentialTypes definition } }`;
const graphqlTemplates = async (token?: string) => ok(await gql<{ workflowTemplates: Template[] }>(stack.url, TEMPLATES, {}, token)).workflowTemplates;

describe("the gallery, by GraphQL and REST", () => {
  it("GraphQL lists six or more templates, each with what the gallery shows, without sign-in", async () => {
    const templates = await graphqlTemplates();
    expect(templates.length).toBeGreaterThanOrEqual(6);
    expect(new Set(templates.map((t) => t.id)).size).toBe(templates.length);
    for (const template of templates) {
      expect(template.id, template.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(template.title.length, template.id).toBeGreaterThan(0);
      expect(template.description.length, template.id).toBeGreaterThan(0);
      expect(TEMPLATE_CATEGORIES, template.id).toContain(template.category);
      for (const type of template.credentialTypes) expect(CREDENTIAL_TYPE_NAMES, template.id).toContain(type);
      expect(template.definition.name, template.id).toBe(template.title);
    }
    // The gallery covers more than one kind of work.
    expect(new Set(templates.map((t) => t.category)).size).toBeGreaterThanOrEqual(4);
    // Signed in, the same list.
    expect(await graphqlTemplates(user.token)).toEqual(templates);
  });

  it("GET /api/templates answers the same list, in the same order, as a page; without sign-in", async () => {
    const listed = await rest(stack.url, "GET", "/api/templates");
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    expect(listed.body.items).toEqual(await graphqlTemplates());
  });

  it("GET /api/templates/:id answers one template; its credential types are those its steps need", async () => {
    const one = await rest(stack.url, "GET", "/api/templates/llm-summarise");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: "llm-summarise", title: "Summarise text with an LLM", category: "AI", credentialTypes: ["openai"] });
    expect(one.body.definition.steps.map((step: { type: string }) => step.type)).toEqual(["trigger.webhook", "openai.chat", "transform"]);
    const noCredentials = await rest(stack.url, "GET", "/api/templates/code-transform", { token: user.token });
    expect(noCredentials.body.credentialTypes).toEqual([]);
  });

  it("an unknown template id is a 404 NOT_FOUND that says where the ids are", async () => {
    const missing = await rest(stack.url, "GET", "/api/templates/no-such-template");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: "NOT_FOUND", message: 'No template "no-such-template": GET /api/templates lists the templates and their ids', details: null },
    });
    // A long id is echoed shortened, and other methods are refused with Allow.
    const long = await rest(stack.url, "GET", `/api/templates/${"x".repeat(500)}`);
    expect(long.status).toBe(404);
    expect(long.body.error.message.length).toBeLessThan(200);
    const posted = await rest(stack.url, "POST", "/api/templates", { json: {} });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toContain("GET");
  });
});

describe("a workflow created from each template", () => {
  it("validates except for choosing a credential, and every step can run", { timeout: 60_000 }, async () => {
    const templates = await graphqlTemplates();
    for (const template of templates) {
      // What the studio's "Use template" sends.
      const created = ok(
        await gql(
          stack.url,
          `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name definition problems { code stepId path message } } }`,
          { input: { workspaceId: user.workspaceId, name: template.title, definition: template.definition } },
          user.token
        )
      ).createWorkflow as {
        id: string;
        name: string;
        definition: WorkflowDefinition;
        problems: { code: string; stepId: string | null; path: string[] | null; message: string }[];
      };
      expect(created.name, template.id).toBe(template.title);
      expect(
        created.definition.steps.map((step) => step.id),
        template.id
      ).toEqual(template.definition.steps.map((step) => step.id));

      // Templates leave `credentialId: ""` where the user picks their own: exactly those steps have a problem.
      const needCredential = template.definition.steps.filter((step) => "credentialId" in step.config).map((step) => step.id);
      const notCredential = created.problems.filter((problem) => !(problem.code === "INVALID_CONFIG" && problem.path?.[0] === "credentialId"));
      expect(notCredential, `${template.id}: problems other than "Choose a credential"`).toEqual([]);
      expect(created.problems.map((problem) => problem.stepId).sort(), template.id).toEqual([...needCredential].sort());
      expect(
        created.problems.every((problem) => problem.message.endsWith("Choose a credential")),
        template.id
      ).toBe(true);
      // The credential types the gallery shows are those of the steps that need one, each once.
      const typeOf = (stepId: string) =>
        (stepTypes[template.definition.steps.find((step) => step.id === stepId)!.type as StepType] as { credentialType?: string }).credentialType;
      const types = [...new Set(needCredential.map(typeOf))];
      expect(template.credentialTypes, template.id).toEqual(types);
      // No step that no trigger leads to (the editor's warning).
      expect(reachabilityWarnings(WorkflowDefinition.parse(created.definition)), template.id).toEqual([]);
    }
  });
});
