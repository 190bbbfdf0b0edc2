/**
 * R36 — per-workflow concurrency (`definition.settings.maxConcurrentRuns`): real PostgreSQL, Redis and BullMQ,
 * two workers taking jobs of the same workflow at once. At most N runs are `running` at any moment, the others
 * stay `queued` and start in creation order, and a finishing run lets the next one start without waiting for
 * its retry.
 */
import { newId } from "@algorythmos/domain";
import { bytes, json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../server/services/approvals.js";
import { THROTTLED_RETRY_MS } from "../../worker/run-worker.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker(); // two workers, each with WORKER_CONCURRENCY 4: eight slots for one workflow's runs
});
afterAll(async () => {
  await h?.close();
});

function limited(max: number, steps: [string, string, Record<string, unknown>][]) {
  return {
    name: "Limited",
    settings: { maxConcurrentRuns: max },
    steps: [{ id: "start", type: "trigger.manual", config: {} }, ...steps.map(([id, type, config]) => ({ id, type, config }))],
    edges: steps.map(([id], index) => ({ id: `e${index}`, source: index === 0 ? "start" : steps[index - 1]![0], target: id })),
  };
}

/** A workflow of its own and `count` queued runs of it, created in order (1 ms apart, so createdAt orders them). */
async function queuedRuns(definition: unknown, count: number): Promise<{ workflowId: string; runIds: string[] }> {
  const workflowId = newId("wf");
  await h.db.workflow.create({ data: { id: workflowId, workspaceId: h.workspaceId, name: "Limited", definition: json(definition), yjsState: bytes(new Uint8Array()) } });
  const runIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = newId("run");
    await h.db.run.create({ data: { id, workflowId, workspaceId: h.workspaceId, definition: json(definition), trigger: "manual", input: json({ i }) } });
    runIds.push(id);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  return { workflowId, runIds };
}

/** Every run's [startedAt, finishedAt], in creation order. */
async function intervals(runIds: string[]) {
  const rows = await h.db.run.findMany({ where: { id: { in: runIds } }, select: { id: true, status: true, startedAt: true, finishedAt: true } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return runIds.map((id) => byId.get(id)!);
}

/** The most runs whose [startedAt, finishedAt] overlap at one moment. */
function maxOverlap(spans: { startedAt: Date | null; finishedAt: Date | null }[]): number {
  const points = spans.flatMap((s) => [
    [s.startedAt!.getTime(), 1],
    [s.finishedAt!.getTime(), -1],
  ]);
  points.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!); // an end before a start at the same millisecond
  let current = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (current += delta!));
  return max;
}

describe("R36: maxConcurrentRuns", () => {
  it("R36: with a limit of 1, runs enqueued in reverse order run one at a time, in creation order", async () => {
    const { runIds } = await queuedRuns(limited(1, [["wait", "delay", { durationMs: 300 }], ["done", "transform", { expression: "input.i" }]]), 4);
    for (const id of [...runIds].reverse()) await h.enqueue(id);
    // Sampled while they run: never more than one `running`.
    let sampledMax = 0;
    const sampling = (async () => {
      for (;;) {
        const running = await h.db.run.count({ where: { id: { in: runIds }, status: "running" } });
        sampledMax = Math.max(sampledMax, running);
        if ((await h.db.run.count({ where: { id: { in: runIds }, status: "succeeded" } })) === runIds.length) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    for (const id of runIds) expect((await h.waitForFinal(id)).status).toBe("succeeded");
    await sampling;
    const spans = await intervals(runIds);
    expect(sampledMax).toBe(1);
    expect(maxOverlap(spans)).toBe(1);
    const startOrder = [...spans].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime()).map((s) => s.id);
    expect(startOrder).toEqual(runIds);
    // A finishing run promotes the next (no waiting out the retry of THROTTLED_RETRY_MS).
    const gaps = spans.slice(1).map((s, i) => s.startedAt!.getTime() - spans[i]!.finishedAt!.getTime());
    console.log(`R36 limit 1: gaps between a finish and the next start ${gaps.join(", ")} ms`);
    expect(Math.max(...gaps)).toBeLessThan(THROTTLED_RETRY_MS);
  });

  it("R36: with a limit of 2 and two workers, at most two of six runs are running at once", async () => {
    const { runIds } = await queuedRuns(limited(2, [["wait", "delay", { durationMs: 250 }]]), 6);
    await Promise.all(runIds.map((id) => h.enqueue(id)));
    for (const id of runIds) expect((await h.waitForFinal(id)).status).toBe("succeeded");
    const spans = await intervals(runIds);
    expect(maxOverlap(spans)).toBe(2);
    // FIFO: a run never starts before an older one has.
    const starts = spans.map((s) => s.startedAt!.getTime());
    for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThanOrEqual(starts[i - 1]!);
  });

  it("R36: a run waiting for an approval holds its slot; the next run starts once it is decided", async () => {
    const definition = limited(1, [["ask", "approval", { title: "Next?" }]]);
    const { runIds } = await queuedRuns(definition, 2);
    const [first, second] = runIds as [string, string];
    await h.enqueue(first);
    await h.until("the approval to wait", async () => !!(await h.db.runStep.findFirst({ where: { runId: first, stepId: "ask", status: "waiting" } })));
    await h.enqueue(second);
    await new Promise((resolve) => setTimeout(resolve, THROTTLED_RETRY_MS + 500)); // at least one retry of the second
    expect((await h.db.run.findUniqueOrThrow({ where: { id: second }, select: { status: true } })).status).toBe("queued");
    expect(await h.queue.getJobState(second)).toBe("delayed");
    await decideApproval({ db: h.db, runQueue: h.queue }, { runId: first, stepId: "ask" }, { decision: "approved", decidedById: null, via: "user" });
    expect((await h.waitForFinal(first)).status).toBe("succeeded");
    await h.until("the second run to wait for its approval", async () => !!(await h.db.runStep.findFirst({ where: { runId: second, stepId: "ask", status: "waiting" } })));
    await h.cancel(second);
    expect((await h.waitForFinal(second)).status).toBe("canceled");
  });
});
