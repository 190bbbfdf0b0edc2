/**
 * Control flow (docs/run-engine.md R25–R29): loop, switch, onError paths, loop concurrency, re-runs from a
 * step inside a loop — on the real worker with PostgreSQL, Redis and BullMQ. Graphs are drawn above each test.
 */
import { newId, stepAndDescendants, WorkflowDefinition, type WorkflowDefinitionInput } from "@algorythmos/domain";
import { json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventTypes, startHarness, startTestServer, stepStatuses, type FinishedRun, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  [h, web] = await Promise.all([startHarness(), startTestServer()]);
});
afterAll(async () => {
  await h?.close();
  await web?.close();
});

type StepSpec = [id: string, type: string, config?: Record<string, unknown>, onError?: "fail" | "continue" | "branch"];
/** A definition with a manual trigger "start"; edges `[source, target, label?]`. */
function graph(steps: StepSpec[], edges: [string, string, string?][]): WorkflowDefinitionInput {
  return {
    name: "Control flow",
    steps: [["start", "trigger.manual", {}] as StepSpec, ...steps].map(([id, type, config, onError]) => ({ id, type, config: config ?? {}, ...(onError ? { onError } : {}) })),
    edges: edges.map(([source, target, label], index) => ({ id: `e${index}`, source, target, ...(label ? { label } : {}) })),
  };
}
const rows = (run: FinishedRun, stepId: string) => run.steps.filter((step) => step.stepId === stepId);
const output = (run: FinishedRun, stepId: string) => rows(run, stepId).at(-1)?.output;

