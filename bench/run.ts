/**
 * `npm run bench [scenario ...]`: the side-by-side benchmark suite (docs/benchmarks.md). Runs every scenario,
 * or the named ones, on a fresh `algo_bench` database and a Redis prefix of its own (both removed after),
 * prints ours vs the peer with ratios, latency percentiles, peak memory and PASS/MISS per goal, and writes
 * bench/results/latest.json, latest.md and chart.svg — unless `--no-results` is given (a try-out run: printed only).
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { config } from "./lib/config.js";
import { consoleTable, goalLines, writeChart, writeLatest, writeMarkdown, type Report } from "./lib/report.js";
import { stopAllChildren } from "./lib/proc.js";
import { cleanRedis, dropDatabase, prepareDatabase } from "./lib/setup.js";
import type { Scenario, ScenarioResult } from "./lib/types.js";
import { cacheDir } from "./peers/n8n-install.js";
import { sandbox } from "./sandbox.js";
import { engine } from "./scenarios/engine.js";
import { graphqlScenario } from "./scenarios/graphql.js";
import { pointRead } from "./scenarios/point-read.js";
import { soak } from "./scenarios/soak.js";
import { subscriptions } from "./scenarios/subscriptions.js";
import { webhook } from "./scenarios/webhook.js";
import { yjs } from "./scenarios/yjs.js";

const ALL: Scenario[] = [webhook, engine, yjs, graphqlScenario, subscriptions, pointRead, soak, sandbox];
/** A scenario that runs longer than this (or its own `timeoutMs`) is reported as failed (loops are bounded anyway). */
const SCENARIO_TIMEOUT_MS = 6 * 60_000;

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const unknown = wanted.filter((name) => !ALL.some((scenario) => scenario.name === name));
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(", ")}. Scenarios: ${ALL.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const selected = wanted.length ? ALL.filter((scenario) => wanted.includes(scenario.name)) : ALL;
/** `--no-results`: a try-out run prints its figures and leaves bench/results/latest.* as the last recorded run left them. */
const tryOut = process.argv.includes("--no-results");

const started = performance.now();
console.log(`Algorythmos bench ${config.runId}: ${selected.map((s) => s.name).join(", ")}`);
console.log(`  machine: ${config.machine}`);
console.log(`  database ${config.database} on ${new URL(config.adminUrl).host}, Redis ${new URL(config.redisUrl).host} prefix ${config.redisPrefix}`);

let interrupted = false;
process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.log("\nInterrupted: finishing the current scenario's clean-up (Ctrl-C again to exit at once)");
});

// A scenario that timed out keeps running until its own loops end; a socket or child of it that errors after
// that must not end the whole run (the scenario is already reported as failed).
process.on("uncaughtException", (error) => console.error(`  stray error after a scenario ended or failed (the run goes on): ${error.stack ?? error}`));

const results: (ScenarioResult & { measuredAt: string })[] = [];
try {
  await prepareDatabase();
  for (const scenario of selected) {
    if (interrupted) break;
    console.log(`\n▶ ${scenario.name}: ${scenario.title}`);
    const scenarioStarted = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        scenario.run(),
        new Promise<never>((_, reject) => {
          const timeoutMs = scenario.timeoutMs ?? SCENARIO_TIMEOUT_MS;
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      result.seconds = Math.round((performance.now() - scenarioStarted) / 1000);
      results.push({ ...result, measuredAt: new Date().toISOString() });
      for (const line of goalLines([result])) console.log(`  ${line}`);
      for (const note of result.notes) console.log(`  note: ${note}`);
      console.log(`  (${result.seconds} s)`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`  ${scenario.name} failed: ${error instanceof Error ? error.stack : message}`);
      results.push({ name: scenario.name, title: scenario.title, rows: [], goals: [], notes: [], skipped: `failed: ${message}`, measuredAt: new Date().toISOString() });
    } finally {
      clearTimeout(timer);
    }
  }
} finally {
  await stopAllChildren(); // what a timed-out scenario left running
  await dropDatabase().catch((error) => console.error(`could not drop ${config.database}: ${error}`));
  await cleanRedis().catch((error) => console.error(`could not clean Redis: ${error}`));
  rmSync(path.join(cacheDir, "runs", config.runId), { recursive: true, force: true });
}

const totalSeconds = Math.round((performance.now() - started) / 1000);
const report: Report = {
  date: new Date().toISOString(),
  machine: config.machine,
  command: `npm run bench${wanted.length ? ` ${wanted.join(" ")}` : ""}`,
  totalSeconds,
  scenarios: results,
};
if (!tryOut) {
  const merged = writeLatest(report);
  writeChart(merged);
  writeMarkdown(merged);
}
console.log(`\n${consoleTable(results)}\n`);
for (const line of goalLines(results)) console.log(line);
console.log(
  `\n${results.length} scenario(s) in ${totalSeconds} s; ${tryOut ? "--no-results: bench/results/ left as it was" : "wrote bench/results/latest.json, latest.md and chart.svg"}`,
);
process.exit(0);
