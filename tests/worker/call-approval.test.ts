/**
 * workflow.call, approval, error workflow and cancel propagation (docs/run-engine.md R30–R35): real PostgreSQL,
 * Redis and BullMQ workers, and worker processes SIGKILLed while an approval waits and while a child run is
 * in flight.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { newId } from "@algorythmos/domain";
import { bytes, json, type Db } from "@algorythmos/platform";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decideApproval, decideByToken } from "../../server/services/approvals.js";
import { MAX_CALL_DEPTH } from "../../worker/engine/call.js";
import { reconcileOnce } from "../../worker/reconciler.js";
import { afterRunEnd } from "../../worker/run-worker.js";
import { createLogger, createMaintenanceQueue } from "@algorythmos/platform";
import { startHarness, startTestServer, stepStatuses, type FinishedRun, type Harness } from "./harness.js";
import { killProcess, QUICK_RECOVERY, workerProcesses } from "./worker-processes.js";

type StepSpec = [string, string, Record<string, unknown>?];
type EdgeSpec = [string, string, string?];

/** A definition with a manual trigger "start"; `settings` as in WorkflowDefinition. */
function def(steps: StepSpec[], edges: EdgeSpec[], settings: Record<string, unknown> = {}) {
  return {
    name: "Call test",
    settings,
    steps: [["start", "trigger.manual", {}] as StepSpec, ...steps].map(([id, type, config]) => ({ id, type, config: config ?? {} })),
    edges: edges.map(([source, target, label], index) => ({ id: `e${index}`, source, target, ...(label ? { label } : {}) })),
  };
}

/** A workflow of the workspace; published with `definition` unless `published: false`. */
async function addWorkflow(db: Db, workspaceId: string, definition: unknown, options: { name?: string; published?: boolean } = {}): Promise<string> {
  const id = newId("wf");
  await db.workflow.create({ data: { id, workspaceId, name: options.name ?? "Child", definition: json(definition), yjsState: bytes(new Uint8Array()) } });
  if (options.published !== false) {
    const versionId = newId("ver");
    await db.workflowSnapshot.create({ data: { id: versionId, workflowId: id, version: 1, label: "v1", kind: "published", yjsState: bytes(new Uint8Array()), definition: json(definition) } });
    await db.workflow.update({ where: { id }, data: { publishedVersionId: versionId, latestVersion: 1 } });
  }
  return id;
}

/** A queued run of `workflowId` (as the server creates one), not yet enqueued. */
async function queuedRun(h: Harness, workflowId: string, definition: unknown, input: unknown = {}): Promise<string> {
  const id = newId("run");
  await h.db.run.create({ data: { id, workflowId, workspaceId: h.workspaceId, definition: json(definition), trigger: "manual", input: json(input) } });
  return id;
}

const childrenOf = (db: Db, runId: string) =>
  db.run.findMany({ where: { parentRunId: runId }, select: { id: true, status: true, parentStepId: true, depth: true, trigger: true, versionId: true, input: true, error: true, finishedAt: true } });

const stepRows = (run: FinishedRun, stepId: string) => run.steps.filter((s) => s.stepId === stepId);

let web: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  web = await startTestServer();
});
afterAll(async () => {
  await web?.close();
});

