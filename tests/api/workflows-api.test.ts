/**
 * Workflows, runs, versions and credentials through both doors: REST and GraphQL share the services, so they
 * must agree on the same data; list shapes, creates (201), pagination; the lifecycle round trips
 * (update, duplicate, delete, export → import); versions with diff and restore; credentials that are never
 * readable back; and the OpenAPI document describing every REST route.
 */
import { decryptSecret } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { createServerApp } from "../../server/app.js";
import { codeOf, createWorkflow, definitionWith, gql, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  user = await signUp(stack.url, "Workflows");
});
afterAll(async () => {
  await stack?.close();
});

/** Steps and edges are a graph: compared by id, whatever order the document keeps them in. */
const sortById = <T extends { id: string }>(list: T[]) => [...list].sort((x, y) => x.id.localeCompare(y.id));
const idsOf = (list: { id: string }[]) => list.map((item) => item.id).sort();
const unique = (prefix: string) => `${prefix} ${randomBytes(4).toString("hex")}`;
const WORKFLOW_FIELDS = `id workspaceId name description definition latestVersion createdAt updatedAt`;
const GET_WORKFLOW = `query($id: ID!) { workflow(id: $id) { ${WORKFLOW_FIELDS} } }`;
const EXPORT = `query($id: ID!) { workflow(id: $id) { export } }`;
const UPDATE = `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { ${WORKFLOW_FIELDS} } }`;
const IMPORT = `mutation($input: ImportWorkflowInput!) { importWorkflow(input: $input) { ${WORKFLOW_FIELDS} } }`;
const CREATE_VERSION = `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id version label definition workflowId authorId } }`;
const DIFF = `query($from: ID!, $to: ID) { versionDiff(fromVersionId: $from, toVersionId: $to) { nameChanged descriptionChanged stepsAdded stepsRemoved stepsChanged edgesAdded edgesRemoved edgesChanged } }`;
const CREATE_CREDENTIAL = `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id workspaceId name type createdAt } }`;

/** The fields of a failed call: extensions.fields on GraphQL, error.details.fields on REST. */
const fieldPaths = (fields: { path: (string | number)[] }[] | undefined) => (fields ?? []).map((field) => field.path.join("."));

/** A workspace of its own, so list and pagination assertions see only this test's workflows. */
async function freshWorkspace(): Promise<string> {
  return ok(await gql(stack.url, `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }`, { input: { name: unique("ws") } }, user.token))
    .createWorkspace.id;
}

