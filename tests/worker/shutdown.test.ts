/** R10: closing a worker interrupts a run that does not finish in time; another worker resumes it from the ledger. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, workflow, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { worker: false });
});
afterAll(async () => {
  await h?.close();
});

it("R10: a worker closed mid-step hands the job back; the next worker retries the interrupted step and finishes", async () => {
  const first = await h.startWorker(200);
  const runId = await h.createRun(
    workflow(
      [
        ["before", "transform", { expression: "'done once'" }],
        ["wait", "delay", { durationMs: 1_500 }],
      ],
      [["start", "before"], ["before", "wait"]],
    ),
  );
  await h.enqueue(runId);
  // Wait until the delay step is running, then close the worker: its drain bound (200 ms) is shorter than the delay.
  const deadline = Date.now() + 15_000;
  while (!(await h.db.runStep.findFirst({ where: { runId, stepId: "wait", status: "running" } }))) {
    if (Date.now() > deadline) throw new Error("the delay step never started");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await first.close();
  expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
  expect(await h.queue.getJobState(runId)).toBe("waiting");

  await h.startWorker();
  const run = await h.waitForFinal(runId);
  expect(run.status).toBe("succeeded");
  expect(run.steps.filter((s) => s.stepId === "before")).toHaveLength(1);
  const attempts = run.steps.filter((s) => s.stepId === "wait").map((s) => [s.attempt, s.status]);
  expect(attempts).toEqual([[1, "failed"], [2, "succeeded"]]);
  expect(run.events.filter((e) => e.type === "run.started")).toHaveLength(1);
});
