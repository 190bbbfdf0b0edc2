/**
 * A run's state changes and their events are one statement (docs/run-engine.md R2, R15, R16, R1): a fault
 * injected into storing the event (a PostgreSQL trigger that rejects it, for one run only) must leave the
 * state unchanged too, and a final run without its run.finished gets one on its next delivery.
 */
import { newId } from "@algorythmos/domain";
import { stopRun } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, workflow, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Makes PostgreSQL reject storing one event type of one run until `heal` is called: the crash between two statements, forced. */
async function rejectEvent(runId: string, type: string): Promise<{ heal(): Promise<void> }> {
  const name = `reject_${runId}_${type.replace(".", "_")}`.toLowerCase();
  await h.db.$executeRawUnsafe(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW."runId" = '${runId}' AND NEW."payload"->>'type' = '${type}' THEN RAISE EXCEPTION 'injected fault: % not stored', '${type}'; END IF;
      RETURN NEW;
    END $$`);
  await h.db.$executeRawUnsafe(`CREATE TRIGGER ${name} BEFORE INSERT ON "RunEvent" FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return {
    async heal() {
      await h.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${name} ON "RunEvent"`);
      await h.db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS ${name}()`);
    },
  };
}

const oneStep = () => workflow([["one", "transform", { expression: "'done'" }]], [["start", "one"]]);
const count = (run: { events: { type: string }[] }, type: string) => run.events.filter((e) => e.type === type).length;

describe("one statement per state change", () => {
  it("R2: when run.started cannot be stored, the run is not started either; once it can, it runs with one run.started", async () => {
    const runId = await h.createRun(oneStep());
    const fault = await rejectEvent(runId, "run.started");
    try {
      await h.enqueue(runId);
      await h.until("the job to fail", async () => (await h.queue.getJobState(runId)) === "failed");
      const run = await h.snapshot(runId);
      expect(run.status).toBe("queued");
      expect(run.steps).toHaveLength(0);
    } finally {
      await fault.heal();
    }
    await (await h.queue.getJob(runId))!.retry("failed"); // what the reconciler does with a failed job (R22)
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(count(run, "run.started")).toBe(1);
    expect(count(run, "run.finished")).toBe(1);
  });

  it("R16: when run.finished cannot be stored, the run is not final either; once it can, it ends with one run.finished", async () => {
    const runId = await h.createRun(oneStep());
    const fault = await rejectEvent(runId, "run.finished");
    try {
      await h.enqueue(runId);
      await h.until("the job to fail", async () => (await h.queue.getJobState(runId)) === "failed");
      const run = await h.snapshot(runId);
      expect(run.status).toBe("running"); // not a final run that runEvents would wait on forever
      expect(count(run, "run.finished")).toBe(0);
    } finally {
      await fault.heal();
    }
    await (await h.queue.getJob(runId))!.retry("failed");
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ one: "done" });
    expect(count(run, "run.finished")).toBe(1);
    expect(run.events.at(-1)).toMatchObject({ type: "run.finished", status: "succeeded", output: { one: "done" } });
  });

  it("R15: a cancel whose run.finished cannot be stored does not cancel", async () => {
    const runId = await h.createRun(oneStep());
    const fault = await rejectEvent(runId, "run.finished");
    try {
      const deps = { db: h.db, redis: h.redis, redisPrefix: h.env.REDIS_PREFIX };
      await expect(stopRun(deps, { runId, workflowId: h.workflowId, reason: "canceled", error: "Canceled by Tester" })).rejects.toThrow(/injected fault/);
      expect((await h.snapshot(runId)).status).toBe("queued");
    } finally {
      await fault.heal();
    }
    expect(await h.cancel(runId)).toBe(true);
    const run = await h.snapshot(runId);
    expect(run.status).toBe("canceled");
    expect(run.events).toEqual([expect.objectContaining({ type: "run.finished", status: "canceled", error: "Canceled by Tester" })]);
  });
});

describe("R1 repair", () => {
  it("R1: a final run delivered again without its run.finished (left by a crash) gets one, built from the run; later deliveries add none", async () => {
    const runId = newId("run");
    await h.db.run.create({
      data: {
        id: runId,
        workflowId: h.workflowId,
        workspaceId: h.workspaceId,
        definition: oneStep() as never,
        trigger: "manual",
        input: {},
        status: "succeeded",
        output: { one: "done" },
        startedAt: new Date(Date.now() - 2_000),
        finishedAt: new Date(Date.now() - 1_000),
      },
    });
    await h.enqueue(runId);
    let run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.events).toEqual([expect.objectContaining({ type: "run.finished", stepId: null, status: "succeeded", output: { one: "done" }, error: null })]);

    await (await h.queue.getJob(runId))!.remove();
    await h.enqueue(runId);
    run = await h.waitForFinal(runId);
    expect(count(run, "run.finished")).toBe(1);
  });
});
