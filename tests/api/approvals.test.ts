/**
 * Approvals and child runs through the API (docs/run-engine.md R30, R32, R33): resumeRun (GraphQL and REST)
 * with its roles and errors, pendingApprovals, Run.approvals / parentRun / childRuns, the signed single-use
 * URL's page and form, and cancelRun propagating to child runs. A real server and worker, PostgreSQL, Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, gql, invite, ok, publishWorkflow, rest, signUp, type Account } from "../support/api.js";
import { startTestStack, waitFor } from "../support/stack.js";

let stack: Stack;
let owner: Account;
let editor: Account;
let viewer: Account;
beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: true });
  [owner, editor, viewer] = await Promise.all([signUp(stack.url, "Owner"), signUp(stack.url, "Editor"), signUp(stack.url, "Viewer")]);
  await invite(stack.url, owner, owner.workspaceId, editor, "editor");
  await invite(stack.url, owner, owner.workspaceId, viewer, "viewer");
});
afterAll(async () => {
  await stack?.close();
});

const step = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, type, name: id, config, position: { x: 0, y: 0 } });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });
const approvalDefinition = (name: string, instructions = "Check the invoice total.") => ({
  name,
  steps: [
    step("start", "trigger.manual"),
    step("ask", "approval", { title: `Approve ${name}?`, instructions }),
    step("after", "transform", { expression: "{ 'decision': steps.ask.output.decision, 'data': steps.ask.output.data }" }),
  ],
  edges: [edge("start", "ask"), edge("ask", "after")],
});

const RUN = `query($id: ID!) { run(id: $id) { id status output error steps { stepId status output } } }`;
async function startRun(workflowId: string, token = owner.token): Promise<string> {
  return ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId } }, token)).startRun.id;
}
const waitingStep = (runId: string, stepId = "ask") =>
  waitFor(`step ${stepId} of ${runId} to wait`, async () => {
    const run = ok(await gql(stack.url, RUN, { id: runId }, owner.token)).run;
    return run.steps.find((s: { stepId: string; status: string }) => s.stepId === stepId && s.status === "waiting") ?? null;
  });
const finalRun = (runId: string) =>
  waitFor(`run ${runId} to finish`, async () => {
    const run = ok(await gql(stack.url, RUN, { id: runId }, owner.token)).run;
    return ["succeeded", "failed", "canceled"].includes(run.status) ? run : null;
  });
const RESUME = `mutation($input: ResumeRunInput!) { resumeRun(input: $input) { run { id status } approval { stepId decision comment data decidedVia decidedBy { id name } } } }`;

describe("resumeRun", () => {
  it("R33: an editor approves with a comment and data; viewers may not; a second decision is a CONFLICT", async () => {
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Invoices", approvalDefinition("Invoices"));
    const runId = await startRun(workflow.id);
    const waiting = await waitingStep(runId);
    expect(waiting.output).toMatchObject({ approvalUrl: expect.stringMatching(/\/approvals\/[A-Za-z0-9_-]{43}$/), expiresAt: null });

    const pending = ok(await gql(stack.url, `query($id: ID!) { pendingApprovals(workspaceId: $id) { runId stepId title instructions decision run { id } } }`, { id: owner.workspaceId }, viewer.token));
    expect(pending.pendingApprovals).toContainEqual({ runId, stepId: "ask", title: "Approve Invoices?", instructions: "Check the invoice total.", decision: null, run: { id: runId } });

    const byViewer = await gql(stack.url, RESUME, { input: { runId, stepId: "ask", decision: "APPROVE" } }, viewer.token);
    expect(codeOf(byViewer)).toBe("FORBIDDEN");
    const outsider = await signUp(stack.url, "Outsider");
    expect(codeOf(await gql(stack.url, RESUME, { input: { runId, stepId: "ask", decision: "APPROVE" } }, outsider.token))).toBe("NOT_FOUND");
    expect(codeOf(await gql(stack.url, `query($id: ID!) { pendingApprovals(workspaceId: $id) { id } }`, { id: owner.workspaceId }, outsider.token))).toBe("NOT_FOUND");
    expect(codeOf(await gql(stack.url, RESUME, { input: { runId, stepId: "nope", decision: "APPROVE" } }, editor.token))).toBe("NOT_FOUND");
    const invalid = await gql(stack.url, RESUME, { input: { runId, stepId: "ask", decision: "MAYBE" } }, editor.token);
    expect(invalid.data ?? null).toBeNull();
    expect(invalid.errors?.[0]?.message).toMatch(/MAYBE/);

    const resumed = ok(await gql(stack.url, RESUME, { input: { runId, stepId: "ask", decision: "APPROVE", comment: "Total matches", data: { po: "PO-7" } } }, editor.token));
    expect(resumed.resumeRun.approval).toEqual({ stepId: "ask", decision: "approved", comment: "Total matches", data: { po: "PO-7" }, decidedVia: "user", decidedBy: { id: editor.userId, name: "Editor" } });
    const run = await finalRun(runId);
    expect(run).toMatchObject({ status: "succeeded", output: { after: { decision: "approved", data: { po: "PO-7" } } } });
    const ask = run.steps.find((s: { stepId: string }) => s.stepId === "ask");
    expect(ask.output).toMatchObject({ decision: "approved", comment: "Total matches", decidedBy: { id: editor.userId, name: "Editor" } });

    const again = await gql(stack.url, RESUME, { input: { runId, stepId: "ask", decision: "REJECT" } }, owner.token);
    expect(codeOf(again)).toBe("CONFLICT");
    const approvals = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { approvals { decision decidedVia } } }`, { id: runId }, owner.token));
    expect(approvals.run.approvals).toEqual([{ decision: "approved", decidedVia: "user" }]);
    const stillPending = ok(await gql(stack.url, `query($id: ID!) { pendingApprovals(workspaceId: $id) { runId } }`, { id: owner.workspaceId }, owner.token));
    expect(stillPending.pendingApprovals.map((a: { runId: string }) => a.runId)).not.toContain(runId);
  });

  it("R33: POST /api/runs/:id/resume rejects; bad input is a 400", async () => {
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Refunds", approvalDefinition("Refunds"));
    const runId = await startRun(workflow.id);
    await waitingStep(runId);
    const bad = await rest(stack.url, "POST", `/api/runs/${runId}/resume`, { token: editor.token, json: { stepId: "ask", decision: "approve" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BAD_USER_INPUT");
    const rejected = await rest(stack.url, "POST", `/api/runs/${runId}/resume`, { token: editor.token, json: { stepId: "ask", decision: "REJECT", comment: "Too much" } });
    expect(rejected.status).toBe(200);
    expect(rejected.body.approval).toMatchObject({ runId, stepId: "ask", decision: "rejected", comment: "Too much", decidedById: editor.userId, decidedVia: "user" });
    expect(rejected.body.run.id).toBe(runId);
    expect((await finalRun(runId)).output).toEqual({ after: { decision: "rejected", data: null } });
    expect((await rest(stack.url, "POST", `/api/runs/${runId}/resume`, { token: editor.token, json: { stepId: "ask", decision: "REJECT" } })).status).toBe(409);
  });
});

describe("the signed approval URL", () => {
  it("R33: GET shows the title and escaped instructions with two buttons and no script; POST decides once, then 410", async () => {
    const workflow = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Deploys", approvalDefinition("Deploys", `<script>alert("x")</script> & check`));
    const runId = await startRun(workflow.id);
    const waiting = await waitingStep(runId);
    const token = (waiting.output.approvalUrl as string).split("/").at(-1)!;
    const link = `${stack.url}/approvals/${token}`;

    const shown = await fetch(link);
    expect(shown.status).toBe(200);
    expect(shown.headers.get("content-type")).toMatch(/^text\/html/);
    expect(shown.headers.get("content-security-policy")).toContain("form-action 'self'");
    expect(shown.headers.get("cache-control")).toBe("no-store");
    const html = await shown.text();
    expect(html).toContain("<h1>Approve Deploys?</h1>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; check");
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<form method="post">');
    expect(html).toMatch(/name="decision" value="approve"/);
    expect(html).toMatch(/name="decision" value="reject"/);

    const form = (fields: Record<string, string>) => fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
    expect((await form({ comment: "no decision" })).status).toBe(400);
    const decided = await form({ decision: "approve", comment: "ship it" });
    expect(decided.status).toBe(200);
    expect(await decided.text()).toContain("Approved");
    const reused = await form({ decision: "reject" });
    expect(reused.status).toBe(410);
    expect(await reused.text()).toContain("Already decided");
    expect((await fetch(link)).status).toBe(410);

    const run = await finalRun(runId);
    expect(run.output).toEqual({ after: { decision: "approved", data: null } });
    expect(run.steps.find((s: { stepId: string }) => s.stepId === "ask").output).toMatchObject({ comment: "ship it", decidedVia: "link", decidedBy: null });

    expect((await fetch(`${stack.url}/approvals/not-a-real-token-at-all-000000000000000`)).status).toBe(404);
    expect((await fetch(`${stack.url}/approvals/%3Cx%3E`)).status).toBe(404);
  });
});

describe("child runs through the API", () => {
  it("R32: cancelRun of a parent cancels its child at once; Run.parentRun and Run.childRuns link them", async () => {
    const child = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Child approval", approvalDefinition("Child"));
    await publishWorkflow(stack.url, owner.token, child.id);
    const parent = await createWorkflow(stack.url, owner.token, owner.workspaceId, "Parent", {
      name: "Parent",
      steps: [step("start", "trigger.manual"), step("call", "workflow.call", { workflowId: child.id, input: "{ 'from': 'parent' }" })],
      edges: [edge("start", "call")],
    });
    const runId = await startRun(parent.id);
    await waitingStep(runId, "call");
    const linked = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { childRuns { id status trigger parentStepId input parentRun { id } } } }`, { id: runId }, owner.token));
    const [childRun] = linked.run.childRuns;
    expect(childRun).toMatchObject({ trigger: "call", parentStepId: "call", input: { from: "parent" }, parentRun: { id: runId } });
    await waitingStep(childRun.id);

    const canceled = ok(await gql(stack.url, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId }, editor.token));
    expect(canceled.cancelRun.status).toBe("canceled");
    const after = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { status error } }`, { id: childRun.id }, owner.token));
    expect(after.run).toEqual({ status: "canceled", error: "Parent run canceled by Editor" });
    expect((await finalRun(runId)).steps.find((s: { stepId: string }) => s.stepId === "call")).toMatchObject({ status: "failed" });
    expect((await finalRun(childRun.id)).steps.find((s: { stepId: string }) => s.stepId === "ask")).toMatchObject({ status: "failed" });
  });
});