describe("REST and GraphQL agree", () => {
  it("a workflow created through REST (201) reads the same through GraphQL", async () => {
    const name = unique("From REST");
    const created = await rest(stack.url, "POST", "/api/workflows", {
      token: user.token,
      json: { workspaceId: user.workspaceId, name, description: "made over REST", definition: definitionWith(name, ["a"]) },
    });
    expect(created.status).toBe(201);
    const viaGraphql = ok(await gql(stack.url, GET_WORKFLOW, { id: created.body.id }, user.token)).workflow;
    expect(viaGraphql).toEqual({
      id: created.body.id,
      workspaceId: user.workspaceId,
      name,
      description: "made over REST",
      definition: created.body.definition,
      latestVersion: created.body.latestVersion,
      createdAt: created.body.createdAt,
      updatedAt: created.body.updatedAt,
    });
    expect(idsOf(viaGraphql.definition.steps)).toEqual(["a", "start"]);
  });

  it("a workflow created through GraphQL reads the same through REST", async () => {
    const name = unique("From GraphQL");
    const created = ok(
      await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ${WORKFLOW_FIELDS} } }`, {
        input: { workspaceId: user.workspaceId, name, definition: definitionWith(name, ["a", "b"]) },
      }, user.token),
    ).createWorkflow;
    const viaRest = await rest(stack.url, "GET", `/api/workflows/${created.id}`, { token: user.token });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toMatchObject(created);
  });

  it("lists are { items, nextCursor }; first/after pages through every workflow once, newest first, on both", async () => {
    const workspaceId = await freshWorkspace();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createWorkflow(stack.url, user.token, workspaceId, `page ${i}`)).id);
    const newestFirst = [...ids].reverse();

    const restPages: { items: { id: string }[]; nextCursor: string | null }[] = [];
    let after: string | null = null;
    do {
      const page: { status: number; body: any } = await rest(stack.url, "GET", `/api/workflows?workspaceId=${workspaceId}&first=2${after ? `&after=${encodeURIComponent(after)}` : ""}`, { token: user.token });
      expect(page.status).toBe(200);
      expect(Object.keys(page.body).sort()).toEqual(["items", "nextCursor"]);
      restPages.push(page.body);
      after = page.body.nextCursor;
    } while (after && restPages.length < 10);
    expect(restPages.map((page) => page.items.length)).toEqual([2, 2, 1]);
    expect(restPages.at(-1)!.nextCursor).toBeNull();
    expect(restPages.flatMap((page) => page.items.map((item) => item.id))).toEqual(newestFirst);

    const LIST = `query($ws: ID!, $after: String) { workflows(workspaceId: $ws, first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const graphqlIds: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: any = ok(await gql(stack.url, LIST, { ws: workspaceId, after: cursor }, user.token)).workflows;
      graphqlIds.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      cursor = page.pageInfo.endCursor;
    }
    expect(graphqlIds).toEqual(newestFirst);

    // One cursor format: a REST cursor pages GraphQL and the other way round.
    const fromRestCursor = ok(await gql(stack.url, LIST, { ws: workspaceId, after: restPages[0]!.nextCursor }, user.token)).workflows;
    expect(fromRestCursor.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(newestFirst.slice(2, 4));
  });

  it("a Relay edge cursor works as `after` (clients page from the last edge's cursor)", async () => {
    const workspaceId = await freshWorkspace();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await createWorkflow(stack.url, user.token, workspaceId, `edge ${i}`)).id);
    const LIST = `query($ws: ID!, $after: String) { workflows(workspaceId: $ws, first: 2, after: $after) { edges { cursor node { id } } } }`;
    const first = ok(await gql(stack.url, LIST, { ws: workspaceId }, user.token)).workflows;
    const next = await gql(stack.url, LIST, { ws: workspaceId, after: first.edges.at(-1).cursor }, user.token);
    expect(codeOf(next), JSON.stringify(next.errors)).toBe("OK");
    expect(next.data!.workflows.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([ids[1], ids[0]]);
  });

  it("bad page arguments are BAD_USER_INPUT (GraphQL) and 400 (REST)", async () => {
    const LIST = `query($ws: ID!, $first: Int, $after: String) { workflows(workspaceId: $ws, first: $first, after: $after) { edges { node { id } } } }`;
    expect(codeOf(await gql(stack.url, LIST, { ws: user.workspaceId, first: 101 }, user.token))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(stack.url, LIST, { ws: user.workspaceId, first: 0 }, user.token))).toBe("BAD_USER_INPUT");
    expect(codeOf(await gql(stack.url, LIST, { ws: user.workspaceId, after: "not-a-cursor" }, user.token))).toBe("BAD_USER_INPUT");
    const restBad = await rest(stack.url, "GET", `/api/workflows?workspaceId=${user.workspaceId}&first=500`, { token: user.token });
    expect(restBad.status).toBe(400);
    expect(restBad.body).toMatchObject({ error: { code: "BAD_USER_INPUT", message: expect.any(String) } });
  });

  it("runs: started over REST (201), the same through GraphQL run(id), runs(workflowId) and /api/runs", async () => {
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, unique("Runs"));
    const started = await rest(stack.url, "POST", "/api/runs", { token: user.token, json: { workflowId: workflow.id, input: { from: "rest" } } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ workflowId: workflow.id, status: "queued", input: { from: "rest" } });

    const viaGraphql = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { id workflowId status trigger input output error createdAt startedAt finishedAt steps { id } } }`, { id: started.body.id }, user.token)).run;
    const { steps, ...run } = viaGraphql;
    expect(started.body).toMatchObject(run);
    expect(steps).toEqual([]);

    const second = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id, input: { from: "graphql" } } }, user.token)).startRun;
    const restRun = await rest(stack.url, "GET", `/api/runs/${second.id}`, { token: user.token });
    expect(restRun.body).toMatchObject({ id: second.id, input: { from: "graphql" } });

    const restList = await rest(stack.url, "GET", `/api/runs?workflowId=${workflow.id}`, { token: user.token });
    expect(restList.body.nextCursor).toBeNull();
    expect(restList.body.items.map((item: { id: string }) => item.id)).toEqual([second.id, started.body.id]);
    const graphqlList = ok(await gql(stack.url, `query($id: ID!) { runs(workflowId: $id) { edges { node { id } } } }`, { id: workflow.id }, user.token)).runs;
    expect(graphqlList.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([second.id, started.body.id]);

    const filtered = await rest(stack.url, "GET", `/api/runs?workflowId=${workflow.id}&status=succeeded`, { token: user.token });
    expect(filtered.body.items).toEqual([]);
    const steps2 = await rest(stack.url, "GET", `/api/steps?runId=${started.body.id}`, { token: user.token });
    expect(steps2).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    expect((await rest(stack.url, "GET", `/api/runs`, { token: user.token })).status).toBe(400);
  });

  it("an invalid workflow cannot start: 422 UNPROCESSABLE on REST, the same code on GraphQL", async () => {
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, unique("No trigger"), { name: "x", steps: [], edges: [] });
    const viaRest = await rest(stack.url, "POST", "/api/runs", { token: user.token, json: { workflowId: workflow.id } });
    expect(viaRest.status).toBe(422);
    expect(viaRest.body).toMatchObject({ error: { code: "UNPROCESSABLE" } });
    const viaGraphql = await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, user.token);
    expect(codeOf(viaGraphql)).toBe("UNPROCESSABLE");
  });

  it("step types and workspaces are the same lists on both", async () => {
    const restTypes = await rest(stack.url, "GET", "/api/step-types", { token: user.token });
    const graphqlTypes = ok(await gql(stack.url, `{ stepTypes { type label description category sideEffects credentialType configSchema outputSchema } }`, {}, user.token)).stepTypes;
    expect(restTypes.body).toEqual({ items: graphqlTypes, nextCursor: null });
    expect(graphqlTypes.map((t: { type: string }) => t.type)).toEqual(expect.arrayContaining(["trigger.manual", "http.request"]));

    const restWorkspaces = await rest(stack.url, "GET", "/api/workspaces", { token: user.token });
    const me = ok(await gql(stack.url, `{ me { workspaces { id name role } } }`, {}, user.token)).me;
    expect(restWorkspaces.body).toEqual({ items: me.workspaces, nextCursor: null });
  });
});

describe("workflow lifecycle", () => {
  it("updateWorkflow changes name, description and definition; REST PATCH too; both read back the change", async () => {
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, unique("Update me"));
    const updated = ok(
      await gql(stack.url, UPDATE, { input: { id: workflow.id, name: "Renamed", description: "now described", definition: definitionWith("ignored", ["a"]) } }, user.token),
    ).updateWorkflow;
    expect(updated).toMatchObject({ name: "Renamed", description: "now described" });
    expect(idsOf(updated.definition.steps)).toEqual(["a", "start"]);
    expect((await rest(stack.url, "GET", `/api/workflows/${workflow.id}`, { token: user.token })).body).toMatchObject({ name: "Renamed", description: "now described" });

    const patched = await rest(stack.url, "PATCH", `/api/workflows/${workflow.id}`, { token: user.token, json: { name: "Patched" } });
    expect(patched.status).toBe(200);
    expect(idsOf(patched.body.definition.steps)).toEqual(["a", "start"]);
    const read = ok(await gql(stack.url, GET_WORKFLOW, { id: workflow.id }, user.token)).workflow;
    expect(read).toMatchObject({ name: "Patched", description: "now described" });
  });

  it("an invalid definition in updateWorkflow is BAD_USER_INPUT with the field path, and changes nothing", async () => {
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, unique("Keep me"), definitionWith("k", ["a"]));
    const bad = definitionWith("k", ["a"]);
    bad.steps[1]!.id = "not a valid id!";
    const result = await gql(stack.url, UPDATE, { input: { id: workflow.id, definition: bad } }, user.token);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldPaths(result.errors?.[0]?.extensions?.fields)).toContain("input.definition.steps.1.id");
    const viaRest = await rest(stack.url, "PATCH", `/api/workflows/${workflow.id}`, { token: user.token, json: { definition: bad } });
    expect(viaRest.status).toBe(400);
    expect(fieldPaths(viaRest.body.error.details?.fields)).toContain("input.definition.steps.1.id");
    const after = ok(await gql(stack.url, EXPORT, { id: workflow.id }, user.token)).workflow.export.definition;
    expect(idsOf(after.steps)).toEqual(["a", "start"]);
  });

  it("duplicateWorkflow copies the definition under a new id and a '(copy)' name; REST answers 201", async () => {
    const name = unique("Original");
    const original = await createWorkflow(stack.url, user.token, user.workspaceId, name, definitionWith(name, ["a", "b"]));
    const copy = ok(await gql(stack.url, `mutation($id: ID!) { duplicateWorkflow(id: $id) { ${WORKFLOW_FIELDS} } }`, { id: original.id }, user.token)).duplicateWorkflow;
    expect(copy.id).not.toBe(original.id);
    expect(copy.name).toBe(`${name} (copy)`);
    expect(sortById(copy.definition.steps)).toEqual(sortById(original.definition.steps));
    expect(sortById(copy.definition.edges)).toEqual(sortById(original.definition.edges));
    const viaRest = await rest(stack.url, "POST", `/api/workflows/${original.id}/duplicate`, { token: user.token });
    expect(viaRest.status).toBe(201);
    expect(sortById(viaRest.body.definition.steps)).toEqual(sortById(original.definition.steps));
  });

  it("deleteWorkflow returns the workflow, then it is NOT_FOUND everywhere, with its runs and versions gone", async () => {
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, unique("Doomed"));
    ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: workflow.id, label: "v1" } }, user.token));
    ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id } }, user.token));
    const deleted = ok(await gql(stack.url, `mutation($id: ID!) { deleteWorkflow(id: $id) { id name } }`, { id: workflow.id }, user.token)).deleteWorkflow;
    expect(deleted).toEqual({ id: workflow.id, name: workflow.name });
    expect(codeOf(await gql(stack.url, GET_WORKFLOW, { id: workflow.id }, user.token))).toBe("NOT_FOUND");
    const viaRest = await rest(stack.url, "GET", `/api/workflows/${workflow.id}`, { token: user.token });
    expect(viaRest.status).toBe(404);
    expect(viaRest.body).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(await stack.deps.db.run.count({ where: { workflowId: workflow.id } })).toBe(0);
    expect(await stack.deps.db.workflowSnapshot.count({ where: { workflowId: workflow.id } })).toBe(0);

    const other = await createWorkflow(stack.url, user.token, user.workspaceId, unique("Doomed via REST"));
    expect((await rest(stack.url, "DELETE", `/api/workflows/${other.id}`, { token: user.token })).status).toBe(200);
    expect((await rest(stack.url, "DELETE", `/api/workflows/${other.id}`, { token: user.token })).status).toBe(404);
  });

  it("export → import gives an equal definition (as JSON, as a JSON string, and over REST)", async () => {
    const name = unique("Exported");
    const source = await createWorkflow(stack.url, user.token, user.workspaceId, name, definitionWith(name, ["a", "b", "c"]));
    const exported = ok(await gql(stack.url, EXPORT, { id: source.id }, user.token)).workflow.export;
    expect(exported).toMatchObject({ format: "algorythmos.workflow/v1", definition: { name } });
    const restExport = await rest(stack.url, "GET", `/api/workflows/${source.id}/export`, { token: user.token });
    expect(restExport.body).toEqual(exported);

    for (const json of [exported, JSON.stringify(exported)]) {
      const imported = ok(await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json } }, user.token)).importWorkflow;
      expect(imported.id).not.toBe(source.id);
      const reexported = ok(await gql(stack.url, EXPORT, { id: imported.id }, user.token)).workflow.export;
      expect(reexported).toEqual(exported);
    }
    const viaRest = await rest(stack.url, "POST", "/api/workflows/import", { token: user.token, json: { workspaceId: user.workspaceId, json: exported } });
    expect(viaRest.status).toBe(201);
    expect(viaRest.body.definition).toEqual(exported.definition);
  });

  it("invalid import JSON is BAD_USER_INPUT with field paths, on GraphQL and REST, and creates nothing", async () => {
    const name = unique("Bad import");
    const broken = { format: "algorythmos.workflow/v1", definition: { ...definitionWith(name, ["a"]), edges: [{ id: "e", source: "start", target: "bad target!" }] } };
    const result = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: broken } }, user.token);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldPaths(result.errors?.[0]?.extensions?.fields)).toContain("input.json.definition.edges.0.target");

    const viaRest = await rest(stack.url, "POST", "/api/workflows/import", { token: user.token, json: { workspaceId: user.workspaceId, json: broken } });
    expect(viaRest.status).toBe(400);
    expect(viaRest.body.error.code).toBe("BAD_USER_INPUT");
    expect(fieldPaths(viaRest.body.error.details?.fields)).toContain("input.json.definition.edges.0.target");

    const unknownFormat = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: { format: "zapier/v9", definition: {} } } }, user.token);
    expect(fieldPaths(unknownFormat.errors?.[0]?.extensions?.fields)).toEqual(["input.json.format"]);
    const notJson = await gql(stack.url, IMPORT, { input: { workspaceId: user.workspaceId, json: "{ nope" } }, user.token);
    expect(codeOf(notJson)).toBe("BAD_USER_INPUT");
    expect(fieldPaths(notJson.errors?.[0]?.extensions?.fields)).toEqual(["input.json"]);

    expect(await stack.deps.db.workflow.count({ where: { name } })).toBe(0);
  });
});

describe("versions", () => {
  it("createVersion, change, versionDiff shows the change, restoreVersion brings the definition back", async () => {
    const name = unique("Versioned");
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, name, definitionWith(name, ["a"]));
    const v1 = ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: workflow.id, label: "first" } }, user.token)).createVersion;
    expect(v1).toMatchObject({ version: 1, label: "first", workflowId: workflow.id, authorId: user.userId });
    expect(sortById(v1.definition.steps)).toEqual(sortById(workflow.definition.steps));

    const changed = definitionWith(name, ["a", "b"]);
    changed.steps[1]!.name = "A renamed";
    ok(await gql(stack.url, UPDATE, { input: { id: workflow.id, definition: changed } }, user.token));

    const diff = ok(await gql(stack.url, DIFF, { from: v1.id }, user.token)).versionDiff;
    expect(diff.stepsAdded.map((step: { id: string }) => step.id)).toEqual(["b"]);
    expect(diff.edgesAdded.map((edge: { id: string }) => edge.id)).toEqual(["e-b"]);
    expect(diff.stepsChanged.map((change: { id: string }) => change.id)).toEqual(["a"]);
    expect(diff.stepsChanged[0].fields).toContain("name");
    expect(diff.stepsRemoved).toEqual([]);
    const restDiff = await rest(stack.url, "GET", `/api/versions/${v1.id}/diff`, { token: user.token });
    expect(restDiff.body).toEqual(diff);

    const v2 = ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: workflow.id, label: "second" } }, user.token)).createVersion;
    expect(v2.version).toBe(2);
    const between = ok(await gql(stack.url, DIFF, { from: v1.id, to: v2.id }, user.token)).versionDiff;
    expect({ stepsAdded: between.stepsAdded, edgesAdded: between.edgesAdded, changed: between.stepsChanged.map((c: { id: string }) => c.id) }).toEqual({
      stepsAdded: diff.stepsAdded,
      edgesAdded: diff.edgesAdded,
      changed: ["a"],
    });
    const versions = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { latestVersion versions { id version label } } }`, { id: workflow.id }, user.token)).workflow;
    expect(versions.versions.map((v: { label: string }) => v.label)).toEqual(["second", "first"]);
    expect(versions.latestVersion).toBe(2);

    const restored = ok(await gql(stack.url, `mutation($id: ID!) { restoreVersion(versionId: $id) { id definition } }`, { id: v1.id }, user.token)).restoreVersion;
    expect(sortById(restored.definition.steps)).toEqual(sortById(v1.definition.steps));
    expect(sortById(restored.definition.edges)).toEqual(sortById(v1.definition.edges));
    const live = ok(await gql(stack.url, EXPORT, { id: workflow.id }, user.token)).workflow.export.definition;
    expect(sortById(live.steps)).toEqual(sortById(v1.definition.steps));
    const after = ok(await gql(stack.url, DIFF, { from: v1.id }, user.token)).versionDiff;
    expect(after).toMatchObject({ stepsAdded: [], stepsRemoved: [], edgesAdded: [], edgesRemoved: [] });
  });

  it("versionDiff names only the fields that changed, and a version diffed against the unchanged workflow is empty", async () => {
    // Step configs with several keys: equal objects must compare equal whatever order their keys come back in.
    const name = unique("Exact diff");
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, name, definitionWith(name, ["a"]));
    const v1 = ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: workflow.id, label: "exact" } }, user.token)).createVersion;

    const unchanged = ok(await gql(stack.url, DIFF, { from: v1.id }, user.token)).versionDiff;
    expect(unchanged).toEqual({
      nameChanged: false, descriptionChanged: false, stepsAdded: [], stepsRemoved: [], stepsChanged: [], edgesAdded: [], edgesRemoved: [], edgesChanged: [],
    });

    const renamed = definitionWith(name, ["a"]);
    renamed.steps[1]!.name = "A renamed";
    ok(await gql(stack.url, UPDATE, { input: { id: workflow.id, definition: renamed } }, user.token));
    const diff = ok(await gql(stack.url, DIFF, { from: v1.id }, user.token)).versionDiff;
    expect(diff.stepsChanged).toEqual([expect.objectContaining({ id: "a", fields: ["name"] })]);
  });

  it("REST: versions list, create (201), restore", async () => {
    const name = unique("REST versions");
    const workflow = await createWorkflow(stack.url, user.token, user.workspaceId, name, definitionWith(name, ["a"]));
    const created = await rest(stack.url, "POST", `/api/workflows/${workflow.id}/versions`, { token: user.token, json: { label: "rest v1" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ label: "rest v1", version: 1 });
    await rest(stack.url, "PATCH", `/api/workflows/${workflow.id}`, { token: user.token, json: { definition: definitionWith(name, ["a", "z"]) } });
    const list = await rest(stack.url, "GET", `/api/workflows/${workflow.id}/versions`, { token: user.token });
    expect(list.body).toMatchObject({ items: [{ id: created.body.id, label: "rest v1" }], nextCursor: null });
    const restored = await rest(stack.url, "POST", `/api/versions/${created.body.id}/restore`, { token: user.token });
    expect(restored.status).toBe(200);
    expect(idsOf(restored.body.definition.steps)).toEqual(["a", "start"]);
  });

  it("versions of two different workflows cannot be diffed against each other", async () => {
    const [a, b] = [await createWorkflow(stack.url, user.token, user.workspaceId, unique("A")), await createWorkflow(stack.url, user.token, user.workspaceId, unique("B"))];
    const va = ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: a.id, label: "a" } }, user.token)).createVersion;
    const vb = ok(await gql(stack.url, CREATE_VERSION, { input: { workflowId: b.id, label: "b" } }, user.token)).createVersion;
    expect(codeOf(await gql(stack.url, DIFF, { from: va.id, to: vb.id }, user.token))).toBe("BAD_USER_INPUT");
  });
});