describe("workflow.call", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R30: runs the target's published version as a child run, waits without a worker, and takes its output", async () => {
    const childDef = def(
      [
        ["wait", "delay", { durationMs: 400 }],
        ["out", "transform", { expression: "{ 'doubled': input.n * 2 }" }],
      ],
      [["start", "wait"], ["wait", "out"]],
    );
    const childWf = await addWorkflow(h.db, h.workspaceId, childDef);
    const run = await h.run(
      def(
        [
          ["call", "workflow.call", { workflowId: childWf, input: "{ 'n': input.n }" }],
          ["after", "transform", { expression: "steps.call.output.out.doubled + 1" }],
        ],
        [["start", "call"], ["call", "after"]],
      ),
      { n: 20 },
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ after: 41 });
    const call = stepRows(run, "call");
    expect(call.map((s) => s.status)).toEqual(["succeeded"]);
    expect(call[0]!.output).toEqual({ out: { doubled: 40 } });

    const children = await childrenOf(h.db, run.id);
    expect(children).toHaveLength(1);
    const child = children[0]!;
    expect(child).toMatchObject({ status: "succeeded", parentStepId: "call", depth: 1, trigger: "call", input: { n: 20 } });
    const published = await h.db.workflow.findUniqueOrThrow({ where: { id: childWf }, select: { publishedVersionId: true } });
    expect(child.versionId).toBe(published.publishedVersionId);
    expect(call[0]!.input).toMatchObject({ childRunId: child.id, workflowId: childWf });
    const waiting = run.events.find((e) => e.type === "step.waiting" && e.stepId === "call");
    expect(waiting?.output).toEqual({ childRunId: child.id, workflowId: childWf });

    // R34: the child's end promotes the parent's delayed job (it would otherwise wait FAR_RESUME_MS, 1 h).
    const callRow = await h.db.runStep.findFirstOrThrow({ where: { runId: run.id, stepId: "call" }, select: { finishedAt: true } });
    const wakeMs = callRow.finishedAt!.getTime() - child.finishedAt!.getTime();
    console.log(`R34 parent woken ${wakeMs} ms after its child finished`);
    expect(wakeMs).toBeLessThan(3_000);
  });

  it("R30: a target never published, or of another workspace, fails the step with the reason", async () => {
    const draftOnly = await addWorkflow(h.db, h.workspaceId, def([], []), { name: "Draft only", published: false });
    const unpublished = await h.run(def([["call", "workflow.call", { workflowId: draftOnly }]], [["start", "call"]]));
    expect(unpublished.status).toBe("failed");
    expect(unpublished.error).toMatch(/Step "call" failed: Workflow "Draft only" \(wf_\w+\) has never been published/);

    const otherWorkspace = newId("ws");
    await h.db.workspace.create({ data: { id: otherWorkspace, name: "Other" } });
    const foreign = await addWorkflow(h.db, otherWorkspace, def([], []));
    const refused = await h.run(def([["call", "workflow.call", { workflowId: foreign }]], [["start", "call"]]));
    expect(refused.status).toBe("failed");
    expect(refused.error).toContain(`Workflow "${foreign}" not found in this workspace`);
    expect(await childrenOf(h.db, refused.id)).toHaveLength(0);
  });

  it("R30: a failed child fails the step with the child's error and run id", async () => {
    const childWf = await addWorkflow(h.db, h.workspaceId, def([["bad", "http.request", { url: `${web.url}/missing` }]], [["start", "bad"]]));
    const run = await h.run(def([["call", "workflow.call", { workflowId: childWf }]], [["start", "call"]]));
    const [child] = await childrenOf(h.db, run.id);
    expect(child!.status).toBe("failed");
    expect(run.status).toBe("failed");
    expect(run.error).toContain(`Step "call" failed: Child run ${child!.id} failed: Step "bad" failed: HTTP 404`);
  });

  it("R31: recursion is limited: a workflow calling itself fails at depth 10 with 'Recursion depth exceeded'", async () => {
    const selfId = newId("wf");
    const selfDef = def([["again", "workflow.call", { workflowId: selfId }]], [["start", "again"]]);
    await h.db.workflow.create({ data: { id: selfId, workspaceId: h.workspaceId, name: "Self", definition: json(selfDef), yjsState: bytes(new Uint8Array()) } });
    const versionId = newId("ver");
    await h.db.workflowSnapshot.create({ data: { id: versionId, workflowId: selfId, version: 1, label: "v1", kind: "published", yjsState: bytes(new Uint8Array()), definition: json(selfDef) } });
    await h.db.workflow.update({ where: { id: selfId }, data: { publishedVersionId: versionId } });

    const top = await queuedRun(h, selfId, selfDef);
    await h.enqueue(top);
    const run = await h.waitForFinal(top);
    expect(run.status).toBe("failed");
    const chain = await h.db.run.findMany({ where: { workflowId: selfId }, select: { id: true, depth: true, status: true, error: true }, orderBy: { depth: "asc" } });
    expect(chain.map((r) => r.depth)).toEqual([...Array(MAX_CALL_DEPTH + 1).keys()]);
    expect(chain.every((r) => r.status === "failed")).toBe(true);
    expect(chain.at(-1)!.error).toContain("Recursion depth exceeded");
    expect(run.error).toContain("Child run");
  });

  it("R32: canceling a parent cancels the child it waits for, and closes the waiting row", async () => {
    const childWf = await addWorkflow(h.db, h.workspaceId, def([["long", "delay", { durationMs: 20_000 }]], [["start", "long"]]));
    const runId = await h.createRun(def([["call", "workflow.call", { workflowId: childWf }]], [["start", "call"]]));
    await h.enqueue(runId);
    let childId = "";
    await h.until("the child to wait in its delay", async () => {
      const [child] = await childrenOf(h.db, runId);
      childId = child?.id ?? "";
      return !!child && !!(await h.db.runStep.findFirst({ where: { runId: child.id, stepId: "long", status: "running" } }));
    });
    expect(await h.cancel(runId)).toBe(true);
    const parent = await h.waitForFinal(runId);
    const child = await h.waitForFinal(childId);
    expect(parent.status).toBe("canceled");
    expect(child.status).toBe("canceled");
    expect(child.error).toBe("Parent run canceled");
    expect(stepStatuses(parent).call).toBe("failed");
    expect(stepRows(parent, "call")[0]!.error).toBe("Run canceled");
    expect(stepStatuses(child).long).toBe("failed");
  });
});

