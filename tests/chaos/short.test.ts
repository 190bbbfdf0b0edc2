/**
 * The chaos suite's short tier (docs/reliability.md): the scenarios of `npm run chaos` (all but relay-drop,
 * and Redis restarted empty only) at a tenth of the counts, on a private PostgreSQL and redis-server with 2 × server, 2 × collab and 2 × worker processes. Each
 * scenario is one test that prints its figures and fails on any figure off its goal line (0 lost, 0 stuck,
 * 0 duplicates, divergence < 5 s). CHAOS_SEED replays a schedule of faults.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failures, table, type ScenarioResult } from "../../chaos/lib/report.js";
import { SHORT, scenariosOf, startSuite, type Suite } from "../../chaos/suite.js";

const seed = Number(process.env.CHAOS_SEED ?? 20261201);
const results: ScenarioResult[] = [];
let suite: Suite | undefined;

describe("chaos suite, short tier", () => {
  beforeAll(async () => {
    suite = await startSuite({ tier: SHORT, seed, log: () => {} });
  }, 180_000);

  afterAll(async () => {
    await suite?.close();
    const file = path.resolve("tests/artifacts/chaos-short.json");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), seed, scenarios: results }, null, 2) + "\n");
  }, 60_000);

  for (const scenario of scenariosOf(SHORT)) {
    it(`${scenario.name}: ${scenario.title} — every figure on its goal line`, async () => {
      const result = await suite!.run(scenario);
      results.push(result);
      console.log(`${table([result])}\n${result.notes.map((note) => `note: ${note}`).join("\n")}`);
      expect(failures(result)).toEqual([]);
    }, 180_000);
  }
});