describe("R25 loop", () => {
  it("R25: a loop runs its body once per item, recorded as <stepId>@<i>; its output is the body's outputs in item order and its unlabelled edges go on with it", async () => {
    // start ──▶ each ══body══▶ double ──▶ tag        each ──▶ after
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "input.numbers" }],
          ["double", "transform", { expression: "item * 2" }],
          ["tag", "transform", { expression: `{ "index": index, "value": steps.double.output, "seen": input.label }` }],
          ["after", "transform", { expression: "$sum(steps.each.output.value)" }],
        ],
        [["start", "each"], ["each", "double", "body"], ["double", "tag"], ["each", "after"]],
      ),
      { numbers: [3, 1, 4], label: "x" },
    );
    expect(run.status).toBe("succeeded");
    expect(output(run, "each")).toEqual([
      { index: 0, value: 6, seen: "x" },
      { index: 1, value: 2, seen: "x" },
      { index: 2, value: 8, seen: "x" },
    ]);
    expect(run.output).toEqual({ after: 16 });
    expect(stepStatuses(run)).toEqual({
      start: "succeeded", each: "succeeded", after: "succeeded",
      "double@0": "succeeded", "tag@0": "succeeded", "double@1": "succeeded", "tag@1": "succeeded", "double@2": "succeeded", "tag@2": "succeeded",
    });
    // No row under a body step's own id: its rows are per iteration.
    expect(rows(run, "double")).toHaveLength(0);
    const order = eventTypes(run);
    expect(order.indexOf("step.started:each")).toBeLessThan(order.indexOf("step.started:double@0"));
    expect(order.indexOf("step.succeeded:tag@2")).toBeLessThan(order.indexOf("step.succeeded:each"));
    expect(order.indexOf("step.succeeded:each")).toBeLessThan(order.indexOf("step.started:after"));
    // The loop's row shows the items it walked.
    expect(rows(run, "each")[0]!.output).toEqual(output(run, "each"));
  });

  it("R25: several body sinks give an object by step id; no items give []; a single value is one item", async () => {
    //                  ┌──▶ a
    // start ──▶ each ══body══▶ head ─┤            start ──▶ none ══body══▶ n
    //                  └──▶ b
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "input.value" }],
          ["head", "transform", { expression: "item" }],
          ["a", "transform", { expression: `"a" & steps.head.output` }],
          ["b", "transform", { expression: `"b" & steps.head.output` }],
          ["none", "loop", { items: "input.missing" }],
          ["n", "transform", { expression: "item" }],
        ],
        [["start", "each"], ["each", "head", "body"], ["head", "a"], ["head", "b"], ["start", "none"], ["none", "n", "body"]],
      ),
      { value: "z" },
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ each: [{ a: "az", b: "bz" }], none: [] });
  });

  it("R25: an item failing fails the loop and the run (onItemError fail); the items after it do not start", async () => {
    // start ──▶ each (concurrency 1) ══body══▶ check ✗ on item 1        each ──▶ after
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1, 2, 3]" }],
          ["check", "transform", { expression: `item = 2 ? $error("two is bad") : item` }],
          ["after", "transform", { expression: "1" }],
        ],
        [["start", "each"], ["each", "check", "body"], ["each", "after"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "each" failed: Item 1 failed: Step "check@1" failed: Expression failed: two is bad/);
    expect(stepStatuses(run)).toEqual({ start: "succeeded", each: "failed", "check@0": "succeeded", "check@1": "failed", after: "skipped" });
  });

  it("R25: onItemError continue puts { error } at the failed item's place and the loop succeeds", async () => {
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1, 2, 3]", onItemError: "continue" }],
          ["check", "transform", { expression: `item = 2 ? $error("two is bad") : item * 10` }],
        ],
        [["start", "each"], ["each", "check", "body"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    const out = output(run, "each") as unknown[];
    expect(out[0]).toBe(10);
    expect((out[1] as { error: string }).error).toMatch(/Step "check@1" failed: Expression failed: two is bad/);
    expect(out[2]).toBe(30);
  });

  it("R25: more items than maxItems fail the loop with the count; items that are not a sequence fail with the expression's error", async () => {
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1..5]", maxItems: 3 }],
          ["x", "transform", { expression: "item" }],
        ],
        [["start", "each"], ["each", "x", "body"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/The items expression gave 5 items; the loop's maxItems is 3/);
    expect(rows(run, "x@0")).toHaveLength(0);

    const bad = await h.run(
      graph([["each", "loop", { items: `$error("no list")` }], ["x", "transform", { expression: "item" }]], [["start", "each"], ["each", "x", "body"]]),
    );
    expect(bad.status).toBe("failed");
    expect(bad.error).toMatch(/Step "each" failed: Items: .*no list/);
  });

  it("R25 R18: an http.request in a loop body sends Idempotency-Key <runId>:<stepId>@<i>, one per iteration", async () => {
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[10, 20]" }],
          ["charge", "http.request", { method: "POST", url: `${web.url}/charge?r25-key`, body: { amount: "{{ item }}" } }],
        ],
        [["start", "each"], ["each", "charge", "body"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    const sent = web.requests.filter((request) => request.url.includes("r25-key"));
    expect(sent.map((request) => request.headers["idempotency-key"])).toEqual([`${run.id}:charge@0`, `${run.id}:charge@1`]);
    expect(sent.map((request) => JSON.parse(request.body))).toEqual([{ amount: 10 }, { amount: 20 }]);
    expect((output(run, "each") as { body: { charged: string } }[]).map((item) => item.body.charged)).toEqual([`${run.id}:charge@0`, `${run.id}:charge@1`]);
  });

  it("R25: nested loops record <stepId>@<outer>.<inner>; the inner loop's own rows are <stepId>@<outer>", async () => {
    // start ──▶ rows ══body══▶ cols ══body══▶ cell
    const run = await h.run(
      graph(
        [
          ["rows", "loop", { items: "[[1, 2], [3]]" }],
          ["cols", "loop", { items: "item" }],
          ["cell", "transform", { expression: "item * 100 + index" }],
        ],
        [["start", "rows"], ["rows", "cols", "body"], ["cols", "cell", "body"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ rows: [[100, 201], [300]] });
    expect(Object.keys(stepStatuses(run)).sort()).toEqual(["cell@0.0", "cell@0.1", "cell@1.0", "cols@0", "cols@1", "rows", "start"]);
  });

  it("R25 R13: a delay in a loop body holds no worker: the run waits in BullMQ, then the loop finishes", async () => {
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1, 2]" }],
          ["pause", "delay", { durationMs: 300 }],
          ["done", "transform", { expression: "item" }],
        ],
        [["start", "each"], ["each", "pause", "body"], ["pause", "done"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(output(run, "each")).toEqual([1, 2]);
    expect(stepStatuses(run)).toMatchObject({ "pause@0": "succeeded", "pause@1": "succeeded", "done@1": "succeeded" });
  });
});

describe("R25 loop: cancel, failure elsewhere, drain", () => {
  it("R25 R15: canceling a run mid-loop closes the loop's row and the iteration in flight; later items never start", async () => {
    // start ──▶ each (3 items) ══body══▶ wait (hangs)        each ──▶ after
    const runId = await h.createRun(
      graph(
        [
          ["each", "loop", { items: "[1, 2, 3]" }],
          ["wait", "http.request", { url: `${web.url}/hang?r25-cancel={{ item }}` }],
          ["after", "transform", { expression: "1" }],
        ],
        [["start", "each"], ["each", "wait", "body"], ["each", "after"]],
      ),
    );
    await h.enqueue(runId);
    await h.until("item 0 to be in flight", async () => web.requests.some((request) => request.url.includes("r25-cancel=1")));
    await h.cancel(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    await h.until("the ledger to be closed", async () => (await h.db.runStep.count({ where: { runId, error: "Run canceled" } })) === 3);
    const closed = await h.snapshot(runId);
    expect(stepStatuses(closed)).toEqual({ start: "succeeded", each: "failed", "wait@0": "failed", after: "skipped" });
    expect(web.requests.some((request) => request.url.includes("r25-cancel=2"))).toBe(false);
  });

  it("R25 R8: a branch failing beside a loop stops the loop from starting more items; the run fails with that branch's error", async () => {
    //          ┌──▶ each (concurrency 1) ══body══▶ call (300 ms)
    //  start ──┤
    //          └──▶ slowBad (HTTP 100 ms) ──▶ bad ✗
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1, 2, 3, 4, 5, 6]" }],
          ["call", "http.request", { url: `${web.url}/slow?ms=300&r25-r8={{ item }}` }],
          ["slowBad", "http.request", { url: `${web.url}/slow?ms=100&r25-r8-bad` }],
          ["bad", "transform", { expression: "$error('boom')" }],
        ],
        [["start", "each"], ["each", "call", "body"], ["start", "slowBad"], ["slowBad", "bad"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "bad" failed: Expression failed: boom/);
    const each = rows(run, "each").at(-1)!;
    expect(each.status).toBe("failed");
    expect(each.error).toMatch(/Stopped after \d of 6 items: another step failed/);
    expect(run.steps.filter((step) => step.stepId.startsWith("call@")).length).toBeLessThan(6);
  });
});

describe("R25 R13 R8 a waiting loop", () => {
  it("R25 R13 R8: when a branch fails while a loop waits on a delay in its body, the loop and the waiting delay are skipped", async () => {
    //          ┌──▶ each ══body══▶ wait (1 h)
    //  start ──┤
    //          └──▶ slowBad (HTTP 300 ms) ──▶ bad ✗
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1, 2]" }],
          ["wait", "delay", { durationMs: 3_600_000 }],
          ["slowBad", "http.request", { url: `${web.url}/slow?ms=300&r25-wait-bad` }],
          ["bad", "transform", { expression: "$error('boom')" }],
        ],
        [["start", "each"], ["each", "wait", "body"], ["start", "slowBad"], ["slowBad", "bad"]],
      ),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "bad" failed/);
    expect(stepStatuses(run)).toEqual({ start: "succeeded", each: "skipped", "wait@0": "skipped", slowBad: "succeeded", bad: "failed" });
  });
});

