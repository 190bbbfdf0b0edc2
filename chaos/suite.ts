/**
 * The chaos suite as a library: `runSuite` starts one private cluster, runs the chosen scenarios one after
 * another on it (each bounded in count and time), and tears everything down. `chaos/run.ts` (npm run chaos)
 * and tests/chaos/short.test.ts both use it.
 */
import { signUp, type User } from "./lib/api.js";
import { Cluster } from "./lib/cluster.js";
import { startCountingServer, type CountingServer } from "./lib/counting-server.js";
import type { ScenarioResult } from "./lib/report.js";
import { seededRandom } from "./lib/util.js";
import { collabKill } from "./scenarios/collab-kill.js";
import { hostileInput } from "./scenarios/hostile-input.js";
import { postgresRestart } from "./scenarios/postgres-restart.js";
import { redisRestart } from "./scenarios/redis-restart.js";
import { relayDrop } from "./scenarios/relay-drop.js";
import { serverTerm } from "./scenarios/server-term.js";
import { workerKill } from "./scenarios/worker-kill.js";

export interface Tier {
  name: "full" | "short";
  /** 1 for the full tier, 0.1 for the short one: counts scale by it. */
  factor: number;
}

export const FULL: Tier = { name: "full", factor: 1 };
export const SHORT: Tier = { name: "short", factor: 0.1 };

export interface Context {
  cluster: Cluster;
  counting: CountingServer;
  owner: User;
  tier: Tier;
  random: () => number;
  log: (line: string) => void;
  /** `n` scaled to the tier, at least `min`. */
  scale(n: number, min?: number): number;
  /** The figures' own notes (what was measured how), shown under the table and kept in latest.json. */
  notes: string[];
}

export interface Scenario {
  name: string;
  title: string;
  /** false: only in the full tier (the short tier must fit in ~90 s inside npm test). */
  inShortTier?: boolean;
  run(context: Context): Promise<ScenarioResult["figures"]>;
}

export const SCENARIOS: Scenario[] = [workerKill, redisRestart, postgresRestart, collabKill, relayDrop, serverTerm, hostileInput];

export const scenariosOf = (tier: Tier) => SCENARIOS.filter((scenario) => tier.name === "full" || scenario.inShortTier !== false);

/**
 * Settings every process gets beyond the required ones and the rate limits (cluster.ts), when it knows them.
 * Empty on purpose: recovery is measured with the defaults a deployment gets (lock duration, stalled and
 * reconcile intervals, anti-entropy).
 */
export const SUITE_SETTINGS: Record<string, string> = {};

export interface Suite {
  cluster: Cluster;
  run(scenario: Scenario): Promise<ScenarioResult>;
  close(): Promise<void>;
}

/** Starts the cluster and the counting server; `run` runs one scenario on it. */
export async function startSuite(options: { tier: Tier; seed: number; log?: (line: string) => void }): Promise<Suite> {
  const log = options.log ?? ((line: string) => console.log(line));
  const cluster = new Cluster({ settings: SUITE_SETTINGS, log });
  const counting = await startCountingServer();
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop();
    await counting.close();
    throw error;
  }
  if (cluster.unknownSettings.length) log(`  not known to the processes (not passed): ${cluster.unknownSettings.join(", ")}`);
  const owner = await signUp(cluster.servers[0]!.url, "Owner");
  const random = seededRandom(options.seed);
  return {
    cluster,
    async run(scenario) {
      const started = Date.now();
      const notes: string[] = [];
      const context: Context = {
        cluster,
        counting,
        owner,
        tier: options.tier,
        random,
        log,
        notes,
        scale: (n, min = 1) => Math.max(min, Math.round(n * options.tier.factor)),
      };
      try {
        await cluster.ensureAllUp();
        const figures = await scenario.run(context);
        return { name: scenario.name, title: scenario.title, figures, notes, seconds: Math.round((Date.now() - started) / 1000) };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`  ${scenario.name} did not complete: ${error instanceof Error ? error.stack : message}`);
        return { name: scenario.name, title: scenario.title, figures: [], notes, seconds: Math.round((Date.now() - started) / 1000), error: message };
      } finally {
        counting.reset();
        await cluster.ensureAllUp().catch((error) => log(`  could not restart a process after ${scenario.name}: ${error}`));
      }
    },
    async close() {
      await cluster.stop();
      await counting.close();
    },
  };
}