describe("credentials", () => {
  it("a secret is never readable back (GraphQL, REST) and is not stored as plaintext", async () => {
    const plaintext = `sk-live-${randomBytes(12).toString("hex")}`;
    const name = unique("OpenAI");
    const created = ok(await gql(stack.url, CREATE_CREDENTIAL, { input: { workspaceId: user.workspaceId, name, type: "openai", secret: { apiKey: plaintext } } }, user.token))
      .createCredential;
    expect(created).toMatchObject({ name, type: "openai", workspaceId: user.workspaceId });

    const listed = ok(await gql(stack.url, `query($ws: ID!) { credentials(workspaceId: $ws) { id name type workspaceId createdAt } }`, { ws: user.workspaceId }, user.token));
    const viaWorkspace = ok(await gql(stack.url, `{ me { workspaces { credentials { id name } } } }`, {}, user.token));
    const viaRest = await rest(stack.url, "GET", `/api/workspaces/${user.workspaceId}/credentials`, { token: user.token });
    expect(viaRest.status).toBe(200);
    const restItem = viaRest.body.items.find((item: { id: string }) => item.id === created.id);
    expect(Object.keys(restItem).sort()).toEqual(["createdAt", "id", "name", "type", "workspaceId"]);
    for (const body of [created, listed, viaWorkspace, viaRest.body]) expect(JSON.stringify(body)).not.toContain(plaintext);
    expect(codeOf(await gql(stack.url, `query($ws: ID!) { credentials(workspaceId: $ws) { secret } }`, { ws: user.workspaceId }, user.token))).toBe(
      "GRAPHQL_VALIDATION_FAILED",
    );

    const row = await stack.deps.db.credential.findUnique({ where: { id: created.id }, select: { secret: true } });
    const stored = Buffer.from(row!.secret);
    expect(stored.includes(Buffer.from(plaintext))).toBe(false);
    expect(stored.toString("latin1")).not.toContain(plaintext);
    // …and the stored bytes are that secret, encrypted (not something else).
    expect(decryptSecret(stack.deps.env.CREDENTIALS_KEY, row!.secret)).toEqual({ apiKey: plaintext });
  });

  it("REST create answers 201 without the secret", async () => {
    const plaintext = `pm-${randomBytes(8).toString("hex")}`;
    const created = await rest(stack.url, "POST", "/api/credentials", {
      token: user.token,
      json: { workspaceId: user.workspaceId, name: unique("Postmark"), type: "postmark", secret: { serverToken: plaintext } },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(plaintext);
  });

  it("a duplicate name in a workspace is CONFLICT (GraphQL) and 409 (REST)", async () => {
    const name = unique("Twice");
    const input = { workspaceId: user.workspaceId, name, type: "postmark", secret: { serverToken: "one" } };
    ok(await gql(stack.url, CREATE_CREDENTIAL, { input }, user.token));
    const again = await gql(stack.url, CREATE_CREDENTIAL, { input: { ...input, secret: { serverToken: "two" } } }, user.token);
    expect(codeOf(again)).toBe("CONFLICT");
    const viaRest = await rest(stack.url, "POST", "/api/credentials", { token: user.token, json: input });
    expect(viaRest.status).toBe(409);
    expect(viaRest.body).toMatchObject({ error: { code: "CONFLICT", message: expect.any(String) } });
    expect(await stack.deps.db.credential.count({ where: { workspaceId: user.workspaceId, name } })).toBe(1);
  });

  it("a secret of the wrong shape for its type is BAD_USER_INPUT with a path under input.secret", async () => {
    const name = unique("Wrong shape");
    const result = await gql(stack.url, CREATE_CREDENTIAL, { input: { workspaceId: user.workspaceId, name, type: "openai", secret: { serverToken: "x" } } }, user.token);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldPaths(result.errors?.[0]?.extensions?.fields)).toEqual(["input.secret.apiKey"]);
    const header = await gql(stack.url, CREATE_CREDENTIAL, {
      input: { workspaceId: user.workspaceId, name, type: "httpHeader", secret: { headerName: "Bad Header", headerValue: "v" } },
    }, user.token);
    expect(fieldPaths(header.errors?.[0]?.extensions?.fields)).toEqual(["input.secret.headerName"]);
    const viaRest = await rest(stack.url, "POST", "/api/credentials", { token: user.token, json: { workspaceId: user.workspaceId, name, type: "postmark", secret: {} } });
    expect(viaRest.status).toBe(400);
    expect(fieldPaths(viaRest.body.error.details?.fields)).toEqual(["input.secret.serverToken"]);
    expect(await stack.deps.db.credential.count({ where: { name } })).toBe(0);
  });

  it("deleteCredential removes it; deleting again is NOT_FOUND", async () => {
    const created = ok(await gql(stack.url, CREATE_CREDENTIAL, { input: { workspaceId: user.workspaceId, name: unique("Gone"), type: "postmark", secret: { serverToken: "t" } } }, user.token))
      .createCredential;
    ok(await gql(stack.url, `mutation($id: ID!) { deleteCredential(id: $id) { id } }`, { id: created.id }, user.token));
    const listed = ok(await gql(stack.url, `query($ws: ID!) { credentials(workspaceId: $ws) { id } }`, { ws: user.workspaceId }, user.token)).credentials;
    expect(listed.map((c: { id: string }) => c.id)).not.toContain(created.id);
    expect((await rest(stack.url, "DELETE", `/api/credentials/${created.id}`, { token: user.token })).status).toBe(404);
  });
});

describe("the API contract", () => {
  /** The REST routes (under /api and /hooks) of the server's own Hono app, as "method /path/{param}". */
  let served: string[];
  beforeAll(async () => {
    const { app } = await createServerApp(stack.deps, { studio: false });
    served = app.routes
      .filter((route) => route.method !== "ALL" && /^\/(api|hooks)\//.test(route.path))
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
  });

  it("/api/openapi.json is an OpenAPI 3.1 document with responses, parameters and bodies", async () => {
    const response = await rest(stack.url, "GET", "/api/openapi.json");
    expect(response.status).toBe(200);
    const doc = response.body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      expect(path, "a REST path").toMatch(/^\/(api|hooks)\//);
      for (const [method, operation] of Object.entries<any>(item)) {
        expect(["get", "post", "put", "patch", "delete"]).toContain(method);
        expect(Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status)), `${method} ${path} has a 2xx response`).toBe(true);
        const declared = (operation.parameters ?? []).filter((p: { in: string }) => p.in === "path").map((p: { name: string }) => p.name).sort();
        expect(declared, `${method} ${path} declares its path parameters`).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
        if (["post", "patch", "put"].includes(method) && operation.requestBody) {
          expect(operation.requestBody.content["application/json"].schema).toBeTypeOf("object");
        }
      }
    }
  });

  it("/api/openapi.json lists every route the REST app serves, and only those", async () => {
    const doc = (await rest(stack.url, "GET", "/api/openapi.json")).body;
    const documented = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    const routes = served.filter((route) => route !== "get /api/openapi.json");
    expect(routes.length).toBeGreaterThan(20);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  /** The REST routes issue 3 names. */
  const CONTRACT_ROUTES = [
    "post /api/auth/signup",
    "post /api/auth/login",
    "get /api/workflows",
    "post /api/workflows",
    "get /api/workflows/{id}",
    "get /api/runs",
    "post /api/runs",
    "get /api/runs/{id}",
    "get /api/steps",
    "get /api/step-types",
    "post /api/connectors/test",
  ];
  it.each(CONTRACT_ROUTES)("the contract route %s is served and documented", async (route) => {
    expect(served).toContain(route);
    const doc = (await rest(stack.url, "GET", "/api/openapi.json")).body;
    const [method, path] = route.split(" ") as [string, string];
    expect(doc.paths[path]?.[method], `${route} in openapi.json`).toBeDefined();
  });

  /** The GraphQL operations issue 3 names. */
  const CONTRACT_FIELDS: Record<"Query" | "Mutation" | "Subscription", string[]> = {
    Query: ["me", "workflows", "workflow", "runs", "run", "stepTypes", "credentials"],
    Mutation: [
      "signUp", "logIn", "createWorkspace", "inviteMember", "createWorkflow", "updateWorkflow", "deleteWorkflow", "duplicateWorkflow", "importWorkflow",
      "createVersion", "restoreVersion", "startRun", "cancelRun", "retryRun", "createCredential", "deleteCredential", "testConnector",
    ],
    Subscription: ["runEvents", "workflowRuns"],
  };
  it.each(Object.entries(CONTRACT_FIELDS).flatMap(([type, fields]) => fields.map((field) => ({ type, field, title: `${type}.${field}` }))))("the schema has $title", async ({ type, field }) => {
    const result = ok(await gql(stack.url, `query($name: String!) { __type(name: $name) { fields { name } } }`, { name: type }, user.token));
    expect(result.__type.fields.map((f: { name: string }) => f.name)).toContain(field);
  });
});
