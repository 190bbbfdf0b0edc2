/**
 * The reconciler (docs/run-engine.md R22) and cron triggers (R23): the database is the truth and Redis is
 * rebuilt from it. Real PostgreSQL, Redis and BullMQ; each pass is scoped to this test's workspace because
 * test files share one database.
 */
import { docFromDefinition, encodeDocState, newId, WorkflowDefinition, type WorkflowDefinitionInput } from "@algorythmos/domain";
import { bytes, closeRedis, createLogger, createMaintenanceQueue, createRedis, cronSchedulerId, json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDuration, reconcileOnce, startCronRun, startMaintenance, type ReconcileDeps } from "../../worker/reconciler.js";
import { startHarness, workflow, type Harness } from "./harness.js";

let h: Harness;
let deps: ReconcileDeps;
let connection: ReturnType<typeof createRedis>;

beforeAll(async () => {
  h = await startHarness();
  connection = createRedis(h.env.REDIS_URL, { name: "test-maintenance" });
  deps = {
    env: h.env,
    db: h.db,
    redis: h.redis,
    logger: createLogger("reconciler-test", h.env.LOG_LEVEL),
    runQueue: h.queue,
    maintenanceQueue: createMaintenanceQueue(connection, h.env.REDIS_PREFIX),
    workspaceId: h.workspaceId,
  };
});
afterAll(async () => {
  await deps?.maintenanceQueue.close();
  if (connection) await closeRedis(connection);
  await h?.close();
});

const later = (ms: number) => () => new Date(Date.now() + ms);

/** Publishes `definition` as publishWorkflow stores it: a new immutable version the workflow points at (R37). */
async function publish(workflowId: string, definition: WorkflowDefinitionInput): Promise<string> {
  const parsed = WorkflowDefinition.parse(definition);
  const doc = docFromDefinition(parsed);
  const id = newId("ver");
  const { latestVersion } = await h.db.workflow.update({ where: { id: workflowId }, data: { latestVersion: { increment: 1 } }, select: { latestVersion: true } });
  await h.db.workflowSnapshot.create({
    data: { id, workflowId, version: latestVersion, label: `v${latestVersion}`, kind: "published", yjsState: bytes(encodeDocState(doc)), definition: json(parsed) },
  });
  doc.destroy();
  await h.db.workflow.update({ where: { id: workflowId }, data: { publishedVersionId: id } });
  return id;
}
const simple = () => workflow([["one", "transform", { expression: "input.n + 1" }]], [["start", "one"]]);

