/**
 * A run's state changes and their events are one statement (docs/run-engine.md R2, R15, R16, R1): a fault
 * injected into storing the event (a PostgreSQL trigger that rejects it, for one run only) must leave the
 * state unchanged too, and a final run without its run.finished gets one on its next delivery.
 */
import { newId } from "@algorythmos/domain";
import { applyMigrations, MIGRATIONS_DIR, stopRun } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
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

describe("R1 repair of data from before the fix", () => {
  const REPAIR = "20261201120000_repair_run_finished";

  it("R1: migration 20261201120000 gives every final run without a run.finished one (from its row); others are left alone", async () => {
    const name = `algo_test_repair_${randomBytes(4).toString("hex")}`;
    const admin = new URL(h.env.DATABASE_URL);
    admin.pathname = "/postgres";
    const target = new URL(h.env.DATABASE_URL);
    target.pathname = `/${name}`;
    const before = await mkdtemp(path.join(tmpdir(), "algo-migrations-"));
    const adminClient = new pg.Client({ connectionString: admin.toString() });
    await adminClient.connect();
    await adminClient.query(`CREATE DATABASE "${name}"`);
    const client = new pg.Client({ connectionString: target.toString() });
    try {
      // A database as it was before: every migration but the repair.
      for (const entry of await readdir(MIGRATIONS_DIR, { withFileTypes: true })) {
        if (entry.isDirectory() && entry.name !== REPAIR) await cp(path.join(MIGRATIONS_DIR, entry.name), path.join(before, entry.name), { recursive: true });
      }
      await applyMigrations(target.toString(), before);
      await client.connect();
      await client.query(`INSERT INTO "Workspace" (id, name) VALUES ('ws_1', 'W')`);
      await client.query(`INSERT INTO "Workflow" (id, "workspaceId", name, definition, "yjsState", "updatedAt") VALUES ('wf_1', 'ws_1', 'F', '{}', '', now())`);
      const run = (id: string, status: string, extra = "NULL, NULL") =>
        client.query(`INSERT INTO "Run" (id, "workflowId", "workspaceId", definition, status, trigger, input, output, error, "finishedAt")
                      VALUES ($1, 'wf_1', 'ws_1', '{}', $2::"RunStatus", 'manual', '{}', ${extra}, '2026-11-30 10:00:00.123')`, [id, status]);
      await run("run_lost", "succeeded", `'{"one":"done"}', NULL`);
      await run("run_failed", "failed", `NULL, 'Step "x" failed: boom'`);
      await run("run_whole", "canceled", `NULL, 'Canceled by Ada'`);
      await client.query(`INSERT INTO "RunEvent" ("runId", payload) VALUES ('run_whole', '{"type":"run.finished","status":"canceled"}')`);
      await client.query(`INSERT INTO "Run" (id, "workflowId", "workspaceId", definition, status, trigger, input) VALUES ('run_open', 'wf_1', 'ws_1', '{}', 'running', 'manual', '{}')`);

      expect(await applyMigrations(target.toString(), MIGRATIONS_DIR)).toEqual([REPAIR]);
      const events = await client.query<{ runId: string; payload: Record<string, unknown> }>(`SELECT "runId", payload FROM "RunEvent" ORDER BY id`);
      const finished = (runId: string) => events.rows.filter((row) => row.runId === runId).map((row) => row.payload);
      expect(finished("run_lost")).toEqual([
        { type: "run.finished", runId: "run_lost", workflowId: "wf_1", stepId: null, status: "succeeded", output: { one: "done" }, error: null, at: "2026-11-30T10:00:00.123Z" },
      ]);
      expect(finished("run_failed")).toEqual([expect.objectContaining({ type: "run.finished", status: "failed", error: 'Step "x" failed: boom' })]);
      expect(finished("run_whole")).toHaveLength(1); // already had one
      expect(finished("run_open")).toEqual([]); // not final
    } finally {
      await client.end().catch(() => {});
      await adminClient.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await adminClient.end();
      await rm(before, { recursive: true, force: true });
    }
  });
});