describe("R25 many items", () => {
  it("R25 R5: 1000 items (the default maxItems) of an in-process body: every iteration recorded, rows carried in batches", async () => {
    const started = Date.now();
    const run = await h.run(
      graph(
        [
          ["each", "loop", { items: "[1..1000]", concurrency: 4 }],
          ["square", "transform", { expression: "item * item" }],
        ],
        [["start", "each"], ["each", "square", "body"]],
      ),
    );
    const ms = Date.now() - started;
    expect(run.status).toBe("succeeded");
    const out = output(run, "each") as number[];
    expect(out).toHaveLength(1000);
    expect(out[999]).toBe(1_000_000);
    expect(run.steps.filter((step) => step.stepId.startsWith("square@") && step.status === "succeeded")).toHaveLength(1000);
    console.log(`R25: a 1000-item loop of one transform finished in ${ms} ms (${(ms / 1000).toFixed(2)} ms per item)`);
  }, 120_000);
});

describe("R26 switch", () => {
  // start ──▶ route ─big──▶ big      route ─small──▶ small      route ─default──▶ other
  const definition = () =>
    graph(
      [
        ["route", "switch", { cases: [{ key: "big", expression: "input.n > 100" }, { key: "small", expression: "input.n > 0 ? input.n * 2" }] }],
        ["big", "transform", { expression: `"big"` }],
        ["small", "transform", { expression: `"small"` }],
        ["other", "transform", { expression: `"other"` }],
      ],
      [["start", "route"], ["route", "big", "big"], ["route", "small", "small"], ["route", "other", "default"]],
    );

  it("R26: the first case whose expression is truthy picks its edges; none picks default; output { branch, value }", async () => {
    const big = await h.run(definition(), { n: 500 });
    expect(big.status).toBe("succeeded");
    expect(stepStatuses(big)).toMatchObject({ big: "succeeded", small: "skipped", other: "skipped" });
    expect(output(big, "route")).toEqual({ branch: "big", value: true });

    const small = await h.run(definition(), { n: 7 });
    expect(stepStatuses(small)).toMatchObject({ big: "skipped", small: "succeeded", other: "skipped" });
    expect(output(small, "route")).toEqual({ branch: "small", value: 14 });

    const other = await h.run(definition(), { n: -1 });
    expect(stepStatuses(other)).toMatchObject({ big: "skipped", small: "skipped", other: "succeeded" });
    expect(output(other, "route")).toEqual({ branch: "default" });
    expect(other.output).toEqual({ other: "other" });
  });
});

