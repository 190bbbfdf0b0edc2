/** R10: closing a worker interrupts a run that does not finish in time; another worker resumes it from the ledger. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, startTestServer, workflow, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  [h, web] = await Promise.all([startHarness({}, { worker: false }), startTestServer()]);
});
afterAll(async () => {
  await h?.close();
  await web?.close();
});

it("R10: a worker closed mid-step hands the job back; the next worker retries the interrupted step and finishes", async () => {
  const first = await h.startWorker(200);
  const runId = await h.createRun(
    workflow(
      [
        ["before", "transform", { expression: "'done once'" }],
        ["slow", "http.request", { url: `${web.url}/slow?ms=1500` }],
      ],
      [["start", "before"], ["before", "slow"]],
    ),
  );
  await h.enqueue(runId);
  // Wait until the slow step is running, then close the worker: its drain bound (200 ms) is shorter than the call.
  await h.until("the slow step to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", status: "running" } })));
  await first.close();
  expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
  expect(await h.queue.getJobState(runId)).toBe("waiting");

  await h.startWorker();
  const run = await h.waitForFinal(runId);
  expect(run.status).toBe("succeeded");
  expect(run.steps.filter((s) => s.stepId === "before")).toHaveLength(1);
  const attempts = run.steps.filter((s) => s.stepId === "slow").map((s) => [s.attempt, s.status]);
  expect(attempts).toEqual([[1, "failed"], [2, "succeeded"]]);
  expect(run.events.filter((e) => e.type === "run.started")).toHaveLength(1);
});
