/**
 * The run engine on the real worker (docs/run-engine.md): each test is named after the rule it checks.
 * PostgreSQL and Redis are real; the only stand-in is a local HTTP server at the network edge.
 */
import { newId } from "@algorythmos/domain";
import { encryptSecret, json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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


describe("run engine", () => {
  it("R2 R4 R11 R16: a one-step http.request run succeeds with status, headers and parsed JSON body", async () => {
    const run = await h.run(workflow([["call", "http.request", { method: "GET", url: `${web.url}/json?q=1` }]], [["start", "call"]]), {
      hello: "world",
    });
    expect(run.status).toBe("succeeded");
    expect(run.error).toBeNull();
    expect(run.startedAt).toBeInstanceOf(Date);
    expect(run.finishedAt).toBeInstanceOf(Date);
    const call = run.steps.find((step) => step.stepId === "call")!;
    expect(call).toMatchObject({ status: "succeeded", attempt: 1 });
    expect(call.output).toMatchObject({ status: 200, headers: { "content-type": "application/json" }, body: { ok: true, method: "GET" } });
    expect(run.steps.find((step) => step.stepId === "start")).toMatchObject({ status: "succeeded", output: { hello: "world" } });
    expect(run.output).toEqual({ call: call.output });
    expect(eventTypes(run)).toEqual([
      "run.started",
      "step.started:start",
      "step.succeeded:start",
      "step.started:call",
      "step.succeeded:call",
      "run.finished",
    ]);
    expect(run.events.at(-1)).toMatchObject({ status: "succeeded" });
  });

  it("R12 R18: http.request renders {{ path }} templates and sends a JSON body with an Idempotency-Key; text responses stay text", async () => {
    const run = await h.run(
      workflow(
        [
          ["post", "http.request", { method: "POST", url: `${web.url}/json?user={{ input.user }}`, headers: { "x-user": "{{ input.user }}" }, body: { name: "{{ input.user }}", n: "{{ input.n }}" } }],
          ["text", "http.request", { url: `${web.url}/text` }],
        ],
        [["start", "post"], ["post", "text"]],
      ),
      { user: "ada", n: 3 },
    );
    expect(run.status).toBe("succeeded");
    const request = web.requests.find((r) => r.url === "/json?user=ada")!;
    expect(request.headers["x-user"]).toBe("ada");
    expect(request.headers["idempotency-key"]).toBe(`${run.id}:post`);
    expect(web.requests.find((r) => r.url === "/text")!.headers["idempotency-key"]).toBeUndefined(); // GET carries none
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({ name: "ada", n: 3 });
    expect((run.output as { text: { body: unknown } }).text.body).toBe("plain text");
  });

  it("R11: redirects are followed (and re-checked); more than 5 hops fail the step", async () => {
    const ok = await h.run(workflow([["call", "http.request", { url: `${web.url}/redirect` }]], [["start", "call"]]));
    expect(ok.status).toBe("succeeded");
    expect(ok.steps.find((s) => s.stepId === "call")!.output).toMatchObject({ status: 200, body: { ok: true } });

    const loop = await h.run(workflow([["call", "http.request", { url: `${web.url}/loop` }]], [["start", "call"]]));
    expect(loop.status).toBe("failed");
    expect(loop.error).toMatch(/Too many redirects/);
  });

  it("R8 R11: an HTTP 500 fails the step and the run, naming the step; downstream steps are skipped", async () => {
    const run = await h.run(
      workflow(
        [
          ["call", "http.request", { url: `${web.url}/fail`, retry: { maxAttempts: 1 } }],
          ["after", "transform", { expression: "'never'" }],
        ],
        [["start", "call"], ["call", "after"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "call" failed: HTTP 500/);
    expect(run.error).toContain("boom");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", call: "failed", after: "skipped" });
    const call = run.steps.find((s) => s.stepId === "call")!;
    expect(call.output).toMatchObject({ status: 500, body: { error: "boom" } });
    expect(eventTypes(run)).toEqual([
      "run.started",
      "step.started:start",
      "step.succeeded:start",
      "step.started:call",
      "step.failed:call",
      "step.skipped:after",
      "run.finished",
    ]);
    expect(run.events.at(-1)).toMatchObject({ type: "run.finished", status: "failed" });
  });

  it("R11: a 404 fails the step with the status in the message", async () => {
    const run = await h.run(workflow([["call", "http.request", { url: `${web.url}/missing` }]], [["start", "call"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/HTTP 404.*no such thing/);
    expect(run.steps.filter((s) => s.stepId === "call")).toHaveLength(1); // R17: a 404 is not retried
  });

  it("R11: a response over 1 MiB fails the step", async () => {
    const run = await h.run(workflow([["call", "http.request", { url: `${web.url}/big` }]], [["start", "call"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/larger than 1048576 bytes/);
  });

  it("R7: a transform chain computes over the input and earlier outputs", async () => {
    const run = await h.run(
      workflow(
        [
          ["double", "transform", { expression: "input.x * 2" }],
          ["plusOne", "transform", { expression: "steps.double.output + 1" }],
          ["shape", "transform", { expression: `{ "total": steps.plusOne.output, "names": input.items.name }` }],
        ],
        [["start", "double"], ["double", "plusOne"], ["plusOne", "shape"]],
      ),
      { x: 20, items: [{ name: "a" }, { name: "b" }] },
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ shape: { total: 41, names: ["a", "b"] } });
    expect(stepStatuses(run)).toEqual({ start: "succeeded", double: "succeeded", plusOne: "succeeded", shape: "succeeded" });
  });

  it("R7 R8: an expression error fails the run with the step's name", async () => {
    const run = await h.run(workflow([["bad", "transform", { expression: `$error("nope")` }]], [["start", "bad"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "bad" failed: Expression failed: nope/);
  });

  it("R7: an endless expression is stopped by the time limit", async () => {
    const run = await h.run(
      workflow([["spin", "transform", { expression: "($f := function($n) { $f($n + 1) }; $f(0))" }]], [["start", "spin"]]),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "spin" failed: Expression failed/);
  });

  it("R6: a condition follows one branch; steps only reachable through the other are skipped, a join still runs", async () => {
    const definition = workflow(
      [
        ["check", "condition", { expression: "input.amount > 100" }],
        ["big", "transform", { expression: "'big'" }],
        ["small", "transform", { expression: "'small'" }],
        ["afterSmall", "transform", { expression: "'after small'" }],
        ["join", "transform", { expression: "steps.big.output ? steps.big.output : steps.small.output" }],
      ],
      [
        ["start", "check"],
        ["check", "big", "true"],
        ["check", "small", "false"],
        ["small", "afterSmall"],
        ["big", "join"],
        ["small", "join"],
      ],
    );
    const high = await h.run(definition, { amount: 500 });
    expect(high.status).toBe("succeeded");
    expect(stepStatuses(high)).toEqual({ start: "succeeded", check: "succeeded", big: "succeeded", small: "skipped", afterSmall: "skipped", join: "succeeded" });
    expect(high.steps.find((s) => s.stepId === "check")!.output).toEqual({ result: true, value: true });
    expect(high.output).toEqual({ join: "big" });
    expect(eventTypes(high)).toContain("step.skipped:afterSmall");

    const low = await h.run(definition, { amount: 5 });
    expect(low.status).toBe("succeeded");
    expect(stepStatuses(low)).toEqual({ start: "succeeded", check: "succeeded", big: "skipped", small: "succeeded", afterSmall: "succeeded", join: "succeeded" });
    expect(low.output).toEqual({ afterSmall: "after small", join: "small" });
  });

  it("R3: an invalid captured definition fails the run with the reason", async () => {
    const run = await h.run({ name: "", steps: "not a list" });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^Invalid workflow definition: /);
    expect(run.error).toMatch(/steps/);
    expect(run.steps).toEqual([]);
    expect(eventTypes(run)).toEqual(["run.started", "run.finished"]);

    const unknownType = await h.run(workflow([["x", "shell.exec", {}]], [["start", "x"]]));
    expect(unknownType.status).toBe("failed");
    expect(unknownType.error).toMatch(/unknown type "shell.exec"/);

    const cycle = await h.run(
      workflow([["a", "transform", { expression: "1" }], ["b", "transform", { expression: "2" }]], [["start", "a"], ["a", "b"], ["b", "a"]]),
    );
    expect(cycle.status).toBe("failed");
    expect(cycle.error).toMatch(/cycle/);
  });

  it("R1: a finished run delivered again does nothing (no new ledger rows, no new events)", async () => {
    const first = await h.run(workflow([["call", "http.request", { url: `${web.url}/json?once` }]], [["start", "call"]]));
    expect(first.status).toBe("succeeded");
    const calls = web.requests.filter((r) => r.url === "/json?once").length;
    // A second job for the same run (a different job id, since the first one is kept as completed).
    const job = await h.queue.add("execute-run", { runId: first.id }, { jobId: `${first.id}-again` });
    const deadline = Date.now() + 15_000;
    while ((await job.getState()) !== "completed") {
      if (Date.now() > deadline) throw new Error("second delivery did not complete");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const again = await h.waitForFinal(first.id);
    expect(again.steps).toEqual(first.steps);
    expect(again.events).toEqual(first.events);
    expect(web.requests.filter((r) => r.url === "/json?once").length).toBe(calls);
    expect((await h.queue.getJob(`${first.id}-again`))?.returnvalue).toBe("skipped");
  });

  it("R5: a step with a succeeded ledger row is not executed again; its stored output is reused", async () => {
    const runId = await h.createRun(
      workflow(
        [
          ["fetch", "http.request", { url: `${web.url}/json?must-not-be-called` }],
          ["shape", "transform", { expression: `steps.fetch.output.body.value & "!"` }],
        ],
        [["start", "fetch"], ["fetch", "shape"]],
      ),
    );
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: new Date() } });
    await h.db.runStep.create({
      data: { id: newId("rst"), runId, stepId: "fetch", type: "http.request", attempt: 1, status: "succeeded", output: json({ status: 200, headers: {}, body: { value: "stored" } }) },
    });
    await h.enqueue(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ shape: "stored!" });
    expect(web.requests.some((r) => r.url.includes("must-not-be-called"))).toBe(false);
    expect(run.steps.filter((s) => s.stepId === "fetch")).toHaveLength(1);
    expect(eventTypes(run)).not.toContain("step.started:fetch");
    expect(eventTypes(run)).not.toContain("run.started"); // it was already running: a re-delivery continues
  });

  it("R10: an attempt left running by a crash is closed and retried for an idempotent step", async () => {
    const runId = await h.createRun(workflow([["fetch", "http.request", { url: `${web.url}/json?retried` }]], [["start", "fetch"]]));
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: new Date() } });
    await h.db.runStep.create({ data: { id: newId("rst"), runId, stepId: "fetch", type: "http.request", attempt: 1, status: "running", startedAt: new Date() } });
    await h.enqueue(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    const attempts = run.steps.filter((s) => s.stepId === "fetch");
    expect(attempts.map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "succeeded"]]);
    expect(attempts[0]!.error).toMatch(/Interrupted/);
  });

  it("R10: an interrupted at-most-once step (email) is not repeated; the run fails", async () => {
    const runId = await h.createRun(
      workflow([["mail", "email.postmark", { credentialId: "cred_x", from: "a@b.c", to: "d@e.f", subject: "Hi", textBody: "Hello" }]], [["start", "mail"]]),
    );
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: new Date() } });
    await h.db.runStep.create({ data: { id: newId("rst"), runId, stepId: "mail", type: "email.postmark", attempt: 1, status: "running", startedAt: new Date() } });
    await h.enqueue(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/not repeated because it may already have taken effect/);
    expect(run.steps.filter((s) => s.stepId === "mail")).toHaveLength(1);
  });

  it("R1: a canceled run is never started (its missing run.finished is repaired)", async () => {
    const runId = await h.createRun(workflow([["call", "http.request", { url: `${web.url}/json?canceled` }]], [["start", "call"]]));
    await h.db.run.update({ where: { id: runId }, data: { status: "canceled", finishedAt: new Date() } });
    await h.enqueue(runId);
    const job = await h.queue.getJob(runId);
    const deadline = Date.now() + 15_000;
    while ((await job!.getState()) !== "completed") {
      if (Date.now() > deadline) throw new Error("job did not complete");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.steps).toEqual([]);
    // Canceled behind the lifecycle's back (no event): the delivery adds the run.finished runEvents waits for.
    expect(run.events).toEqual([expect.objectContaining({ type: "run.finished", status: "canceled", error: null })]);
    expect(web.requests.some((r) => r.url.includes("canceled"))).toBe(false);
  });

  it("R15: a run canceled between steps (no message reaches the worker) starts no further step; unsettled steps are skipped", async () => {
    const runId = await h.createRun(
      workflow(
        [
          ["slow", "http.request", { url: `${web.url}/slow?ms=700&between` }],
          ["after", "http.request", { url: `${web.url}/json?after-cancel` }],
        ],
        [["start", "slow"], ["slow", "after"]],
      ),
    );
    await h.enqueue(runId);
    await h.until("the slow step to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", status: "running" } })));
    // Only the database changes (as if the cancel message were lost): the step finishes, nothing else starts.
    await h.db.run.update({ where: { id: runId }, data: { status: "canceled", finishedAt: new Date(), error: "Canceled by Tester" } });
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.error).toBe("Canceled by Tester");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", slow: "succeeded", after: "skipped" });
    expect(run.steps.find((s) => s.stepId === "after")!.error).toBe("Run canceled");
    // The canceller owns the final state; its run.finished was missing here (only the row changed), so the
    // engine repaired it from the row, once.
    expect(run.events.filter((e) => e.type === "run.finished")).toEqual([expect.objectContaining({ status: "canceled", error: "Canceled by Tester" })]);
    expect(web.requests.some((r) => r.url.includes("after-cancel"))).toBe(false);
  });

  it("R15: cancel aborts the in-flight HTTP call; the attempt fails and later steps are skipped with \"Run canceled\"", async () => {
    const runId = await h.createRun(
      workflow(
        [
          ["hang", "http.request", { url: `${web.url}/hang?cancel-me`, timeoutMs: 60_000 }],
          ["after", "transform", { expression: "'never'" }],
        ],
        [["start", "hang"], ["hang", "after"]],
      ),
    );
    await h.enqueue(runId);
    await h.until("the request to reach the server", async () => web.requests.some((r) => r.url === "/hang?cancel-me"));
    expect(await h.cancel(runId, "Ada")).toBe(true);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(run.error).toBe("Canceled by Ada");
    expect(run.steps.filter((s) => s.stepId === "hang").map((s) => [s.attempt, s.status, s.error])).toEqual([[1, "failed", "Run canceled"]]);
    expect(run.steps.find((s) => s.stepId === "after")).toMatchObject({ status: "skipped", error: "Run canceled" });
    await h.until("the server to see the request aborted", async () => web.aborted.includes("/hang?cancel-me"));
    // Exactly one run.finished: the canceller's.
    expect(run.events.filter((e) => e.type === "run.finished")).toEqual([expect.objectContaining({ status: "canceled" })]);
    expect(eventTypes(run)).toContain("step.failed:hang");
    expect(eventTypes(run)).toContain("step.skipped:after");
    expect(await h.cancel(runId)).toBe(false); // already final: a second cancel changes nothing
  });
});

describe("SSRF guard on the worker", () => {
  let strict: Harness;
  beforeAll(async () => {
    strict = await startHarness({ HTTP_ALLOW_HOSTS: "" });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it("R11: a loopback URL is refused when it is not allow-listed, and nothing is sent", async () => {
    const run = await strict.run(workflow([["call", "http.request", { url: `${web.url}/json?ssrf` }]], [["start", "call"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Refused to call "127\.0\.0\.1".*loopback/);
    expect(web.requests.some((r) => r.url.includes("ssrf"))).toBe(false);
  });

  it("R11: localhost by name is refused too", async () => {
    const run = await strict.run(workflow([["call", "http.request", { url: `http://localhost:${web.port}/json?ssrf-name` }]], [["start", "call"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Refused to call "localhost"/);
    expect(web.requests.some((r) => r.url.includes("ssrf-name"))).toBe(false);
  });
});
