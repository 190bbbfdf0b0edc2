/**
 * Runs started through the API while faults happen, and the figures about them once it is over: started,
 * final, stuck, duplicate effects at the counting server, duplicate committed steps, missing final events.
 */
import { randomUUID } from "node:crypto";
import { call, FINAL, runFacts, START_RUN } from "./api.js";
import type { Context } from "../suite.js";
import { all, info, tally, zero, type Figure } from "./report.js";
import { sleep } from "./util.js";

export interface RunLoad {
  runIds: string[];
  tags: string[];
  outcomes: string[];
  /** Resolves when every start was attempted. */
  done: Promise<void>;
  stop(): void;
}

/**
 * Starts `count` runs of `workflowId`, `concurrency` at a time, one every `everyMs` at most, on the servers in
 * turn (the next server when one does not answer: a client with two addresses). Each run's input carries a tag
 * the counting server sees.
 */
export function startRuns(context: Context, workflowId: string, count: number, options: { everyMs: number; concurrency?: number; servers?: string[] }): RunLoad {
  const servers = options.servers ?? context.cluster.servers.map((server) => server.url);
  const load: RunLoad = { runIds: [], tags: [], outcomes: [], done: Promise.resolve(), stop: () => void (stopped = true) };
  let stopped = false;
  let next = 0;
  const worker = async () => {
    while (!stopped && next < count) {
      const index = next++;
      const tag = randomUUID();
      const server = servers[index % servers.length]!;
      const result = await call(server, START_RUN, { input: { workflowId, input: { tag } } }, context.owner.token);
      load.outcomes.push(result.outcome);
      if (result.outcome === "OK") {
        load.runIds.push(result.data.startRun.id);
        load.tags.push(tag);
      }
      await sleep(options.everyMs);
    }
  };
  load.done = Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker)).then(() => {});
  return load;
}

/** Waits (bounded) until every started run is final; returns ms from `since` until then, or null. */
export async function waitAllFinal(context: Context, runIds: string[], since: number, timeoutMs: number): Promise<number | null> {
  const deadline = since + timeoutMs;
  for (let round = 0; round < 100_000; round++) {
    const facts = await runFacts(context.cluster.postgres.url, runIds).catch(() => null);
    if (facts && runIds.every((id) => FINAL.has(facts.statuses.get(id) ?? ""))) return Date.now() - since;
    if (Date.now() > deadline) return null;
    await sleep(500);
  }
  return null;
}

/** The run figures shared by every scenario with runs. */
export async function runFigures(context: Context, load: RunLoad, label = "runs"): Promise<Figure[]> {
  const facts = await runFacts(context.cluster.postgres.url, load.runIds);
  const statuses = load.runIds.map((id) => facts.statuses.get(id) ?? "missing");
  const final = statuses.filter((status) => FINAL.has(status)).length;
  const succeeded = statuses.filter((status) => status === "succeeded").length;
  const effects = context.counting.figures(load.tags);
  const accepted = load.outcomes.filter((outcome) => outcome === "OK").length;
  if (facts.errors.length) context.notes.push(`${label} not succeeded: ${tally(facts.errors)}`);
  return [
    info(`${label} started (startRun answered)`, `${accepted} of ${load.outcomes.length}`),
    ...(accepted < load.outcomes.length ? [info("startRun failures", tally(load.outcomes.filter((outcome) => outcome !== "OK")))] : []),
    zero(`${label} lost (accepted, not in the database)`, statuses.filter((status) => status === "missing").length),
    zero(`${label} stuck (not final at the deadline)`, load.runIds.length - final - statuses.filter((status) => status === "missing").length),
    all(`${label} succeeded`, succeeded, load.runIds.length),
    zero("duplicate effects (one run's POST under 2+ Idempotency-Keys)", effects.duplicateEffects),
    info("same-key re-deliveries (deduplicated by the receiver)", effects.sameKeyRedeliveries),
    zero("duplicate committed steps (2+ succeeded RunStep rows)", facts.duplicateSteps),
    zero("final runs without run.started/run.finished event", facts.finalWithoutEvents),
  ];
}
