/**
 * Crashes with real processes (docs/run-engine.md R5, R10, R13, R18, R22): worker processes killed with
 * SIGKILL mid-step (once, and as a storm), a worker sent SIGTERM (drain), and a private redis-server
 * restarted without its data or flushed while runs are accepted. Each run still ends `succeeded`, every step
 * is committed once, every send of a step carries its one Idempotency-Key, and recovery times are printed.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { newId } from "@algorythmos/domain";
import { createMaintenanceQueue, json } from "@algorythmos/platform";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startPrivateRedis, type PrivateRedis } from "../support/private-redis.js";
import { startHarness, startTestServer, stepStatuses, workflow, type Harness } from "./harness.js";
import { killProcess, QUICK_RECOVERY, workerProcesses } from "./worker-processes.js";

let web: Awaited<ReturnType<typeof startTestServer>>;
const workers = workerProcesses();

beforeAll(async () => {
  web = await startTestServer();
});
afterEach(() => workers.killAll());
afterAll(async () => {
  await web?.close();
});

/** `settings: "defaults"` leaves the lock and stalled-check settings at their defaults (env.ts). */
const spawnWorker = (h: Harness, extra: Record<string, string> = {}, settings: "quick" | "defaults" = "quick") =>
  workers.spawn(h, { ...(settings === "quick" ? QUICK_RECOVERY : {}), ...extra });
const kill = (child: ChildProcess) => killProcess(child);

