/**
 * R5: how the ledger is written (docs/run-engine.md, "Ledger writes"). Steps without side effects are
 * evaluated in-process and their rows and events commit with the next durable write; an http.request step's
 * start is durable before it sends, and its result before the next step with side effects sends. The probe
 * server below looks at the database at the moment a request arrives, so these are checked as they happen.
 */
import type { RunEvent } from "@algorythmos/domain";
import { closeRedis, createLogger, createRedis, Prisma, runEventChannel, runEventsOfMessage, storedRunEvents } from "@algorythmos/platform";
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../support/http.js";
import { DuplicateDelivery } from "../../worker/errors.js";
import type { EngineDeps } from "../../worker/engine/types.js";
import { createPublish } from "../../worker/engine/writer.js";
import { eventTypes, startHarness, workflow, type Harness } from "./harness.js";

let h: Harness;
/** What the ledger held when each request arrived: per step id, its rows' statuses, and the events stored by then. */
const seen: { key: string; ledger: Record<string, string[]>; events: string[] }[] = [];
let probe: { url: string; close(): Promise<void> };

beforeAll(async () => {
  h = await startHarness();
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      void (async () => {
        const key = String(request.headers["idempotency-key"] ?? "");
        const runId = key.split(":")[0]!;
        const rows = await h.db.runStep.findMany({ where: { runId }, orderBy: { attempt: "asc" }, select: { stepId: true, status: true } });
        const ledger: Record<string, string[]> = {};
        for (const row of rows) (ledger[row.stepId] ??= []).push(row.status);
        seen.push({ key, ledger, events: eventTypes({ events: await storedRunEvents(h.db, runId) }) });
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
      })();
    });
  });
  probe = await listenOnLoopback(server);
});
afterAll(async () => {
  await h?.close();
  await probe?.close();
});

describe("R5 ledger writes", () => {
  it("R5: in-process steps (transform, condition) are committed, rows and events in order, before the next http.request sends", async () => {
    // start ──▶ shape ──▶ big ─true─▶ answer ──▶ post (HTTP) ──▶ tail
    const run = await h.run(
      workflow(
        [
          ["shape", "transform", { expression: `{ "value": input.n * 2 }` }],
          ["big", "condition", { expression: "steps.shape.output.value > 10" }],
          ["answer", "transform", { expression: "steps.shape.output.value" }],
          ["post", "http.request", { method: "POST", url: `${probe.url}/probe`, body: { n: "{{ steps.answer.output }}" } }],
          ["tail", "transform", { expression: "steps.post.output.body.ok" }],
        ],
        [["start", "shape"], ["shape", "big"], ["big", "answer", "true"], ["answer", "post"], ["post", "tail"]],
      ),
      { n: 21 },
    );
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ tail: true });

    const atPost = seen.find((entry) => entry.key === `${run.id}:post`)!;
    expect(atPost.ledger).toEqual({ start: ["succeeded"], shape: ["succeeded"], big: ["succeeded"], answer: ["succeeded"], post: ["running"] });
    expect(atPost.events).toEqual([
      "run.started",
      ...["start", "shape", "big", "answer"].flatMap((id) => [`step.started:${id}`, `step.succeeded:${id}`]),
      "step.started:post",
    ]);

    // Every step recorded once, and the whole run's events in order.
    expect(run.steps.map((s) => [s.stepId, s.attempt, s.status]).sort()).toEqual(
      ["answer", "big", "post", "shape", "start", "tail"].map((id) => [id, 1, "succeeded"]),
    );
    expect(run.steps.find((s) => s.stepId === "big")!.output).toEqual({ result: true, value: true });
    expect(eventTypes(run)).toEqual([
      "run.started",
      ...["start", "shape", "big", "answer", "post", "tail"].flatMap((id) => [`step.started:${id}`, `step.succeeded:${id}`]),
      "run.finished",
    ]);
  });

  it("R5 R10: an http.request step's start is durable before it sends, and its result before the next http.request sends", async () => {
    // start ──▶ first (HTTP) ──▶ second (HTTP)
    const run = await h.run(
      workflow(
        [
          ["first", "http.request", { method: "POST", url: `${probe.url}/probe`, body: { step: 1 } }],
          ["second", "http.request", { method: "POST", url: `${probe.url}/probe`, body: { step: 2 } }],
        ],
        [["start", "first"], ["first", "second"]],
      ),
    );
    expect(run.status).toBe("succeeded");
    const atFirst = seen.find((entry) => entry.key === `${run.id}:first`)!;
    expect(atFirst.ledger).toEqual({ start: ["succeeded"], first: ["running"] });
    const atSecond = seen.find((entry) => entry.key === `${run.id}:second`)!;
    expect(atSecond.ledger).toEqual({ start: ["succeeded"], first: ["succeeded"], second: ["running"] });
    expect(atSecond.events.slice(-3)).toEqual(["step.started:first", "step.succeeded:first", "step.started:second"]);
    expect(run.steps.find((s) => s.stepId === "first")!.output).toMatchObject({ status: 200, body: { ok: true } });
  });

  it("R5: a long chain of in-process steps is published live: every step's started and succeeded, in the stored order, before run.finished", async () => {
    const ids = Array.from({ length: 30 }, (_, index) => `t${index + 1}`);
    const runId = await h.createRun(
      workflow(
        ids.map((id) => [id, "transform", { expression: "input.n + 1" }] as [string, string, Record<string, unknown>]),
        ids.map((id, index) => [index === 0 ? "start" : ids[index - 1]!, id] as [string, string]),
      ),
      { n: 1 },
    );
    const subscriber = createRedis(h.env.REDIS_URL, { name: "test-ledger-writes" });
    const live: RunEvent[] = [];
    subscriber.on("message", (_channel: string, message: string) => live.push(...runEventsOfMessage(message)));
    await subscriber.subscribe(runEventChannel(h.env.REDIS_PREFIX, runId));
    try {
      await h.enqueue(runId);
      const run = await h.waitForFinal(runId);
      expect(run.status).toBe("succeeded");
      await h.until("run.finished to be published", async () => live.some((event) => event.type === "run.finished"));
      const stored = await storedRunEvents(h.db, runId);
      const published = live.map((event) => `${event.seq} ${event.type}:${event.stepId ?? ""}`);
      expect(published).toEqual(stored.map((event) => `${event.seq} ${event.type}:${event.stepId ?? ""}`));
      expect(eventTypes(run)).toEqual(["run.started", ...["start", ...ids].flatMap((id) => [`step.started:${id}`, `step.succeeded:${id}`]), "run.finished"]);
      const seqs = stored.map((event) => event.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      for (const id of ids) {
        const started = stored.find((event) => event.type === "step.started" && event.stepId === id)!;
        const succeeded = stored.find((event) => event.type === "step.succeeded" && event.stepId === id)!;
        expect(Date.parse(started.at)).toBeLessThanOrEqual(Date.parse(succeeded.at));
      }
      expect(stored.find((event) => event.type === "step.succeeded" && event.stepId === "t30")!.output).toBe(2);
    } finally {
      await closeRedis(subscriber);
    }
  });
});