describe("R22 reconciler", () => {
  it("R22: a queued run whose job never reached Redis is enqueued after the grace period and finishes", async () => {
    const runId = await h.createRun(simple(), { n: 41 }); // committed, never enqueued (e.g. Redis was down)
    expect((await reconcileOnce({ ...deps, now: later(0) })).enqueued).not.toContain(runId); // still in its grace period
    const report = await reconcileOnce({ ...deps, now: later(11_000) });
    expect(report.enqueued).toContain(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ one: 42 });
    // Enqueueing is idempotent by job id: a second pass finds the job and does nothing.
    expect((await reconcileOnce({ ...deps, now: later(11_000) })).enqueued).not.toContain(runId);
  });

  it("R22 R5: a running run whose job vanished (Redis lost it) is enqueued again and resumes from the ledger", async () => {
    const runId = await h.createRun(simple(), { n: 1 });
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: new Date(Date.now() - 60_000) } });
    await h.db.runStep.create({ data: { id: newId("rst"), runId, stepId: "start", type: "trigger.manual", attempt: 1, status: "succeeded", output: json({ n: 1 }) } });
    const report = await reconcileOnce(deps);
    expect(report.enqueued).toContain(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.steps.filter((s) => s.stepId === "start")).toHaveLength(1);
    expect(run.events.some((e) => e.type === "run.started")).toBe(false);
  });

  it("R22 R15: a run running longer than RUN_TIMEOUT_MS fails with a clear reason, run.finished is published and its open step is closed", async () => {
    const runId = await h.createRun(simple());
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: twoHoursAgo } });
    await h.db.runStep.create({ data: { id: newId("rst"), runId, stepId: "start", type: "trigger.manual", attempt: 1, status: "running", startedAt: twoHoursAgo } });
    const report = await reconcileOnce(deps);
    expect(report.timedOut).toEqual([runId]);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toBe("Run timed out after 1 h");
    expect(run.events.filter((e) => e.type === "run.finished")).toEqual([expect.objectContaining({ status: "failed", error: "Run timed out after 1 h" })]);
    await h.until("the open step to be closed", async () => (await h.db.runStep.count({ where: { runId, status: { in: ["running", "pending"] } } })) === 0);
    const closed = await h.snapshot(runId);
    expect(closed.steps.find((s) => s.stepId === "start")).toMatchObject({ status: "failed", error: "Run timed out after 1 h" });
    expect(closed.steps.find((s) => s.stepId === "one")).toMatchObject({ status: "skipped", error: "Run timed out after 1 h" });
    expect((await reconcileOnce(deps)).timedOut).toEqual([]); // final: never touched again
  });

  it("R22 R13: time spent waiting in a delay step does not count toward the run timeout", async () => {
    const runId = await h.createRun(workflow([["wait", "delay", { durationMs: 86_400_000 }]], [["start", "wait"]]));
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: twoHoursAgo } });
    await h.db.runStep.create({
      data: { id: newId("rst"), runId, stepId: "wait", type: "delay", attempt: 1, status: "running", startedAt: twoHoursAgo, output: json({ resumeAt: new Date(twoHoursAgo.getTime() + 86_400_000).toISOString() }) },
    });
    const report = await reconcileOnce(deps);
    expect(report.timedOut).not.toContain(runId);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
    await h.cancel(runId); // tidy up: the re-enqueued job closes the ledger
    await h.waitForFinal(runId);
  });

  it("R22: durations in reasons read naturally", () => {
    expect(formatDuration(3_600_000)).toBe("1 h");
    expect(formatDuration(90_000)).toBe("90 s");
    expect(formatDuration(1_800_000)).toBe("30 min");
    expect(formatDuration(1_500)).toBe("1500 ms");
  });
});

describe("R39 webhook keys", () => {
  it("R39: a pass deletes Idempotency-Keys past their 24 h window and keeps the rest", async () => {
    const old = `old-${newId("run")}`;
    const fresh = `fresh-${newId("run")}`;
    await h.db.webhookRequest.createMany({
      data: [
        { workflowId: h.workflowId, key: old, runId: "run_old", createdAt: new Date(Date.now() - 25 * 3600 * 1000) },
        { workflowId: h.workflowId, key: fresh, runId: "run_fresh", createdAt: new Date(Date.now() - 23 * 3600 * 1000) },
      ],
    });
    const report = await reconcileOnce({ ...deps, now: later(0) });
    expect(report.expiredWebhookKeys).toBeGreaterThanOrEqual(1);
    const left = await h.db.webhookRequest.findMany({ where: { workflowId: h.workflowId, key: { in: [old, fresh] } }, select: { key: true } });
    expect(left.map((row) => row.key)).toEqual([fresh]);
  });
});