describe("SIGKILL", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { worker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R10 R5: a worker killed with SIGKILL mid-step → another worker process completes the run, each step committed once", async () => {
    // start ──▶ before ──▶ slow (HTTP, 2.5 s) ──▶ after
    const runId = await h.createRun(
      workflow(
        [
          ["before", "transform", { expression: "'once'" }],
          ["slow", "http.request", { url: `${web.url}/slow?ms=2500&crash` }],
          ["after", "transform", { expression: "steps.slow.output.body.slow" }],
        ],
        [["start", "before"], ["before", "slow"], ["slow", "after"]],
      ),
    );
    const first = await spawnWorker(h);
    await h.enqueue(runId);
    await h.until("the slow step to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", status: "running" } })));
    await kill(first);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");

    await spawnWorker(h); // BullMQ's stalled-job check hands it the job once the dead worker's lock expires
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ after: true });
    for (const stepId of ["start", "before", "slow", "after"]) {
      expect(run.steps.filter((s) => s.stepId === stepId && s.status === "succeeded")).toHaveLength(1);
    }
    expect(run.steps.filter((s) => s.stepId === "before")).toHaveLength(1);
    const slow = run.steps.filter((s) => s.stepId === "slow");
    expect(slow.map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "succeeded"]]);
    expect(slow[0]!.error).toMatch(/Interrupted/);
    expect(run.events.filter((e) => e.type === "run.started")).toHaveLength(1);
    expect(run.events.filter((e) => e.type === "run.finished")).toHaveLength(1);
  });
  it("R10: with the default settings, a run whose worker was SIGKILLed is executing again on another worker within 15 s", async () => {
    // start ──▶ slow (HTTP, 30 s: still in flight when the worker dies) ──▶ after
    const runId = await h.createRun(
      workflow(
        [
          ["slow", "http.request", { url: `${web.url}/slow?ms=30000&recovery`, timeoutMs: 60_000 }],
          ["after", "transform", { expression: "'after'" }],
        ],
        [["start", "slow"], ["slow", "after"]],
      ),
    );
    const first = await spawnWorker(h, {}, "defaults");
    await h.enqueue(runId);
    await h.until("the slow step to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", status: "running" } })));
    await spawnWorker(h, {}, "defaults"); // the survivor, up before the kill
    await kill(first);
    const killedAt = Date.now();
    const deadline = killedAt + 20_000;
    while (!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", attempt: 2 } }))) {
      if (Date.now() > deadline) throw new Error("the run was not picked up again within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recoveryMs = Date.now() - killedAt;
    console.log(`R10 recovery after SIGKILL (default settings): ${recoveryMs} ms`);
    expect(recoveryMs).toBeLessThan(15_000);
    await h.cancel(runId); // the second 30 s call need not be waited for
  }, 40_000);

  it("R10: with the default settings, when the only worker was SIGKILLed, its replacement executes the run again within 15 s of being up", async () => {
    const runId = await h.createRun(
      workflow(
        [
          ["slow", "http.request", { url: `${web.url}/slow?ms=30000&only-worker`, timeoutMs: 60_000 }],
          ["after", "transform", { expression: "'after'" }],
        ],
        [["start", "slow"], ["slow", "after"]],
      ),
    );
    const only = await spawnWorker(h, {}, "defaults");
    await h.enqueue(runId);
    await h.until("the slow step to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", status: "running" } })));
    await kill(only);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the lock is still held when the replacement comes up
    await spawnWorker(h, {}, "defaults");
    const upAt = Date.now();
    const deadline = upAt + 20_000;
    while (!(await h.db.runStep.findFirst({ where: { runId, stepId: "slow", attempt: 2 } }))) {
      if (Date.now() > deadline) throw new Error("the run was not picked up again within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const recoveryMs = Date.now() - upAt;
    console.log(`R10 recovery after SIGKILL of the only worker (default settings): ${recoveryMs} ms after its replacement was up`);
    expect(recoveryMs).toBeLessThan(15_000);
    await h.cancel(runId);
  }, 40_000);

  it("R18 R10: a worker killed with SIGKILL mid-POST → the step is sent again with the same Idempotency-Key; a cooperating API takes effect once", async () => {
    // start ──▶ charge (POST, answers after 2.5 s) ──▶ after
    const runId = await h.createRun(
      workflow(
        [
          ["charge", "http.request", { method: "POST", url: `${web.url}/charge?ms=2500&r18-crash`, body: { amount: 5 } }],
          ["after", "transform", { expression: "steps.charge.output.body.charged" }],
        ],
        [["start", "charge"], ["charge", "after"]],
      ),
    );
    const first = await spawnWorker(h);
    await h.enqueue(runId);
    await h.until("the POST to reach the API", async () => web.requests.some((r) => r.url.includes("r18-crash")));
    await kill(first);

    await spawnWorker(h);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    const sent = web.requests.filter((r) => r.url.includes("r18-crash"));
    expect(sent.length).toBe(2); // sent, interrupted, sent again
    expect(new Set(sent.map((r) => r.headers["idempotency-key"]))).toEqual(new Set([`${runId}:charge`]));
    expect(run.output).toEqual({ after: `${runId}:charge` });
    expect(web.charges.get(`${runId}:charge`)).toBe(2); // two requests, one key: the API took effect once
    expect(run.steps.filter((s) => s.stepId === "charge").map((s) => [s.attempt, s.status])).toEqual([[1, "failed"], [2, "succeeded"]]);
  });
});

