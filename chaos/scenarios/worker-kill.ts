/**
 * 1. Worker SIGKILL every 1–3 s while runs of trigger → transform → http.request (to the counting server) →
 * condition execute. A killed worker is started again at once, so kills keep landing mid-step.
 */
import { createWorkflow, effectDefinition, FINAL, runFacts, withPg } from "../lib/api.js";
import { info, under, type Figure } from "../lib/report.js";
import { runFigures, startRuns, waitAllFinal } from "../lib/runs.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

/** Recovery target of the issue: a run whose worker was SIGKILLed is running again within 15 s. */
const RECOVERY_GOAL_MS = 15_000;
/** How long the receiver takes to answer: a kill then often lands while a POST is in flight, or just after it. */
const EFFECT_MS = 400;

export const workerKill: Scenario = {
  name: "worker-kill",
  title: "worker SIGKILL every 1–3 s during runs",
  async run(context) {
    const { cluster } = context;
    const runs = context.scale(300, 20);
    const workflowId = await createWorkflow(cluster.servers[0]!.url, context.owner, effectDefinition("chaos worker kill", context.counting.url, `&delayMs=${EFFECT_MS}`));
    const minKills = context.scale(20, 4);
    // Runs keep starting for as long as the kills go on (~2 s each), so every kill lands while runs are in flight.
    const load = startRuns(context, workflowId, runs, { everyMs: Math.max(150, Math.round((2 * minKills * 2_000) / runs)), concurrency: 2 });
    let startingDone = false;
    void load.done.then(() => (startingDone = true));

    const restarts: Promise<void>[] = [];
    let kills = 0;
    let lastKillAt = Date.now();
    let survivorAtLastKill = true;
    let firstReadyAt = 0;
    let inFlightAtLastKill = 0;
    const killUntil = Date.now() + 240_000; // bound, whatever happens
    while ((!startingDone || kills < minKills) && Date.now() < killUntil && kills < 500) {
      await sleep(1_000 + context.random() * 2_000);
      const alive = cluster.workers.filter((worker) => worker.alive);
      if (!alive.length) continue;
      const victim = alive[Math.floor(context.random() * alive.length)]!;
      await victim.stop("SIGKILL");
      kills++;
      lastKillAt = Date.now();
      survivorAtLastKill = cluster.workers.some((worker) => worker !== victim && worker.ready);
      inFlightAtLastKill = await notFinal(cluster.postgres.url, load.runIds);
      // A worker killed again while it boots is part of the schedule; ensureAllUp below restarts it.
      restarts.push(victim.start().catch((error: Error) => void (error.message.includes("(SIGKILL)") || context.log(`  restart of ${victim.name} failed: ${error}`))));
    }
    load.stop();
    // When the last kill hit the only worker that was up, recovery starts once a worker is up again.
    if (!survivorAtLastKill) {
      const bootDeadline = Date.now() + 60_000;
      while (!cluster.workers.some((worker) => worker.ready) && Date.now() < bootDeadline) await sleep(50);
      firstReadyAt = Date.now();
    }
    await load.done;
    await Promise.all(restarts);
    await cluster.ensureAllUp();
    const recoveryFrom = survivorAtLastKill ? lastKillAt : firstReadyAt;
    const timeoutMs = context.tier.name === "full" ? 180_000 : 45_000;
    const allFinalMs = await waitAllFinal(context, load.runIds, recoveryFrom, timeoutMs);
    context.notes.push(`worker-kill: last run to finish: ${await lastRunTimeline(cluster.postgres.url, load.runIds, recoveryFrom)}`);
    context.notes.push(`worker-kill: ${kills} SIGKILLs over ${load.runIds.length} runs; all-final waited at most ${timeoutMs / 1000} s after the last kill`);
    const figures: Figure[] = [
      info("worker SIGKILLs", kills),
      ...(await runFigures(context, load)),
      info("runs not final at the last kill", inFlightAtLastKill),
      info("a worker was up at the last kill", survivorAtLastKill ? "yes" : `no: first one up ${((firstReadyAt - lastKillAt) / 1000).toFixed(1)} s later`),
      under(survivorAtLastKill ? "time to all-final after the last kill" : "time to all-final after a worker was up again", allFinalMs, RECOVERY_GOAL_MS, timeoutMs),
    ];
    return figures;
  },
};

/** The run that finished last, its steps' attempts with times relative to `since` (where recovery time went). */
function lastRunTimeline(databaseUrl: string, runIds: string[], since: number): Promise<string> {
  return withPg(databaseUrl, async (client) => {
    const last = await client.query<{ id: string; createdAt: Date; finishedAt: Date | null }>(
      `SELECT id, "createdAt", "finishedAt" FROM "Run" WHERE id = ANY($1) ORDER BY "finishedAt" DESC NULLS FIRST LIMIT 1`,
      [runIds],
    );
    const run = last.rows[0];
    if (!run) return "none";
    const at = (date: Date | null) => (date ? `${((date.getTime() - since) / 1000).toFixed(1)} s` : "—");
    const steps = await client.query<{ stepId: string; attempt: number; status: string; startedAt: Date | null; finishedAt: Date | null }>(
      `SELECT "stepId", attempt, status::text, "startedAt", "finishedAt" FROM "RunStep" WHERE "runId" = $1 ORDER BY "startedAt" NULLS LAST, attempt`,
      [run.id],
    );
    const lines = steps.rows.map((step) => `${step.stepId}#${step.attempt} ${step.status} ${at(step.startedAt)}→${at(step.finishedAt)}`);
    return `${run.id} created ${at(run.createdAt)}, finished ${at(run.finishedAt)} (times from the recovery start): ${lines.join(", ")}`;
  });
}

/** How many of `runIds` are not final (queued or running) right now. */
const notFinal = (databaseUrl: string, runIds: string[]) =>
  runFacts(databaseUrl, runIds).then(
    (facts) => runIds.filter((id) => !FINAL.has(facts.statuses.get(id) ?? "")).length,
    () => -1,
  );