describe("approval", () => {
  let h: Harness;
  let userId: string;
  beforeAll(async () => {
    h = await startHarness({ PUBLIC_URL: "https://studio.example.test" });
    userId = (await h.db.membership.findFirstOrThrow({ where: { workspaceId: h.workspaceId }, select: { userId: true } })).userId;
  });
  afterAll(async () => {
    await h?.close();
  });

  const approvalDef = (config: Record<string, unknown> = {}) =>
    def(
      [
        ["ask", "approval", { title: "Ship it?", instructions: "Check the numbers first.", ...config }],
        ["ok", "condition", { expression: "steps.ask.output.decision = 'approved'" }],
        ["shipped", "transform", { expression: "'shipped'" }],
        ["held", "transform", { expression: "'held: ' & steps.ask.output.comment" }],
      ],
      [["start", "ask"], ["ask", "ok"], ["ok", "shipped", "true"], ["ok", "held", "false"]],
    );

  const waitForApproval = async (runId: string) => {
    await h.until("the approval to wait", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "ask", status: "waiting" } })));
    await h.until("the job to be delayed", async () => (await h.queue.getJobState(runId)) === "delayed");
    return h.snapshot(runId);
  };

  it("R33: waits with a signed single-use URL; an editor's approval (resumeRun's decision) continues the run at once", async () => {
    const runId = await h.createRun(approvalDef());
    await h.enqueue(runId);
    const waiting = await waitForApproval(runId);
    expect(waiting.status).toBe("running");
    const event = waiting.events.find((e) => e.type === "step.waiting" && e.stepId === "ask");
    const { approvalUrl, expiresAt } = event!.output as { approvalUrl: string; expiresAt: string | null };
    expect(expiresAt).toBeNull();
    expect(approvalUrl).toMatch(/^https:\/\/studio\.example\.test\/approvals\/[A-Za-z0-9_-]{43}$/);
    const token = approvalUrl.split("/").at(-1)!;
    const row = await h.db.runApproval.findFirstOrThrow({ where: { runId } });
    expect(row.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(row.stepId).toBe("ask");

    const decidedAt = Date.now();
    const decided = await decideApproval({ db: h.db, runQueue: h.queue }, { runId, stepId: "ask" }, { decision: "approved", comment: "LGTM", data: { ticket: 7 }, decidedById: userId, via: "user" });
    expect(decided.ok).toBe(true);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ shipped: "shipped" });
    const ask = stepRows(run, "ask");
    expect(ask).toHaveLength(1);
    expect(ask[0]!.output).toMatchObject({ decision: "approved", comment: "LGTM", data: { ticket: 7 }, decidedBy: { id: userId, name: "Worker test" }, decidedVia: "user" });
    // R34: the decision promotes the delayed job (it would otherwise wait FAR_RESUME_MS, 1 h).
    const settled = await h.db.runStep.findFirstOrThrow({ where: { runId, stepId: "ask" }, select: { finishedAt: true } });
    console.log(`R34 approval settled ${settled.finishedAt!.getTime() - decidedAt} ms after the decision`);
    expect(settled.finishedAt!.getTime() - decidedAt).toBeLessThan(3_000);
    // A second decision is refused: it was decided.
    expect(await decideByToken({ db: h.db, runQueue: h.queue }, token, "rejected", null)).toEqual({ ok: false, reason: "decided" });
  });

  it("R33: the signed URL decides once (reject, with a comment); the second use is refused", async () => {
    const runId = await h.createRun(approvalDef());
    await h.enqueue(runId);
    const waiting = await waitForApproval(runId);
    const token = ((waiting.events.find((e) => e.type === "step.waiting")!.output as { approvalUrl: string }).approvalUrl).split("/").at(-1)!;
    const deps = { db: h.db, runQueue: h.queue };
    const [first, second] = await Promise.all([decideByToken(deps, token, "rejected", "numbers are off"), decideByToken(deps, token, "approved", null)]);
    expect([first.ok, second.ok].filter(Boolean)).toHaveLength(1); // exactly one use decides
    const run = await h.waitForFinal(runId);
    const ask = stepRows(run, "ask")[0]!.output as { decision: string; decidedVia: string; decidedBy: unknown };
    expect(ask.decidedVia).toBe("link");
    expect(ask.decidedBy).toBeNull();
    expect(run.output).toEqual(ask.decision === "approved" ? { shipped: "shipped" } : { held: "held: numbers are off" });
    expect(await decideByToken(deps, token, "approved", null)).toEqual({ ok: false, reason: "decided" });
    expect(await decideByToken(deps, "x".repeat(43), "approved", null)).toEqual({ ok: false, reason: "missing" });
  });

  it("R33: without a decision, the timeout takes the default decision (decidedVia timeout)", async () => {
    const run = await h.run(approvalDef({ timeoutMs: 1_000, timeoutDecision: "approve" }));
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ shipped: "shipped" });
    expect(stepRows(run, "ask")[0]!.output).toMatchObject({ decision: "approved", decidedVia: "timeout", decidedBy: null, comment: null });
    const rejected = await h.run(approvalDef({ timeoutMs: 1_000 }));
    expect(stepRows(rejected, "ask")[0]!.output).toMatchObject({ decision: "rejected", decidedVia: "timeout" });
  });

  it("R33 R25: inside a loop body, each iteration has its own approval (ledger id ask@<i>), decided separately", async () => {
    const runId = await h.createRun(
      def(
        [
          ["each", "loop", { items: "input.orders", concurrency: 2 }],
          ["ask", "approval", { title: "Order" }],
          ["count", "transform", { expression: "$count(steps.each.output[decision = 'approved'])" }],
        ],
        [["start", "each"], ["each", "ask", "body"], ["each", "count"]],
      ),
      { orders: ["a", "b"] },
    );
    await h.enqueue(runId);
    await h.until("both iterations to wait", async () => (await h.db.runApproval.count({ where: { runId } })) === 2);
    expect((await h.db.runApproval.findMany({ where: { runId }, select: { stepId: true }, orderBy: { stepId: "asc" } })).map((a) => a.stepId)).toEqual(["ask@0", "ask@1"]);
    const deps = { db: h.db, runQueue: h.queue };
    expect((await decideApproval(deps, { runId, stepId: "ask@1" }, { decision: "rejected", decidedById: null, via: "user" })).ok).toBe(true);
    await h.until("the second iteration to settle", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "ask@1", status: "succeeded" } })));
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status).toBe("running");
    expect((await decideApproval(deps, { runId, stepId: "ask@0" }, { decision: "approved", decidedById: userId, via: "user" })).ok).toBe(true);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ count: 1 });
  });

  it("R33: a canceled run closes its waiting approval, and the URL no longer decides", async () => {
    const runId = await h.createRun(approvalDef());
    await h.enqueue(runId);
    const waiting = await waitForApproval(runId);
    const token = ((waiting.events.find((e) => e.type === "step.waiting")!.output as { approvalUrl: string }).approvalUrl).split("/").at(-1)!;
    await h.cancel(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(stepRows(run, "ask").map((s) => [s.status, s.error])).toEqual([["failed", "Run canceled"]]);
    expect(await decideByToken({ db: h.db, runQueue: h.queue }, token, "approved", null)).toEqual({ ok: false, reason: "not-running" });
  });
});