describe("SIGKILL storm", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { worker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R18 R10 R1: 24 runs while one of two workers is SIGKILLed every 1–3 s (each replaced) → every run succeeds once, one Idempotency-Key per step, one run.started and run.finished each", async () => {
    // start ──▶ shape (transform) ──▶ charge (POST, 300 ms) ──▶ check (condition)
    const definition = workflow(
      [
        ["shape", "transform", { expression: "{ 'amount': 5 }" }],
        ["charge", "http.request", { method: "POST", url: `${web.url}/charge?ms=800&storm`, body: "{{ steps.shape.output }}" }],
        ["check", "condition", { expression: "$contains(steps.charge.output.body.charged, ':charge')" }],
      ],
      [["start", "shape"], ["shape", "charge"], ["charge", "check"]],
    );
    const runIds: string[] = [];
    for (let i = 0; i < 24; i++) runIds.push(await h.createRun(definition));
    const extra = { RECONCILE_WORKSPACE_ID: h.workspaceId };
    const workers = [await spawnWorker(h, extra), await spawnWorker(h, extra)];
    for (const runId of runIds) await h.enqueue(runId);

    let kills = 0;
    const stormEnds = Date.now() + 8_000;
    while (Date.now() < stormEnds) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.random() * 2_000));
      const index = Math.floor(Math.random() * workers.length);
      await kill(workers[index]!);
      kills++;
      workers[index] = await spawnWorker(h, extra);
    }
    const lastKillAt = Date.now();
    const runs = [];
    for (const runId of runIds) runs.push(await h.waitForFinal(runId));
    const charged = web.requests.filter((r) => r.url.includes("storm"));
    console.log(
      `R10 storm: ${kills} SIGKILLs, all ${runs.length} runs final ${Date.now() - lastKillAt} ms after the last; ` +
        `${charged.length - runs.length} POSTs sent again, each with its step's key`,
    );
    for (const run of runs) {
      expect(run.status, run.error ?? "").toBe("succeeded");
      for (const stepId of ["start", "shape", "charge", "check"]) {
        expect(run.steps.filter((s) => s.stepId === stepId && s.status === "succeeded"), stepId).toHaveLength(1);
      }
      expect(run.events.filter((e) => e.type === "run.started")).toHaveLength(1);
      expect(run.events.filter((e) => e.type === "run.finished")).toHaveLength(1);
      const keys = new Set(charged.filter((r) => String(r.headers["idempotency-key"]).startsWith(run.id)).map((r) => r.headers["idempotency-key"]));
      expect([...keys]).toEqual([`${run.id}:charge`]); // however often it was sent, the API saw one operation
    }
  }, 90_000);
});

describe("SIGTERM", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { worker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("R10: a worker sent SIGTERM takes no new job, lets the step in flight finish, hands the run back and exits; another worker goes on from the ledger", async () => {
    // start ──▶ a (HTTP 2 s) ──▶ b (HTTP 2 s)
    const runId = await h.createRun(
      workflow(
        [
          ["a", "http.request", { url: `${web.url}/slow?ms=2000&drain-a` }],
          ["b", "http.request", { url: `${web.url}/slow?ms=2000&drain-b` }],
        ],
        [["start", "a"], ["a", "b"]],
      ),
    );
    const first = await spawnWorker(h, { WORKER_DRAIN_TIMEOUT_MS: "8000" });
    await h.enqueue(runId);
    await h.until("step a to start", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "a", status: "running" } })));
    const exited = once(first, "exit");
    const draining = new Promise<void>((resolve) => first.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("draining") && resolve()));
    first.kill("SIGTERM");
    const termAt = Date.now();
    await draining;
    const later = await h.createRun(workflow([["one", "transform", { expression: "'later'" }]], [["start", "one"]]));
    await h.enqueue(later); // accepted while the worker drains: it must not take it
    const [code] = await exited;
    const drainMs = Date.now() - termAt;
    console.log(`R10 SIGTERM drain: exited ${drainMs} ms after SIGTERM (step in flight: 2 s)`);
    expect(code).toBe(0);
    expect(drainMs).toBeLessThan(8_000); // the step in flight ended the drain, not the bound
    const handedBack = await h.snapshot(runId);
    expect(handedBack.status).toBe("running");
    expect(handedBack.steps.filter((s) => s.stepId === "a").map((s) => [s.attempt, s.status])).toEqual([[1, "succeeded"]]); // finished, not interrupted
    expect(handedBack.steps.some((s) => s.stepId === "b")).toBe(false); // not started by the draining worker
    expect(await h.queue.getJobState(runId)).toBe("waiting");
    expect((await h.snapshot(later)).status).toBe("queued");

    await spawnWorker(h);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(run.steps.map((s) => [s.stepId, s.attempt, s.status])).toEqual([["a", 1, "succeeded"], ["b", 1, "succeeded"], ["start", 1, "succeeded"]]);
    expect(web.requests.filter((r) => r.url.includes("drain-a"))).toHaveLength(1); // sent once
    expect((await h.waitForFinal(later)).status).toBe("succeeded");
  });
});

