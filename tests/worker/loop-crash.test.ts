/**
 * A worker process killed with SIGKILL in the middle of a loop (docs/run-engine.md R25, R5, R10, R18): another
 * worker goes on from the ledger at the first unfinished item. Every iteration's http.request takes effect
 * once: a finished iteration is never sent again, the interrupted one is sent again with its own
 * Idempotency-Key `<runId>:<stepId>@<i>`, the same on both attempts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startHarness, startTestServer, type Harness } from "./harness.js";
import { killProcess, QUICK_RECOVERY, workerProcesses } from "./worker-processes.js";

let web: Awaited<ReturnType<typeof startTestServer>>;
let h: Harness;
const workers = workerProcesses();

beforeAll(async () => {
  [h, web] = await Promise.all([startHarness({}, { worker: false }), startTestServer()]);
});
afterEach(() => workers.killAll());
afterAll(async () => {
  await h?.close();
  await web?.close();
});

/** A worker process (tests/worker/worker-process.ts) with short BullMQ locks, so a dead worker's job moves on in about 2 s. */
const spawnWorker = () => workers.spawn(h, QUICK_RECOVERY);

describe("SIGKILL mid-loop", () => {
  it("R25 R5 R18: a worker killed with SIGKILL during item 2 of 5 → another worker resumes at item 2; each item's POST takes effect once, with its own key", async () => {
    // start ──▶ each (5 items) ══body══▶ charge (POST, answers after 700 ms) ──▶ note        each ──▶ after
    const runId = await h.createRun({
      name: "Loop crash",
      steps: [
        { id: "start", type: "trigger.manual", config: {} },
        { id: "each", type: "loop", config: { items: "input.amounts" } },
        { id: "charge", type: "http.request", config: { method: "POST", url: `${web.url}/charge?ms=700&loop-crash`, body: { amount: "{{ item }}" } } },
        { id: "note", type: "transform", config: { expression: `index & ":" & steps.charge.output.body.replayed` } },
        { id: "after", type: "transform", config: { expression: "$count(steps.each.output)" } },
      ],
      edges: [
        { id: "e0", source: "start", target: "each" },
        { id: "e1", source: "each", target: "charge", label: "body" },
        { id: "e2", source: "charge", target: "note" },
        { id: "e3", source: "each", target: "after" },
      ],
    }, { amounts: [1, 2, 3, 4, 5] });
    const key = (index: number) => `${runId}:charge@${index}`;
    const first = await spawnWorker();
    await h.enqueue(runId);
    await h.until("item 2's POST to reach the API", async () => web.charges.has(key(2)));
    await killProcess(first);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");

    await spawnWorker(); // BullMQ's stalled-job check hands it the job once the dead worker's lock expires
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ after: 5 });

    const sent = web.requests.filter((request) => request.url.includes("loop-crash"));
    // Items 0 and 1 finished before the kill: sent once. Item 2 was in flight: sent again with the same key.
    expect(sent.filter((request) => request.headers["idempotency-key"] === key(0))).toHaveLength(1);
    expect(sent.filter((request) => request.headers["idempotency-key"] === key(1))).toHaveLength(1);
    expect(sent.filter((request) => request.headers["idempotency-key"] === key(2))).toHaveLength(2);
    for (const index of [3, 4]) expect(sent.filter((request) => request.headers["idempotency-key"] === key(index))).toHaveLength(1);
    expect(new Set(sent.map((request) => request.headers["idempotency-key"]))).toEqual(new Set([0, 1, 2, 3, 4].map(key)));
    // Each key took effect once at the API (a replay is answered without effect).
    expect((run.steps.find((step) => step.stepId === "each" && step.status === "succeeded")!.output as string[])).toEqual(["0:false", "1:false", "2:true", "3:false", "4:false"]);

    // The ledger: one succeeded row per iteration; item 2's first attempt closed as interrupted; the loop's own row
    // was continued, not started again.
    for (const index of [0, 1, 2, 3, 4]) {
      expect(run.steps.filter((step) => step.stepId === `charge@${index}` && step.status === "succeeded")).toHaveLength(1);
      expect(run.steps.filter((step) => step.stepId === `note@${index}` && step.status === "succeeded")).toHaveLength(1);
    }
    expect(run.steps.filter((step) => step.stepId === "charge@2").map((step) => [step.attempt, step.status])).toEqual([[1, "failed"], [2, "succeeded"]]);
    expect(run.steps.filter((step) => step.stepId === "each").map((step) => [step.attempt, step.status])).toEqual([[1, "succeeded"]]);
    expect(run.events.filter((event) => event.type === "step.started" && event.stepId === "each")).toHaveLength(1);
    expect(run.events.filter((event) => event.type === "run.finished")).toHaveLength(1);
  });
});

describe("drain mid-loop", () => {
  it("R25 R10: a worker closed mid-loop lets the item in flight finish, starts no next item and hands the run back; the next worker goes on at the next item", async () => {
    // start ──▶ each (4 items) ══body══▶ call (HTTP 600 ms)
    const runId = await h.createRun({
      name: "Loop drain",
      steps: [
        { id: "start", type: "trigger.manual", config: {} },
        { id: "each", type: "loop", config: { items: "[1, 2, 3, 4]" } },
        { id: "call", type: "http.request", config: { url: `${web.url}/slow?ms=600&loop-drain={{ item }}` } },
      ],
      edges: [
        { id: "e0", source: "start", target: "each" },
        { id: "e1", source: "each", target: "call", label: "body" },
      ],
    });
    const first = await h.startWorker(5_000);
    await h.enqueue(runId);
    await h.until("item 1 to be in flight", async () => web.requests.some((request) => request.url.includes("loop-drain=2")));
    await first.close(); // drains: item 1 finishes (600 ms < 5 s), item 2 does not start
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
    expect(await h.db.runStep.count({ where: { runId, stepId: "call@2" } })).toBe(0);

    await h.startWorker();
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    for (const item of [1, 2, 3, 4]) expect(web.requests.filter((request) => request.url.includes(`loop-drain=${item}`))).toHaveLength(1);
    for (const index of [0, 1, 2, 3]) expect(run.steps.filter((step) => step.stepId === `call@${index}`).map((step) => step.status)).toEqual(["succeeded"]);
    expect(run.steps.filter((step) => step.stepId === "each").map((step) => [step.attempt, step.status])).toEqual([[1, "succeeded"]]);
  });
});
