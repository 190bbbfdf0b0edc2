/**
 * Draft and publish (#15, docs/run-engine.md R37–R38, docs/api.md "Draft and publish"): the co-edited Y.Doc is
 * the draft; webhooks run only the published version; manual runs run the draft unless they ask for the
 * published one; publishing is refused while the draft has problems; rollback publishes an earlier version
 * again; deactivation turns triggers off; "who changed what since the published version" comes from the
 * attributed update log, here typed by two real collab clients signed in as two people.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, gql, invite, ok, rest, signUp, type Account } from "../support/api.js";
import { connectClient, waitFor, waitSynced } from "../support/collab.js";
import { editTextField } from "@algorythmos/domain";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ collab: true, worker: true });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const hookDefinition = (expression: string) => ({
  name: "Published hook",
  steps: [step("hook", "trigger.webhook", { responseMode: "output" }), step("shape", "transform", { expression })],
  edges: [{ id: "hook-shape", source: "hook", target: "shape" }],
});

async function createHookWorkflow(owner: Account, expression: string) {
  const data = ok(
    await gql(
      stack.url,
      `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id webhookPath } }`,
      { input: { workspaceId: owner.workspaceId, name: "Published hook", definition: hookDefinition(expression) } },
      owner.token,
    ),
  );
  return data.createWorkflow as { id: string; webhookPath: string };
}

const PUBLISH = `mutation($input: PublishWorkflowInput!) {
  publishWorkflow(input: $input) {
    workflow { id active published { id } }
    version { id kind label message version authorId sourceVersionId overrideFailingTests definition diff { stepsAdded stepsChanged stepsRemoved } }
    testResults { testCaseId passed }
  }
}`;
const publish = async (owner: Account, input: Record<string, unknown>) => ok(await gql(stack.url, PUBLISH, { input }, owner.token)).publishWorkflow;
const editDraft = async (owner: Account, id: string, expression: string) =>
  ok(await gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id, definition: hookDefinition(expression) } }, owner.token));

async function callHook(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });
  return { status: response.status, body: (await response.json()) as any };
}

const RUN = `query($id: ID!) { run(id: $id) { id status output trigger version { id kind label } } }`;
const finalRun = (owner: Account, id: string) =>
  waitFor(`run ${id} to finish`, async () => {
    const run = (await gql(stack.url, RUN, { id }, owner.token)).data?.run;
    return run && ["succeeded", "failed", "canceled"].includes(run.status) ? run : null;
  });
const runCount = async (owner: Account, workflowId: string) =>
  ok(await gql(stack.url, `query($id: ID!) { runs(workflowId: $id, first: 100) { edges { node { id } } } }`, { id: workflowId }, owner.token)).runs.edges.length as number;

describe("R37 R38: webhooks run the published version", () => {
  it("R38: the webhook of a workflow never published answers 409 NOT_PUBLISHED and starts no run", async () => {
    const owner = await signUp(stack.url, "Unpublished");
    const workflow = await createHookWorkflow(owner, `"draft"`);
    const answer = await callHook(workflow.webhookPath);
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ error: { code: "NOT_PUBLISHED", message: expect.stringMatching(/never been published; publish it/), details: null } });
    expect(await runCount(owner, workflow.id)).toBe(0);
    const seen = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { published { id } active } }`, { id: workflow.id }, owner.token));
    expect(seen.workflow).toEqual({ published: null, active: true });
  });

  it("R37: a draft edit after publishing does not change what webhook runs execute; the run says which version it ran", async () => {
    const owner = await signUp(stack.url, "Publisher");
    const workflow = await createHookWorkflow(owner, `"first"`);
    const published = await publish(owner, { workflowId: workflow.id, message: "first release" });
    expect(published.version).toMatchObject({ kind: "published", label: "v1", message: "first release", authorId: owner.userId, sourceVersionId: null, overrideFailingTests: false });
    expect(published.version.diff.stepsAdded.map((s: { id: string }) => s.id)).toEqual(["hook", "shape"]); // the first: everything is new
    expect(published.workflow.published.id).toBe(published.version.id);
    expect(published.testResults).toEqual([]);

    await editDraft(owner, workflow.id, `"half-typed`); // a half-typed expression in the draft
    const answer = await callHook(workflow.webhookPath);
    expect(answer).toEqual({ status: 200, body: { shape: "first" } });
    await editDraft(owner, workflow.id, `"second"`);
    expect(await callHook(workflow.webhookPath)).toEqual({ status: 200, body: { shape: "first" } });

    const runs = ok(await gql(stack.url, `query($id: ID!) { runs(workflowId: $id) { edges { node { id trigger version { id kind } } } } }`, { id: workflow.id }, owner.token));
    expect(runs.runs.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ trigger: "webhook", version: { id: published.version.id, kind: "published" } }),
      expect.objectContaining({ trigger: "webhook", version: { id: published.version.id, kind: "published" } }),
    ]);

    // A manual run runs the draft by default (Run.version null), or the published version when asked.
    const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id version { id } } }`;
    const draftRun = ok(await gql(stack.url, START, { input: { workflowId: workflow.id } }, owner.token)).startRun;
    expect(draftRun.version).toBeNull();
    expect(await finalRun(owner, draftRun.id)).toMatchObject({ status: "succeeded", output: { shape: "second" }, version: null });
    const publishedRun = ok(await gql(stack.url, START, { input: { workflowId: workflow.id, version: "PUBLISHED" } }, owner.token)).startRun;
    expect(publishedRun.version).toEqual({ id: published.version.id });
    expect(await finalRun(owner, publishedRun.id)).toMatchObject({ status: "succeeded", output: { shape: "first" }, version: { id: published.version.id, label: "v1" } });
    // A re-run re-runs what its run ran: the published version's definition, and says so.
    const rerun = ok(
      await gql(stack.url, `mutation($input: RetryRunInput!) { retryRun(input: $input) { id version { id } } }`, { input: { runId: publishedRun.id, fromStepId: "shape" } }, owner.token),
    ).retryRun;
    expect(rerun.version).toEqual({ id: published.version.id });
    expect(await finalRun(owner, rerun.id)).toMatchObject({ status: "succeeded", output: { shape: "first" } });
    // REST: the same choice, and Run.versionId.
    const restRun = await rest(stack.url, "POST", "/api/runs", { token: owner.token, json: { workflowId: workflow.id, version: "PUBLISHED" } });
    expect(restRun).toMatchObject({ status: 201, body: { versionId: published.version.id } });
    const bad = await rest(stack.url, "POST", "/api/runs", { token: owner.token, json: { workflowId: workflow.id, version: "LATEST" } });
    expect(bad.status).toBe(400);
  });

  it("R37: rollback publishes an earlier version again, as a new publication with its diff", async () => {
    const owner = await signUp(stack.url, "Rollback");
    const workflow = await createHookWorkflow(owner, `"one"`);
    const v1 = await publish(owner, { workflowId: workflow.id, message: "one" });
    await editDraft(owner, workflow.id, `"two"`);
    const v2 = await publish(owner, { workflowId: workflow.id, message: "two" });
    expect(v2.version.label).toBe("v2");
    expect(v2.version.diff.stepsChanged).toEqual([expect.objectContaining({ id: "shape", fields: ["config"] })]);
    expect(await callHook(workflow.webhookPath)).toEqual({ status: 200, body: { shape: "two" } });

    // REST rollback to v1: a third publication holding v1's definition; the draft is left as it is.
    const rolled = await rest(stack.url, "POST", `/api/workflows/${workflow.id}/publish`, { token: owner.token, json: { message: "back to one", fromVersionId: v1.version.id } });
    expect(rolled.status).toBe(201);
    expect(rolled.body.version).toMatchObject({ kind: "published", label: "v3", message: "back to one", sourceVersionId: v1.version.id });
    expect(rolled.body.version.definition).toEqual(v1.version.definition);
    expect(rolled.body.version.diff.stepsChanged[0].after.config).toEqual({ expression: `"one"` });
    expect(await callHook(workflow.webhookPath)).toEqual({ status: 200, body: { shape: "one" } });
    const draft = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflow.id }, owner.token));
    expect(draft.workflow.export.definition.steps[1].config).toEqual({ expression: `"two"` });

    // The history keeps every publication, newest first; published versions are immutable records.
    const versions = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { versions { label kind message } } }`, { id: workflow.id }, owner.token));
    expect(versions.workflow.versions).toEqual([
      { label: "v3", kind: "published", message: "back to one" },
      { label: "v2", kind: "published", message: "two" },
      { label: "v1", kind: "published", message: "one" },
    ]);
    const foreign = await gql(stack.url, PUBLISH, { input: { workflowId: workflow.id, fromVersionId: "ver_elsewhere" } }, owner.token);
    expect(codeOf(foreign)).toBe("BAD_USER_INPUT");
  });

  it("R38: a deactivated workflow answers 409 INACTIVE; activated again it runs; viewers may not toggle it", async () => {
    const owner = await signUp(stack.url, "Toggler");
    const viewer = await signUp(stack.url, "Watcher");
    await invite(stack.url, owner, owner.workspaceId, viewer, "viewer");
    const workflow = await createHookWorkflow(owner, `"on"`);
    await publish(owner, { workflowId: workflow.id });
    const SET = `mutation($input: SetWorkflowActiveInput!) { setWorkflowActive(input: $input) { id active } }`;
    expect(ok(await gql(stack.url, SET, { input: { workflowId: workflow.id, active: false } }, owner.token)).setWorkflowActive).toEqual({ id: workflow.id, active: false });
    const refused = await callHook(workflow.webhookPath);
    expect(refused).toEqual({ status: 409, body: { error: { code: "INACTIVE", message: expect.stringMatching(/deactivated; activate it/), details: null } } });
    expect(await runCount(owner, workflow.id)).toBe(0);
    expect(codeOf(await gql(stack.url, SET, { input: { workflowId: workflow.id, active: true } }, viewer.token))).toBe("FORBIDDEN");

    const activated = await rest(stack.url, "PUT", `/api/workflows/${workflow.id}/active`, { token: owner.token, json: { active: true } });
    expect(activated).toMatchObject({ status: 200, body: { workflowId: workflow.id, active: true, publishedVersionId: expect.stringMatching(/^ver_/) } });
    expect(await callHook(workflow.webhookPath)).toEqual({ status: 200, body: { shape: "on" } });
    // Manual runs of the draft are not triggers: they run while inactive too.
    await rest(stack.url, "PUT", `/api/workflows/${workflow.id}/active`, { token: owner.token, json: { active: false } });
    const manual = await rest(stack.url, "POST", "/api/runs", { token: owner.token, json: { workflowId: workflow.id } });
    expect(manual.status).toBe(201);
  });

  it("published versions cannot be changed or deleted; deleting the workflow deletes its history", async () => {
    const owner = await signUp(stack.url, "Immutable");
    const workflow = await createHookWorkflow(owner, `"kept"`);
    const { version } = await publish(owner, { workflowId: workflow.id, message: "kept" });
    const db = stack.deps.db;
    await expect(db.$executeRaw`UPDATE "WorkflowSnapshot" SET "definition" = '{}'::jsonb WHERE "id" = ${version.id}`).rejects.toThrow(/cannot be changed/);
    await expect(db.$executeRaw`UPDATE "WorkflowSnapshot" SET "message" = 'rewritten' WHERE "id" = ${version.id}`).rejects.toThrow(/cannot be changed/);
    await expect(db.$executeRaw`DELETE FROM "WorkflowSnapshot" WHERE "id" = ${version.id}`).rejects.toThrow(/cannot be deleted/);
    expect(await db.workflowSnapshot.findUniqueOrThrow({ where: { id: version.id }, select: { message: true } })).toEqual({ message: "kept" });
    // A snapshot saved by a person is not a publication: it may go.
    const snapshot = ok(await gql(stack.url, `mutation($input: CreateVersionInput!) { createVersion(input: $input) { id } }`, { input: { workflowId: workflow.id, label: "mine" } }, owner.token)).createVersion;
    expect(await db.$executeRaw`DELETE FROM "WorkflowSnapshot" WHERE "id" = ${snapshot.id}`).toBe(1);
    ok(await gql(stack.url, `mutation($id: ID!) { deleteWorkflow(id: $id) { id } }`, { id: workflow.id }, owner.token));
    expect(await db.workflowSnapshot.count({ where: { workflowId: workflow.id } })).toBe(0);
  });

  it("publishing is refused while the draft has problems, naming them; nothing is published", async () => {
    const owner = await signUp(stack.url, "Careful");
    const broken = { name: "Broken", steps: [step("shape", "transform", { expression: `"x"` })], edges: [] };
    const created = ok(
      await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id problems { code message } } }`, { input: { workspaceId: owner.workspaceId, name: "Broken", definition: broken } }, owner.token),
    ).createWorkflow;
    expect(created.problems.length).toBeGreaterThan(0);
    const refused = await gql(stack.url, PUBLISH, { input: { workflowId: created.id, message: "nope" } }, owner.token);
    expect(codeOf(refused)).toBe("UNPROCESSABLE");
    expect(refused.errors![0]!.message).toContain("The draft cannot be published until its problems are fixed: ");
    expect(refused.errors![0]!.message).toContain(created.problems[0].message);
    expect(refused.errors![0]!.extensions!.problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: created.problems[0].code })]));
    const viaRest = await rest(stack.url, "POST", `/api/workflows/${created.id}/publish`, { token: owner.token, json: {} });
    expect(viaRest).toMatchObject({ status: 422, body: { error: { code: "UNPROCESSABLE", details: { problems: expect.any(Array) } } } });
    const after = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { published { id } versions { id } } }`, { id: created.id }, owner.token));
    expect(after.workflow).toEqual({ published: null, versions: [] });
    const tooLong = await rest(stack.url, "POST", `/api/workflows/${created.id}/publish`, { token: owner.token, json: { message: "x".repeat(2001) } });
    expect(tooLong).toMatchObject({ status: 400, body: { error: { code: "BAD_USER_INPUT" } } });
  });
});

describe("attribution: who changed what since the published version", () => {
  it("two people typing in two real collab clients are each credited with the steps and fields they changed", { timeout: 60_000 }, async () => {
    const owner = await signUp(stack.url, "Ada");
    const editor = await signUp(stack.url, "Grace");
    await invite(stack.url, owner, owner.workspaceId, editor, "editor");
    const definition = {
      name: "Shared",
      steps: [
        step("hook", "trigger.webhook"),
        step("fetch", "http.request", { method: "GET", url: "http://127.0.0.1:9/a" }),
        step("shape", "transform", { expression: `"x"` }),
      ],
      edges: [
        { id: "hook-fetch", source: "hook", target: "fetch" },
        { id: "fetch-shape", source: "fetch", target: "shape" },
      ],
    };
    const workflowId = ok(
      await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: owner.workspaceId, name: "Shared", definition } }, owner.token),
    ).createWorkflow.id as string;

    const a = connectClient(stack.url, workflowId, owner.token);
    const b = connectClient(stack.url, workflowId, editor.token);
    try {
      await waitSynced(a, b);
      // Edits before the publication are not attributed to the draft's changes since then.
      editTextField(a.doc, { kind: "config", stepId: "shape", key: "expression" }, `"before publish"`);
      await waitFor("the pre-publish edit to be stored", async () => {
        const exported = ok(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { export } }`, { id: workflowId }, owner.token)).workflow.export;
        return exported.definition.steps[2].config.expression === `"before publish"`;
      });
      await publish(owner, { workflowId, message: "baseline" });

      // Ada types into the transform's expression; Grace types into the request's URL and renames it.
      for (const text of [`"a`, `"ad`, `"ada"`]) editTextField(a.doc, { kind: "config", stepId: "shape", key: "expression" }, text);
      for (const text of ["http://127.0.0.1:9/b", "http://127.0.0.1:9/bc"]) editTextField(b.doc, { kind: "config", stepId: "fetch", key: "url" }, text);
      editTextField(b.doc, { kind: "step", stepId: "fetch", key: "name" }, "Fetch it");

      const QUERY = `query($id: ID!) { workflow(id: $id) { changesSincePublished { userId user { name } stepIds edgeIds fields edits at } } }`;
      const changes = await waitFor("both people's edits to be logged", async () => {
        const list = ok(await gql(stack.url, QUERY, { id: workflowId }, owner.token)).workflow.changesSincePublished as any[];
        const grace = list.find((change) => change.userId === editor.userId);
        const ada = list.find((change) => change.userId === owner.userId);
        return grace?.fields.includes("fetch.name") && ada?.fields.includes("shape.config.expression") && grace.fields.includes("fetch.config.url") ? list : null;
      });
      expect(changes).toHaveLength(2);
      const ada = changes.find((change) => change.userId === owner.userId);
      const grace = changes.find((change) => change.userId === editor.userId);
      expect(ada).toMatchObject({ user: { name: "Ada" }, stepIds: ["shape"], edgeIds: [], fields: ["shape.config.expression"] });
      expect(grace).toMatchObject({ user: { name: "Grace" }, stepIds: ["fetch"], edgeIds: [], fields: ["fetch.config.url", "fetch.name"] });
      expect(ada.edits).toBeGreaterThanOrEqual(1);
      expect(grace.edits).toBeGreaterThanOrEqual(2);
      expect(new Date(ada.at).getTime()).toBeGreaterThan(0);

      // Attribution replays the log: priced, so a page of workflows cannot ask it of each.
      const listed = await gql(stack.url, `query($ws: ID!) { workflows(workspaceId: $ws, first: 20) { edges { node { changesSincePublished { edits } } } } }`, { ws: owner.workspaceId }, owner.token);
      expect(listed.errors?.[0]?.message).toMatch(/Query Cost limit of \d+ exceeded/);

      // After publishing again, nothing is left to attribute.
      await publish(owner, { workflowId, message: "both" });
      expect(ok(await gql(stack.url, QUERY, { id: workflowId }, owner.token)).workflow.changesSincePublished).toEqual([]);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