describe("R23 cron triggers", () => {
  it("R23 R37: a published cron trigger step gets a job scheduler whose jobs start runs of the published version (trigger cron, input { scheduledAt }); publishing without the step removes it", async () => {
    const definition: WorkflowDefinitionInput = {
      name: "Every second",
      steps: [
        { id: "tick", type: "trigger.cron", config: { cron: "* * * * * *", timezone: "UTC" } },
        { id: "echo", type: "transform", config: { expression: "input.scheduledAt" } },
      ],
      edges: [{ id: "e0", source: "tick", target: "echo" }],
    };
    const workflowId = newId("wf");
    const doc = docFromDefinition(WorkflowDefinition.parse(definition));
    await h.db.workflow.create({
      data: { id: workflowId, workspaceId: h.workspaceId, name: "Cron", definition: json(definition), yjsState: bytes(encodeDocState(doc)) },
    });
    doc.destroy();
    expect((await reconcileOnce(deps)).schedulersUpserted).toEqual([]); // R37: a draft's cron step schedules nothing
    const versionId = await publish(workflowId, definition);
    const report = await reconcileOnce(deps);
    expect(report.schedulersUpserted).toEqual([cronSchedulerId(workflowId, "tick")]);
    expect((await reconcileOnce(deps)).schedulersUpserted).toEqual([]); // unchanged: left alone
    // The maintenance queue runs the cron jobs. Its own reconcile pass runs once at start (the schedule fires
    // at once) and then not again during the test, so the passes asserted here are the test's own.
    const maintenance = await startMaintenance({ env: { ...h.env, RECONCILE_INTERVAL_MS: 3_600_000 }, db: h.db, redis: h.redis, logger: deps.logger, workspaceId: h.workspaceId });
    try {

      await h.until("a cron run to finish", async () => (await h.db.run.count({ where: { workflowId, trigger: "cron", status: "succeeded" } })) > 0);
      const cron = await h.db.run.findFirstOrThrow({ where: { workflowId, trigger: "cron", status: "succeeded" } });
      const scheduledAt = (cron.input as { scheduledAt: string }).scheduledAt;
      expect(new Date(scheduledAt).toISOString()).toBe(scheduledAt);
      expect(new Date(scheduledAt).getUTCMilliseconds()).toBe(0); // the schedule's time, not the job's pick-up time
      expect(cron.output).toEqual({ echo: scheduledAt });
      expect(cron.versionId).toBe(versionId);
      const events = await h.db.runEvent.findMany({ where: { runId: cron.id }, orderBy: { id: "asc" } });
      expect((events[0]!.payload as { type: string }).type).toBe("run.queued");

      // A version without the step is published: the scheduler goes.
      await publish(workflowId, { ...definition, steps: [{ id: "manual", type: "trigger.manual", config: {} }], edges: [] });
      const removed = await reconcileOnce(deps);
      expect(removed.schedulersRemoved).toEqual([cronSchedulerId(workflowId, "tick")]);
      expect((await deps.maintenanceQueue.getJobSchedulers(0, -1)).map((s) => s.key).filter((key) => key.startsWith("cron:"))).toEqual([]);
    } finally {
      await maintenance.close();
    }
  });

  it("R37 R38: cron runs run the published version whatever the draft holds; a deactivated workflow loses its scheduler and its cron jobs start nothing", async () => {
    const tick = { id: "tick", type: "trigger.cron", config: { cron: "0 0 1 1 *", timezone: "UTC" } };
    const published: WorkflowDefinitionInput = {
      name: "Published cron",
      steps: [tick, { id: "which", type: "transform", config: { expression: `"published"` } }],
      edges: [{ id: "e0", source: "tick", target: "which" }],
    };
    const draft: WorkflowDefinitionInput = { ...published, steps: [tick, { id: "which", type: "transform", config: { expression: `"draft"` } }] };
    const workflowId = newId("wf");
    const doc = docFromDefinition(WorkflowDefinition.parse(draft));
    await h.db.workflow.create({ data: { id: workflowId, workspaceId: h.workspaceId, name: "Cron", definition: json(draft), yjsState: bytes(encodeDocState(doc)) } });
    doc.destroy();
    const versionId = await publish(workflowId, published);
    expect((await reconcileOnce(deps)).schedulersUpserted).toEqual([cronSchedulerId(workflowId, "tick")]);

    const runId = await startCronRun(deps, { workflowId, stepId: "tick" }, new Date("2027-01-01T00:00:00.000Z"));
    expect(runId).not.toBeNull();
    const run = await h.waitForFinal(runId!);
    expect(run).toMatchObject({ status: "succeeded", output: { which: "published" } });
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId! } })).versionId).toBe(versionId);

    await h.db.workflow.update({ where: { id: workflowId }, data: { active: false } });
    expect((await reconcileOnce(deps)).schedulersRemoved).toEqual([cronSchedulerId(workflowId, "tick")]);
    // A job already in flight when it was deactivated starts no run.
    expect(await startCronRun(deps, { workflowId, stepId: "tick" }, new Date("2028-01-01T00:00:00.000Z"))).toBeNull();
    expect(await h.db.run.count({ where: { workflowId } })).toBe(1);
  });
});