describe("error workflow", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R35: a failed run starts the error workflow's published version once, with the failure; its own failure starts none", async () => {
    // The error workflow itself fails (and names an error workflow): no run comes of that.
    const secondLevel = await addWorkflow(h.db, h.workspaceId, def([["t", "transform", { expression: "input" }]], [["start", "t"]]), { name: "Second level" });
    const errorWf = await addWorkflow(
      h.db,
      h.workspaceId,
      def([["report", "transform", { expression: "input" }], ["boom", "transform", { expression: "$error('report failed')" }]], [["start", "report"], ["report", "boom"]], { errorWorkflowId: secondLevel }),
      { name: "On error" },
    );
    await h.db.workflow.update({ where: { id: h.workflowId }, data: { name: "Nightly import" } });
    const failing = def([["fetch", "http.request", { url: `${web.url}/missing` }]], [["start", "fetch"]], { errorWorkflowId: errorWf });
    const run = await h.run(failing);
    expect(run.status).toBe("failed");
    await h.until("the error workflow's run to finish", async () => {
      const [errorRun] = await childrenOf(h.db, run.id);
      return !!errorRun && ["succeeded", "failed"].includes(errorRun.status);
    });
    const [errorRun, ...more] = await childrenOf(h.db, run.id);
    expect(more).toHaveLength(0);
    expect(errorRun).toMatchObject({ trigger: "error", parentStepId: null, status: "failed" });
    expect(errorRun!.input).toEqual({ run: { id: run.id, workflowId: h.workflowId, error: run.error, failedStepId: "fetch" }, workflow: { id: h.workflowId, name: "Nightly import" } });
    const report = await h.waitForFinal(errorRun!.id);
    expect(stepRows(report, "report")[0]!.output).toEqual(errorRun!.input);

    // Idempotent: the end handled again (a re-delivery) starts no second run.
    await afterRunEnd({ env: h.env, db: h.db, redis: h.redis, logger: createLogger("test", "silent"), signal: new AbortController().signal }, h.queue, run.id);
    expect(await childrenOf(h.db, run.id)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await h.db.run.count({ where: { workflowId: secondLevel } })).toBe(0);

    // A canceled run starts none.
    const canceledId = await h.createRun(def([["long", "delay", { durationMs: 10_000 }]], [["start", "long"]], { errorWorkflowId: errorWf }));
    await h.enqueue(canceledId);
    await h.until("the delay", async () => !!(await h.db.runStep.findFirst({ where: { runId: canceledId, stepId: "long" } })));
    await h.cancel(canceledId);
    await h.waitForFinal(canceledId);
    expect(await childrenOf(h.db, canceledId)).toHaveLength(0);
  });
});