describe("R27 error paths", () => {
  it("R27: onError continue — the step is recorded failed, the run goes on and later steps see { error }", async () => {
    // start ──▶ fetch (404, continue) ──▶ report
    const run = await h.run(
      graph(
        [
          ["fetch", "http.request", { url: `${web.url}/missing?r27-continue` }, "continue"],
          ["report", "transform", { expression: `"got: " & steps.fetch.output.error` }],
        ],
        [["start", "fetch"], ["fetch", "report"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", fetch: "failed", report: "succeeded" });
    expect(run.output).toEqual({ report: `got: ${rows(run, "fetch")[0]!.error}` });
    expect(rows(run, "fetch")[0]!.error).toMatch(/404/);
  });

  it("R27: onError branch — the edges labelled error receive { error, input }; the normal edges are not taken; the run succeeds", async () => {
    // start ──▶ risky (branch) ──▶ happy          risky ─error──▶ recover
    const run = await h.run(
      graph(
        [
          ["risky", "transform", { expression: `$error("nope")` }, "branch"],
          ["happy", "transform", { expression: "1" }],
          ["recover", "transform", { expression: `{ "message": steps.risky.output.error, "was": steps.risky.output.input.expression }` }],
        ],
        [["start", "risky"], ["risky", "happy"], ["risky", "recover", "error"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", risky: "failed", happy: "skipped", recover: "succeeded" });
    expect(run.output).toEqual({ recover: { message: "Expression failed: nope", was: `$error("nope")` } });
  });

  it("R27: onError branch on a step that succeeds takes its normal edges, not the error ones", async () => {
    const run = await h.run(
      graph(
        [
          ["fine", "transform", { expression: "42" }, "branch"],
          ["happy", "transform", { expression: "steps.fine.output" }],
          ["recover", "transform", { expression: "0" }],
        ],
        [["start", "fine"], ["fine", "happy"], ["fine", "recover", "error"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    expect(stepStatuses(run)).toEqual({ start: "succeeded", fine: "succeeded", happy: "succeeded", recover: "skipped" });
  });

  it("R27: without onError (fail) the run fails as before", async () => {
    const run = await h.run(graph([["risky", "transform", { expression: `$error("nope")` }], ["next", "transform", { expression: "1" }]], [["start", "risky"], ["risky", "next"]]));
    expect(run.status).toBe("failed");
    expect(run.error).toBe(`Step "risky" failed: Expression failed: nope`);
    expect(stepStatuses(run)).toEqual({ start: "succeeded", risky: "failed", next: "skipped" });
  });
});

describe("R28 loop concurrency", () => {
  const slowLoop = (concurrency: number, tag: string) =>
    graph(
      [
        ["each", "loop", { items: "[1, 2, 3, 4]", concurrency }],
        ["call", "http.request", { url: `${web.url}/slow?ms=300&${tag}={{ item }}` }],
      ],
      [["start", "each"], ["each", "call", "body"]],
    );
  /** The largest number of iterations in flight at once, from the events' order. */
  const overlap = (run: FinishedRun) => {
    let open = 0;
    let max = 0;
    for (const event of run.events) {
      if (!event.stepId?.startsWith("call@")) continue;
      if (event.type === "step.started") max = Math.max(max, ++open);
      if (event.type === "step.succeeded") open--;
    }
    return max;
  };

  it("R28: concurrency 1 runs the items one after another; concurrency 3 has three in flight", async () => {
    const one = await h.run(slowLoop(1, "r28-one"));
    expect(one.status).toBe("succeeded");
    expect(overlap(one)).toBe(1);
    const three = await h.run(slowLoop(3, "r28-three"));
    expect(three.status).toBe("succeeded");
    expect(overlap(three)).toBe(3);
    expect((output(three, "each") as unknown[]).length).toBe(4);
  });
});

describe("R29 re-run from a step inside a loop", () => {
  /** What the server's retryRun does (server/services/runs.ts): a new run, the succeeded rows of every step not re-run copied. */
  async function rerun(originalId: string, fromStepId: string, override?: unknown) {
    const original = await h.db.run.findUniqueOrThrow({ where: { id: originalId } });
    const again = stepAndDescendants(WorkflowDefinition.parse(original.definition), fromStepId);
    const id = newId("run");
    await h.db.run.create({
      data: { id, workflowId: original.workflowId, workspaceId: original.workspaceId, definition: json(original.definition), trigger: "retry", input: json(original.input), retryOfRunId: originalId, fromStepId, ...(override === undefined ? {} : { stepInputOverride: json(override) }) },
    });
    const reused = await h.db.runStep.findMany({ where: { runId: originalId, status: "succeeded", stepId: { notIn: [...again] } } });
    await h.db.runStep.createMany({
      data: reused.map((row) => ({ id: newId("rst"), runId: id, stepId: row.stepId, type: row.type, attempt: 1, status: "succeeded" as const, input: json(row.input), output: json(row.output), startedAt: row.startedAt, finishedAt: row.finishedAt })),
    });
    await h.enqueue(id);
    return h.waitForFinal(id);
  }

  it("R29: re-running from a body step reuses the body steps before it in every iteration and runs it, what follows it and the loop again", async () => {
    // start ──▶ each ══body══▶ fetch ──▶ shape        each ──▶ after
    const definition = graph(
      [
        ["each", "loop", { items: "[1, 2]" }],
        ["fetch", "http.request", { url: `${web.url}/json?r29-fetch={{ item }}` }],
        ["shape", "transform", { expression: `item & ":" & steps.fetch.output.body.method` }],
        ["after", "transform", { expression: "$join(steps.each.output, ',')" }],
      ],
      [["start", "each"], ["each", "fetch", "body"], ["fetch", "shape"], ["each", "after"]],
    );
    const first = await h.run(definition);
    expect(first.status).toBe("succeeded");
    expect(first.output).toEqual({ after: "1:GET,2:GET" });
    const fetches = web.requests.filter((request) => request.url.includes("r29-fetch")).length;
    expect(fetches).toBe(2);

    const again = await rerun(first.id, "shape");
    expect(again.status).toBe("succeeded");
    expect(again.output).toEqual({ after: "1:GET,2:GET" });
    expect(web.requests.filter((request) => request.url.includes("r29-fetch")).length).toBe(fetches); // fetch@i reused
    // shape@i ran again (attempt 2 after the copied attempt 1), the loop and after ran again.
    expect(rows(again, "shape@0").map((row) => row.attempt)).toEqual([1, 2]);
    expect(rows(again, "fetch@0").map((row) => row.attempt)).toEqual([1]);
    expect(again.events.some((event) => event.type === "step.started" && event.stepId === "shape@1")).toBe(true);
    expect(again.events.some((event) => event.stepId === "fetch@1")).toBe(false);
    expect(again.events.some((event) => event.type === "step.started" && event.stepId === "each")).toBe(true);

    // With an edited config, every iteration of the step runs with it.
    const edited = await rerun(first.id, "shape", { expression: `"v2:" & item` });
    expect(edited.status).toBe("succeeded");
    expect(edited.output).toEqual({ after: "v2:1,v2:2" });
    expect(web.requests.filter((request) => request.url.includes("r29-fetch")).length).toBe(fetches);
  });
});
