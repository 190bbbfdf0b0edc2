/**
 * Concurrent branches, retries, timeouts, delays that hold no worker, and re-runs from a step
 * (docs/run-engine.md R6, R13, R17, R19, R21), on the real worker with PostgreSQL, Redis and BullMQ. Graphs are drawn above each test.
 */
import { newId } from "@algorythmos/domain";
import { json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backoffDelay, retryPolicy, stepTimeout } from "../../worker/engine.js";
import { eventTypes, startHarness, startTestServer, stepStatuses, workflow, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  [h, web] = await Promise.all([startHarness(), startTestServer()]);
});
afterAll(async () => {
  await h?.close();
  await web?.close();
});


describe("R6 independent branches", () => {
  it("R6: fan-out/fan-in — independent branches execute concurrently; the join runs once after both", async () => {
    //          ┌──▶ a (HTTP 400 ms) ──┐
    //  start ──┤                       ├──▶ join
    //          └──▶ b (HTTP 400 ms) ──┘
    const run = await h.run(
      workflow(
        [
          ["a", "http.request", { url: `${web.url}/slow?ms=400&branch=a` }],
          ["b", "http.request", { url: `${web.url}/slow?ms=400&branch=b` }],
          ["join", "transform", { expression: "steps.a.output.body.slow and steps.b.output.body.slow" }],
        ],
        [["start", "a"], ["start", "b"], ["a", "join"], ["b", "join"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ join: true });
    const order = eventTypes(run);
    // Both branches started before either finished: they were in flight together.
    expect(Math.max(order.indexOf("step.started:a"), order.indexOf("step.started:b"))).toBeLessThan(
      Math.min(order.indexOf("step.succeeded:a"), order.indexOf("step.succeeded:b")),
    );
    expect(order.filter((type) => type === "step.started:join")).toHaveLength(1);
    expect(order.indexOf("step.started:join")).toBeGreaterThan(Math.max(order.indexOf("step.succeeded:a"), order.indexOf("step.succeeded:b")));
  });

  it("R6 R8: a branch failing while another executes — the executing one is recorded, nothing new starts", async () => {
    //          ┌──▶ bad ✗
    //  start ──┤
    //          └──▶ slow (HTTP 400 ms) ──▶ after
    const run = await h.run(
      workflow(
        [
          ["bad", "transform", { expression: "$error('boom')" }],
          ["slow", "http.request", { url: `${web.url}/slow?ms=400&r6r8` }],
          ["after", "transform", { expression: "1" }],
        ],
        [["start", "bad"], ["start", "slow"], ["slow", "after"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "bad" failed: Expression failed: boom/);
    expect(stepStatuses(run)).toEqual({ start: "succeeded", bad: "failed", slow: "succeeded", after: "skipped" });
  });

  it("R6 R15: cancel aborts every branch in flight", async () => {
    //          ┌──▶ x (hangs)
    //  start ──┤
    //          └──▶ y (hangs)
    const runId = await h.createRun(
      workflow(
        [
          ["x", "http.request", { url: `${web.url}/hang?branch=x` }],
          ["y", "http.request", { url: `${web.url}/hang?branch=y` }],
        ],
        [["start", "x"], ["start", "y"]],
      ),
    );
    await h.enqueue(runId);
    await h.until("both requests in flight", async () => ["x", "y"].every((b) => web.requests.some((r) => r.url === `/hang?branch=${b}`)));
    await h.cancel(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.steps.filter((s) => s.stepId !== "start").map((s) => [s.stepId, s.status, s.error])).toEqual([
      ["x", "failed", "Run canceled"],
      ["y", "failed", "Run canceled"],
    ]);
    await h.until("both requests aborted", async () => ["x", "y"].every((b) => web.aborted.includes(`/hang?branch=${b}`)));
  });
});

describe("R17 retries", () => {
  it("R17: policy defaults — 3 attempts for idempotent steps, 1 for at-most-once; backoff doubles with 50–100 % jitter", () => {
    expect(retryPolicy("http.request", {})).toEqual({ maxAttempts: 3, backoffMs: 1000 });
    expect(retryPolicy("email.postmark", {})).toEqual({ maxAttempts: 1, backoffMs: 1000 });
    expect(retryPolicy("http.request", { retry: { maxAttempts: 5, backoffMs: 10 } })).toEqual({ maxAttempts: 5, backoffMs: 10 });
    expect(backoffDelay(1000, 1, () => 0)).toBe(500);
    expect(backoffDelay(1000, 1, () => 1)).toBe(1000);
    expect(backoffDelay(1000, 3, () => 1)).toBe(4000);
    expect(backoffDelay(60_000, 10, () => 1)).toBe(300_000); // capped at 5 minutes
  });

  it("R17 R18: start → call (503, 503, 200): attempts 1 and 2 fail, 3 succeeds; step.retrying between; one key for every attempt", async () => {
    // start ──▶ call
    const run = await h.run(
      workflow([["call", "http.request", { method: "POST", url: `${web.url}/flaky?key=r17&fail=2`, body: { a: 1 }, retry: { maxAttempts: 3, backoffMs: 5 } }]], [["start", "call"]]),
    );
    expect(run.status).toBe("succeeded");
    const attempts = run.steps.filter((s) => s.stepId === "call");
    expect(attempts.map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "failed"], [3, "succeeded"]]);
    expect(attempts[0]!.error).toMatch(/HTTP 503/);
    expect(attempts[0]!.output).toMatchObject({ status: 503, body: "try later" });
    expect(eventTypes(run)).toEqual([
      "run.started",
      "step.started:start",
      "step.succeeded:start",
      "step.started:call",
      "step.retrying:call",
      "step.started:call",
      "step.retrying:call",
      "step.started:call",
      "step.succeeded:call",
      "run.finished",
    ]);
    const keys = web.requests.filter((r) => r.url.includes("key=r17")).map((r) => r.headers["idempotency-key"]);
    expect(keys).toEqual([1, 2, 3].map(() => `${run.id}:call`)); // a cooperating API sees one operation
  });

  it("R17: non-retryable errors (a 404, an expression error) fail at once", async () => {
    const run = await h.run(
      workflow([["call", "http.request", { url: `${web.url}/missing?r17`, retry: { maxAttempts: 5, backoffMs: 5 } }]], [["start", "call"]]),
    );
    expect(run.status).toBe("failed");
    expect(run.steps.filter((s) => s.stepId === "call")).toHaveLength(1);
    expect(run.events.some((e) => e.type === "step.retrying")).toBe(false);
  });
});

describe("R19 step timeouts", () => {
  it("R19: timeoutMs from the config, else a per-type or engine default", () => {
    expect(stepTimeout("http.request", { timeoutMs: 250 })).toBe(250);
    expect(stepTimeout("openai.chat", {})).toBe(120_000);
    expect(stepTimeout("email.postmark", {})).toBe(30_000);
    expect(stepTimeout("transform", {})).toBe(300_000);
  });

  it("R19 R17: a step over its timeout fails as retryable and is attempted again", async () => {
    // start ──▶ slow (timeoutMs 200, the server answers after 5 s)
    const run = await h.run(
      workflow([["slow", "http.request", { url: `${web.url}/slow?ms=5000&r19`, timeoutMs: 200, retry: { maxAttempts: 2, backoffMs: 5 } }]], [["start", "slow"]]),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "slow" failed: .*timed out after 200 ms/i);
    expect(run.steps.filter((s) => s.stepId === "slow").map((s) => s.status)).toEqual(["failed", "failed"]);
  });
});

describe("R13 delay", () => {
  it("R13: start → wait → after, start → side: the delay frees the worker (job delayed), the side branch runs meanwhile, then the run resumes", async () => {
    //          ┌──▶ wait (400 ms) ──▶ after
    //  start ──┤
    //          └──▶ side
    const runId = await h.createRun(
      workflow(
        [
          ["wait", "delay", { durationMs: 400 }],
          ["after", "transform", { expression: "'after'" }],
          ["side", "transform", { expression: "'side'" }],
        ],
        [["start", "wait"], ["wait", "after"], ["start", "side"]],
      ),
    );
    await h.enqueue(runId);
    await h.until("the job to be delayed", async () => (await h.queue.getJobState(runId)) === "delayed");
    const waiting = await h.snapshot(runId);
    expect(waiting.status).toBe("running");
    const row = waiting.steps.find((s) => s.stepId === "wait")!;
    expect(row.status).toBe("running");
    expect(row.output).toEqual({ resumeAt: expect.any(String) });
    expect(stepStatuses(waiting)).toEqual({ start: "succeeded", wait: "running", side: "succeeded" });

    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", wait: "succeeded", after: "succeeded", side: "succeeded" });
    expect(run.steps.filter((s) => s.stepId === "wait")).toHaveLength(1);
    expect(run.output).toEqual({ after: "after", side: "side" });
    const order = eventTypes(run);
    expect(order.indexOf("step.succeeded:side")).toBeLessThan(order.indexOf("step.succeeded:wait"));
    expect(order.indexOf("step.succeeded:wait")).toBeLessThan(order.indexOf("step.started:after"));
    expect(run.events.filter((e) => e.type === "run.started")).toHaveLength(1);
  });

  it("R13 R15: a long delay (1 h) waits in BullMQ; canceling it closes the delay and skips the rest at once", async () => {
    const runId = await h.createRun(
      workflow([["wait", "delay", { durationMs: 3_600_000 }], ["after", "transform", { expression: "1" }]], [["start", "wait"], ["wait", "after"]]),
    );
    await h.enqueue(runId);
    await h.until("the job to be delayed", async () => (await h.queue.getJobState(runId)) === "delayed");
    await h.cancel(runId);
    // The worker promotes the delayed job so its delivery closes the ledger now, not in an hour.
    await h.until("the ledger to be closed", async () => (await h.db.runStep.count({ where: { runId, error: "Run canceled" } })) === 2);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.steps.find((s) => s.stepId === "wait")).toMatchObject({ status: "failed", error: "Run canceled" });
    expect(run.steps.find((s) => s.stepId === "after")).toMatchObject({ status: "skipped", error: "Run canceled" });
  });

  it("R13 R15: a cancel landing at any moment of the delivery that suspends for a delay closes the run at once", async () => {
    // The cancel message can reach the worker while the job is being moved to delayed; wherever it lands in
    // that delivery, the job must not sleep until the delay ends. Offsets sweep the delivery (0–~40 ms).
    const runIds: string[] = [];
    for (let offset = 0; offset < 24; offset++) {
      const runId = await h.createRun(workflow([["wait", "delay", { durationMs: 3_600_000 }]], [["start", "wait"]]));
      runIds.push(runId);
      await h.enqueue(runId);
      await new Promise((resolve) => setTimeout(resolve, offset * 1.5));
      await h.cancel(runId);
    }
    for (const runId of runIds) expect((await h.waitForFinal(runId)).status).toBe("canceled");
  });

  it("R13 R8: when another branch fails while a delay waits, the delay and its followers are skipped", async () => {
    //          ┌──▶ wait (1 h) ──▶ after
    //  start ──┤
    //          └──▶ bad ✗
    const run = await h.run(
      workflow(
        [
          ["wait", "delay", { durationMs: 3_600_000 }],
          ["after", "transform", { expression: "1" }],
          ["bad", "transform", { expression: "$error('boom')" }],
        ],
        [["start", "wait"], ["wait", "after"], ["start", "bad"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "bad" failed/);
    expect(stepStatuses(run)).toEqual({ start: "succeeded", wait: "skipped", after: "skipped", bad: "failed" });
  });
});

describe("R21 re-run from a step", () => {
  /** What the server's retryRun does: a new run with the same definition and input, earlier outputs copied. */
  async function rerun(originalId: string, fromStepId: string, keep: string[], override?: unknown) {
    const original = await h.db.run.findUniqueOrThrow({ where: { id: originalId } });
    const id = newId("run");
    await h.db.run.create({
      data: {
        id,
        workflowId: original.workflowId,
        workspaceId: original.workspaceId,
        definition: json(original.definition),
        trigger: "retry",
        input: json(original.input),
        retryOfRunId: originalId,
        fromStepId,
        stepInputOverride: override === undefined ? undefined : json(override),
      },
    });
    const rows = await h.db.runStep.findMany({ where: { runId: originalId, status: "succeeded", stepId: { in: keep } } });
    for (const row of rows) {
      await h.db.runStep.create({
        data: { id: newId("rst"), runId: id, stepId: row.stepId, type: row.type, attempt: 1, status: "succeeded", input: json(row.input), output: json(row.output), startedAt: row.startedAt, finishedAt: row.finishedAt },
      });
    }
    await h.enqueue(id);
    return h.waitForFinal(id);
  }

  // start ──▶ fetch ──▶ shape ──▶ post
  const definition = () =>
    workflow(
      [
        ["fetch", "http.request", { url: `${web.url}/json?r21-fetch` }],
        ["shape", "transform", { expression: `"v1:" & steps.fetch.output.body.method` }],
        ["post", "http.request", { method: "POST", url: `${web.url}/json?r21-post`, body: { value: "{{ steps.shape.output }}" } }],
      ],
      [["start", "fetch"], ["fetch", "shape"], ["shape", "post"]],
    );

  it("R21 R5: re-running from `shape` with an edited input reuses fetch, runs shape with the new config and post after it", async () => {
    const first = await h.run(definition(), { n: 1 });
    expect(first.status).toBe("succeeded");
    const fetches = web.requests.filter((r) => r.url.includes("r21-fetch")).length;

    const again = await rerun(first.id, "shape", ["start", "fetch"], { expression: `"v2:" & steps.fetch.output.body.method` });
    expect(again.status).toBe("succeeded");
    expect(web.requests.filter((r) => r.url.includes("r21-fetch")).length).toBe(fetches); // not called again
    expect(again.steps.find((s) => s.stepId === "shape")).toMatchObject({ status: "succeeded", output: "v2:GET", input: { expression: `"v2:" & steps.fetch.output.body.method` } });
    expect(JSON.parse(web.requests.filter((r) => r.url.includes("r21-post")).at(-1)!.body)).toEqual({ value: "v2:GET" });
    expect(eventTypes(again)).not.toContain("step.started:fetch");
    expect(eventTypes(again)).toContain("step.started:shape");
    // R18: an explicit re-run is a new operation: its POST carries a new key.
    const keys = web.requests.filter((r) => r.url.includes("r21-post")).slice(-2).map((r) => r.headers["idempotency-key"]);
    expect(keys).toEqual([`${first.id}:post`, `${again.id}:post`]);
  });

  it("R21: an invalid edited input fails that step with the validation message", async () => {
    const first = await h.run(definition());
    const again = await rerun(first.id, "shape", ["start", "fetch"], { expression: "" });
    expect(again.status).toBe("failed");
    expect(again.error).toMatch(/Step "shape" failed: Invalid config: expression: Expression is required/);
    expect(stepStatuses(again)).toMatchObject({ fetch: "succeeded", shape: "failed", post: "skipped" });
  });

  it("R21: without an edited input the step runs with its captured config", async () => {
    const first = await h.run(definition());
    const again = await rerun(first.id, "shape", ["start", "fetch"]);
    expect(again.status).toBe("succeeded");
    expect(again.steps.find((s) => s.stepId === "shape")!.output).toBe("v1:GET");
  });
});