describe("reconciler safety nets", () => {
  let h: Harness;
  let reconcile: (nowOffsetMs?: number) => ReturnType<typeof reconcileOnce>;
  let worker: { close(): Promise<void> };
  beforeAll(async () => {
    h = await startHarness({}, { worker: false });
    worker = await h.startWorker();
    const maintenanceQueue = createMaintenanceQueue(h.redis, h.env.REDIS_PREFIX);
    reconcile = (nowOffsetMs = 0) =>
      reconcileOnce({ env: h.env, db: h.db, redis: h.redis, logger: createLogger("test", "silent"), runQueue: h.queue, maintenanceQueue, workspaceId: h.workspaceId, now: () => new Date(Date.now() + nowOffsetMs) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R34: a decision whose wake-up was lost (no promote) is picked up by the reconciler; the run does not wait out FAR_RESUME_MS", async () => {
    const runId = await h.createRun(def([["ask", "approval", { title: "Lost?" }]], [["start", "ask"]]));
    await h.enqueue(runId);
    await h.until("the job to wait delayed", async () => (await h.queue.getJobState(runId)) === "delayed" && !!(await h.db.runStep.findFirst({ where: { runId, status: "waiting" } })));
    // The delivery that suspended may still be checking for a wake-up it can see (R34): let it end first, so
    // the decision below is one nobody notices (closing the worker waits for its delivery).
    await worker.close();
    // Decided behind the engine's back: nobody promotes the job.
    await h.db.runApproval.updateMany({ where: { runId }, data: { decision: "approved", decidedVia: "user", decidedAt: new Date() } });
    worker = await h.startWorker();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await h.queue.getJobState(runId)).toBe("delayed");
    const report = await reconcile();
    expect(report.woken).toEqual([runId]);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(stepRows(run, "ask")[0]!.output).toMatchObject({ decision: "approved" });
    expect((await reconcile()).woken).toEqual([]);
  });

  it("R22 R33: time spent waiting for an approval does not count toward the run timeout", async () => {
    const runId = await h.createRun(def([["ask", "approval", { title: "Slow person" }]], [["start", "ask"]]));
    await h.enqueue(runId);
    await h.until("the approval to wait", async () => !!(await h.db.runStep.findFirst({ where: { runId, status: "waiting" } })));
    // As if the run started 2 h ago and has waited for the person since (RUN_TIMEOUT_MS is 1 h).
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await h.db.run.update({ where: { id: runId }, data: { startedAt: twoHoursAgo } });
    await h.db.runStep.updateMany({ where: { runId, stepId: "ask" }, data: { startedAt: new Date(twoHoursAgo.getTime() + 1_000) } });
    expect((await reconcile()).timedOut).toEqual([]);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status).toBe("running");
    await h.cancel(runId);
    await h.waitForFinal(runId);
  });

  it("R35: a failed run whose error workflow was never started (the worker died) gets it from the reconciler, once", async () => {
    const errorWf = await addWorkflow(h.db, h.workspaceId, def([["t", "transform", { expression: "input.run.id" }]], [["start", "t"]]), { name: "On error" });
    const failedId = newId("run");
    await h.db.run.create({
      data: {
        id: failedId,
        workflowId: h.workflowId,
        workspaceId: h.workspaceId,
        definition: json(def([["x", "transform", { expression: "1" }]], [["start", "x"]], { errorWorkflowId: errorWf })),
        trigger: "manual",
        input: json({}),
        status: "failed",
        error: "Step \"x\" failed: boom",
        startedAt: new Date(Date.now() - 60_000),
        finishedAt: new Date(Date.now() - 30_000),
      },
    });
    const report = await reconcile();
    expect(report.errorRuns).toHaveLength(1);
    const [errorRun] = await childrenOf(h.db, failedId);
    expect(errorRun).toMatchObject({ trigger: "error", input: { run: { id: failedId, error: 'Step "x" failed: boom', failedStepId: null } } });
    expect((await h.waitForFinal(errorRun!.id)).output).toEqual({ t: failedId });
    expect((await reconcile()).errorRuns).toEqual([]);
    expect(await childrenOf(h.db, failedId)).toHaveLength(1);
  });
});

