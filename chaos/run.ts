/**
 * `npm run chaos [--short] [scenario ...]`: the fault-injection suite (docs/reliability.md). Starts a private
 * PostgreSQL and redis-server, 2 × server, 2 × collab and 2 × worker as real processes, runs every scenario
 * (or the named ones), prints one table with PASS/FAIL per figure and writes chaos/results/latest.json
 * (latest-partial.json for the short tier or named scenarios).
 * CHAOS_SEED=<n> replays a schedule of faults. Everything it started is stopped on exit and on Ctrl-C.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "./lib/cluster.js";
import { failures, table, writeLatest, type ScenarioResult } from "./lib/report.js";
import { FULL, SCENARIOS, SHORT, SUITE_SETTINGS, scenariosOf, startSuite } from "./suite.js";

const args = process.argv.slice(2);
const tier = args.includes("--short") ? SHORT : FULL;
const wanted = args.filter((arg) => !arg.startsWith("-"));
const unknown = wanted.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(", ")}. Scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const selected = wanted.length ? SCENARIOS.filter((scenario) => wanted.includes(scenario.name)) : scenariosOf(tier);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const started = Date.now();
console.log(`Algorythmos chaos suite, ${tier.name} tier, seed ${seed}: ${selected.map((s) => s.name).join(", ")}`);

const results: ScenarioResult[] = [];
const suite = await startSuite({ tier, seed });
try {
  for (const scenario of selected) {
    console.log(`\n▶ ${scenario.name}: ${scenario.title}`);
    const result = await suite.run(scenario);
    results.push(result);
    console.log(table([result]).split("\n").slice(2).map((line) => `  ${line}`).join("\n"));
    console.log(`  (${result.seconds} s)`);
  }
} finally {
  await suite.close();
}

const totalSeconds = Math.round((Date.now() - started) / 1000);
const command = `npm run chaos${args.length ? ` -- ${args.join(" ")}` : ""}`;
// Only the full tier with every scenario replaces latest.json (what docs/reliability.md quotes).
const complete = tier === FULL && selected.length === SCENARIOS.length;
const file = path.join(repoRoot, complete ? "chaos/results/latest.json" : "chaos/results/latest-partial.json");
// The code measured: the commit, and how many files differed from it (engineers commit into one tree).
const git = (...gitArgs: string[]) => spawnSync("git", gitArgs, { cwd: repoRoot, encoding: "utf8" }).stdout.trim();
const code = { commit: git("rev-parse", "--short", "HEAD"), uncommittedFiles: git("status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean).length };
writeLatest(file, { command, tier: tier.name, seed, totalSeconds, code, settings: SUITE_SETTINGS, unknownSettings: suite.cluster.unknownSettings, scenarios: results });
console.log(`\n${table(results)}\n`);
for (const result of results) for (const note of result.notes) console.log(`note: ${note}`);
const failed = results.flatMap(failures);
console.log(`\n${results.length} scenario(s) in ${totalSeconds} s, seed ${seed}; ${failed.length ? `${failed.length} figure(s) FAIL` : "every figure PASS"}; wrote ${path.relative(repoRoot, file)}`);
process.exit(failed.length ? 1 : 0);