describe("Redis restart", () => {
  let redis: PrivateRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startPrivateRedis(); // this test's own redis-server, never the machine's
    h = await startHarness({ REDIS_URL: redis.url }, { worker: false });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.stop();
  });

  it("R22 R13: Redis restarted without its data mid-run → the reconciler re-enqueues a waiting run and a queued one; both finish once", async () => {
    // A: start ──▶ wait (delay 1 s) ──▶ after        B: start ──▶ one
    const a = await h.createRun(
      workflow([["wait", "delay", { durationMs: 1_000 }], ["after", "transform", { expression: "'a done'" }]], [["start", "wait"], ["wait", "after"]]),
    );
    const b = await h.createRun(workflow([["one", "transform", { expression: "'b done'" }]], [["start", "one"]]));
    const first = await spawnWorker(h);
    await h.enqueue(a);
    await h.until("run A to wait in the delayed set", async () => (await h.queue.getJobState(a)) === "delayed");
    await kill(first);
    await h.enqueue(b); // accepted while no worker runs

    // Redis dies and comes back empty: both jobs are gone.
    await redis.kill();
    await redis.start({ empty: true });
    await h.until("the harness to reconnect", async () => (await h.queue.getJobState(a).catch(() => "error")) === "unknown");
    expect(await h.queue.getJobState(b)).toBe("unknown");

    await spawnWorker(h, { RECONCILE_WORKSPACE_ID: h.workspaceId });
    const [runA, runB] = [await h.waitForFinal(a), await h.waitForFinal(b)];
    expect(runA.status).toBe("succeeded");
    expect(runA.output).toEqual({ after: "a done" });
    expect(stepStatuses(runA)).toEqual({ start: "succeeded", wait: "succeeded", after: "succeeded" });
    expect(runA.steps).toHaveLength(3); // one row per step: nothing repeated
    expect(runA.events.filter((e) => e.type === "run.started")).toHaveLength(1);
    expect(runB.status).toBe("succeeded");
    expect(runB.output).toEqual({ one: "b done" });
  });

  it("R22: Redis flushed (FLUSHALL) under a running worker → the worker puts the reconcile schedule back and a lost run is enqueued and finishes", async () => {
    await spawnWorker(h, { RECONCILE_WORKSPACE_ID: h.workspaceId, WORKER_MAINTENANCE: "1", RECONCILE_INTERVAL_MS: "1000" });
    const maintenance = createMaintenanceQueue(h.redis, h.env.REDIS_PREFIX);
    await h.until("the reconcile schedule", async () => !!(await maintenance.getJobScheduler("reconcile")));
    const admin = new Redis(redis.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    try {
      await admin.flushall(); // this test's own redis-server, never the machine's
    } finally {
      admin.disconnect();
    }
    // Whatever reconcile job was already on its way has run by now (RECONCILE_INTERVAL_MS is 1 s).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // A run accepted a minute ago whose job is gone (past LOST_RUN_GRACE_MS): only a reconcile pass finds it.
    const lost = newId("run");
    await h.db.run.create({
      data: {
        id: lost,
        workflowId: h.workflowId,
        workspaceId: h.workspaceId,
        definition: json(workflow([["one", "transform", { expression: "'healed'" }]], [["start", "one"]])),
        trigger: "manual",
        input: json({}),
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    const lostAt = Date.now();
    const run = await h.waitForFinal(lost);
    console.log(`R22 after FLUSHALL: a lost run finished ${Date.now() - lostAt} ms after it was written`);
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ one: "healed" });
    expect(await maintenance.getJobScheduler("reconcile")).toBeTruthy();
    await maintenance.close();
  });
});