/** Worker processes with quick lock expiry, so a killed one's job moves on in about 2 s. */
const workers = workerProcesses();
const spawnWorker = (h: Harness) =>
  workers.spawn(h, {
    ...QUICK_RECOVERY,
    RECONCILE_WORKSPACE_ID: h.workspaceId,
  });
const kill = (child: ChildProcess) => killProcess(child);

describe("SIGKILL", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { worker: false });
  });
  afterEach(async () => {
    await workers.killAll();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R33 R10: a worker killed while an approval waits → the decision is taken by another worker process, the run completes once", async () => {
    const runId = await h.createRun(
      def(
        [
          ["ask", "approval", { title: "Go?" }],
          ["after", "transform", { expression: "steps.ask.output.decision" }],
        ],
        [["start", "ask"], ["ask", "after"]],
      ),
    );
    const first = await spawnWorker(h);
    await h.enqueue(runId);
    await h.until("the approval to wait", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "ask", status: "waiting" } })));
    await kill(first);
    const decided = await decideApproval({ db: h.db, runQueue: h.queue }, { runId, stepId: "ask" }, { decision: "approved", decidedById: null, via: "user" });
    expect(decided.ok).toBe(true);
    await spawnWorker(h);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ after: "approved" });
    expect(stepRows(run, "ask").map((s) => s.status)).toEqual(["succeeded"]);
    expect(await h.db.runApproval.count({ where: { runId } })).toBe(1);
    expect(run.events.filter((e) => e.type === "run.finished")).toHaveLength(1);
  });

  it("R30 R10: a worker killed while a child run is in flight → the child is not started twice and the parent completes once", async () => {
    const childWf = await addWorkflow(
      h.db,
      h.workspaceId,
      def([["slow", "http.request", { url: `${web.url}/slow?ms=1500&child` }], ["out", "transform", { expression: "steps.slow.output.body" }]], [["start", "slow"], ["slow", "out"]]),
    );
    const runId = await h.createRun(
      def(
        [
          ["call", "workflow.call", { workflowId: childWf }],
          ["after", "transform", { expression: "steps.call.output.out.slow" }],
        ],
        [["start", "call"], ["call", "after"]],
      ),
    );
    const first = await spawnWorker(h);
    await h.enqueue(runId);
    await h.until("the child's slow step to start", async () => {
      const [child] = await childrenOf(h.db, runId);
      return !!child && !!(await h.db.runStep.findFirst({ where: { runId: child.id, stepId: "slow", status: "running" } }));
    });
    await kill(first);
    await spawnWorker(h);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ after: true });
    const children = await childrenOf(h.db, runId);
    expect(children).toHaveLength(1);
    expect(children[0]!.status).toBe("succeeded");
    expect(stepRows(run, "call").map((s) => s.status)).toEqual(["succeeded"]);
    expect(run.events.filter((e) => e.type === "run.finished")).toHaveLength(1);
    expect(run.events.filter((e) => e.type === "step.waiting")).toHaveLength(1);
  });
});