describe("R5 R10 a carried step result whose attempt was closed meanwhile", () => {
  /** A running run with a running http.request attempt, as a delivery leaves it while the request is in flight. */
  async function runWithRunningAttempt() {
    const runId = await h.createRun(workflow([["charge", "http.request", { method: "POST", url: `${probe.url}/probe` }]], [["start", "charge"]]));
    await h.db.run.update({ where: { id: runId }, data: { status: "running", startedAt: new Date() } });
    const row = await h.db.runStep.create({
      data: { id: `rst_${runId.slice(4)}`, runId, stepId: "charge", type: "http.request", attempt: 1, status: "running", input: {}, startedAt: new Date() },
    });
    return { runId, rowId: row.id };
  }
  const succeededSql = (rowId: string) =>
    Prisma.sql`UPDATE "RunStep" SET "status" = 'succeeded'::"StepStatus", "output" = '{"ok":true}'::jsonb, "finishedAt" = now() WHERE "id" = ${rowId} AND "status" = 'running'::"StepStatus" RETURNING "id"`;
  const finishSql = (runId: string) =>
    Prisma.sql`UPDATE "Run" SET "status" = 'succeeded'::"RunStatus", "finishedAt" = now() WHERE "id" = ${runId} AND "status" = 'running'::"RunStatus" RETURNING "id"`;
  const deps = () => ({ env: h.env, db: h.db, redis: h.redis, logger: createLogger("test", "silent"), signal: new AbortController().signal }) as unknown as EngineDeps;

  it("R5 R10: another delivery closed the attempt (Interrupted) before the result was stored → the run's finish is refused too, nothing is written, the delivery stops", async () => {
    const { runId, rowId } = await runWithRunningAttempt();
    const publish = createPublish(deps(), { runId, workflowId: "wf" });
    publish.carry([succeededSql(rowId)], [{ type: "step.succeeded", stepId: "charge", status: "succeeded", attempt: 1, output: { ok: true }, onlyIf: 0 }]);
    // The other delivery marks the attempt interrupted before this one's carried result is stored.
    await h.db.runStep.update({ where: { id: rowId }, data: { status: "failed", error: "Interrupted: the worker stopped", finishedAt: new Date() } });
    await expect(publish.withLedger({ type: "run.finished", stepId: null, status: "succeeded" }, { write: finishSql(runId) })).rejects.toBeInstanceOf(DuplicateDelivery);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
    expect((await h.db.runStep.findUniqueOrThrow({ where: { id: rowId } })).status).toBe("failed");
    expect(eventTypes({ events: await storedRunEvents(h.db, runId) })).not.toContain("run.finished");
    await publish.close();
  });

  it("R5 R10: the same when the result was flushed in the background (before the event loop turned) and the next write comes later", async () => {
    const { runId, rowId } = await runWithRunningAttempt();
    await h.db.runStep.update({ where: { id: rowId }, data: { status: "failed", error: "Interrupted: the worker stopped", finishedAt: new Date() } });
    const publish = createPublish(deps(), { runId, workflowId: "wf" });
    publish.carry([succeededSql(rowId)], [{ type: "step.succeeded", stepId: "charge", status: "succeeded", attempt: 1, output: { ok: true }, onlyIf: 0 }], { urgent: true });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the urgent flush has run (and been refused)
    await expect(publish.withLedger({ type: "run.finished", stepId: null, status: "succeeded" }, { write: finishSql(runId) })).rejects.toBeInstanceOf(DuplicateDelivery);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
    await publish.close();
  });

  it("R5: when the attempt is still running, the carried result and the finish commit together", async () => {
    const { runId, rowId } = await runWithRunningAttempt();
    const publish = createPublish(deps(), { runId, workflowId: "wf" });
    publish.carry([succeededSql(rowId)], [{ type: "step.succeeded", stepId: "charge", status: "succeeded", attempt: 1, output: { ok: true }, onlyIf: 0 }]);
    expect(await publish.withLedger({ type: "run.finished", stepId: null, status: "succeeded" }, { write: finishSql(runId) })).toBe(true);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("succeeded");
    expect((await h.db.runStep.findUniqueOrThrow({ where: { id: rowId } })).status).toBe("succeeded");
    expect(eventTypes({ events: await storedRunEvents(h.db, runId) })).toEqual(["step.succeeded:charge", expect.stringMatching(/^run.finished/)]);
    await publish.close();
  });
});
