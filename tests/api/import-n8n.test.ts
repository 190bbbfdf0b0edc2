/**
 * importWorkflow with foreign JSON (defect 9): an n8n export becomes steps and edges on GraphQL and REST, with
 * what could not be carried over reported per node; an unknown format is a 400 that says what was expected;
 * a definition without a name names `name`.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, gql, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Importer");
});
afterAll(async () => {
  await stack?.close();
});

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/n8n/${name}`, import.meta.url), "utf8"));
const IMPORT = `mutation($input: ImportWorkflowInput!) {
  importWorkflow(input: $input) { id name definition importReport { format problems { code message nodeName nodeType stepId } } }
}`;
const IMPORT_PLAIN = `mutation($input: ImportWorkflowInput!) { importWorkflow(input: $input) { id name definition } }`;
const WORKFLOWS = `query($ws: ID!) { workflows(workspaceId: $ws, first: 100) { edges { node { id } } } }`;

describe("importWorkflow with an n8n export", () => {
  it("keeps the nodes it can map as steps and edges, named and placed as in n8n (GraphQL)", async () => {
    const imported = ok(await gql(stack.url, IMPORT_PLAIN, { input: { workspaceId: user.workspaceId, json: fixture("orders-v1.json") } }, user.token)).importWorkflow;
    expect(imported.name).toBe("Order sync (n8n 0.2xx nodes)");
    const steps = imported.definition.steps as { name: string; type: string; position: { x: number; y: number } }[];
    expect(steps.map((step) => [step.name, step.type])).toEqual([
      ['When clicking "Execute Workflow"', "trigger.manual"],
      ["Fetch order", "http.request"],
      ["Paid and large?", "condition"],
      ["Mark priority", "transform"],
      ["Mark normal", "transform"],
    ]);
    expect(steps[1]!.position).toEqual({ x: 460, y: 300 });
    expect(imported.definition.edges.map((edge: { label?: string }) => edge.label ?? null)).toEqual([null, null, "true", "false"]);
  });

  it("reports the node it has no equivalent for, and the edge into it, instead of dropping them silently", async () => {
    const imported = ok(await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: fixture("orders-v1.json") } }, user.token)).importWorkflow;
    expect(imported.importReport.format).toBe("n8n");
    const slack = imported.importReport.problems.filter((problem: { nodeName: string }) => problem.nodeName === "Slack");
    expect(slack.map((problem: { code: string }) => problem.code)).toEqual(["UNSUPPORTED_NODE", "CONNECTION_NOT_IMPORTED"]);
    expect(slack[0].message).toBe('unsupported n8n node "n8n-nodes-base.slack" (Slack)');
  });

  it("is 201 over REST with the same steps and the problems in importReport", async () => {
    const answer = await rest(stack.url, "POST", "/api/workflows/import", { token: user.token, json: { workspaceId: user.workspaceId, json: fixture("webhook-v2-http-v4.json") } });
    expect(answer.status).toBe(201);
    expect(answer.body.definition.steps.map((step: { type: string }) => step.type)).toEqual([
      "trigger.webhook",
      "condition",
      "http.request",
      "openai.chat",
      "delay",
      "transform",
    ]);
    expect(answer.body.importReport.format).toBe("n8n");
    expect(answer.body.importReport.problems.map((problem: { code: string }) => problem.code)).toContain("CREDENTIAL_NOT_IMPORTED");
  });

  it("imports a clipboard copy of n8n nodes (no name) under a default name", async () => {
    const imported = ok(await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: JSON.stringify(fixture("webhook-v1-cron-clipboard.json")) } }, user.token)).importWorkflow;
    expect(imported.name).toBe("Imported from n8n");
    expect(imported.definition.steps).toHaveLength(4);
  });
});

describe("importWorkflow refuses what it cannot read, and names why", () => {
  it("unknown JSON is BAD_USER_INPUT (400 on REST) saying which formats are expected, and creates nothing", async () => {
    const before = ok(await gql(stack.url, WORKFLOWS, { ws: user.workspaceId }, user.token)).workflows.edges.length;
    const zapier = { zap: { title: "Zap", steps: undefined }, trigger: { app: "gmail" } };
    const viaGraphql = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: zapier } }, user.token);
    expect(codeOf(viaGraphql)).toBe("BAD_USER_INPUT");
    expect(viaGraphql.errors![0]!.message).toMatch(/expected .*"format".*"definition".*"steps".*n8n.*"nodes".*"connections"/);
    const viaRest = await rest(stack.url, "POST", "/api/workflows/import", { token: user.token, json: { workspaceId: user.workspaceId, json: [1, 2] } });
    expect(viaRest.status).toBe(400);
    expect(viaRest.body.error.code).toBe("BAD_USER_INPUT");
    expect(viaRest.body.error.message).toMatch(/expected/);
    expect(ok(await gql(stack.url, WORKFLOWS, { ws: user.workspaceId }, user.token)).workflows.edges.length).toBe(before);
  });

  it("a definition without a name names input.json.name with 'Name is required'", async () => {
    const result = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: { steps: [], edges: [] } } }, user.token);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(result.errors![0]!.extensions!.fields).toEqual([{ path: ["input", "json", "name"], message: "Name is required" }]);
  });

  it("an n8n node list that is not a list is an error at input.json.nodes", async () => {
    const result = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: { name: "x", nodes: {}, connections: {} } } }, user.token);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(result.errors![0]!.extensions!.fields[0].path).toEqual(["input", "json", "nodes"]);
  });
});
