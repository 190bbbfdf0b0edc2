import { mkdirSync } from "node:fs";
import path from "node:path";
import { config, oursEnv } from "./config.js";
import { benchRoot, startChild, type Child } from "./proc.js";
import { startPgCounter, startRedisCounter, type PgCounts, type RedisCounts } from "./pgcount.js";
import { summariseProfile } from "./profile.js";

export const profilesDir = path.join(benchRoot, "results", "profiles");

/**
 * Our server + collab + worker in one child process on the bench database. With BENCH_PROFILE=1,
 * `profile(work)` CPU-profiles it for exactly `work` (the measured rounds) and writes the summary to
 * bench/results/profiles/<scenario>.txt.
 */
export interface Ours extends Child {
  /** `force`: profile even without BENCH_PROFILE=1 (a breakdown that needs it). Returns through `onFile` the raw profile's path. */
  profile<T>(work: () => Promise<T>, label?: string, options?: { force?: boolean; onFile?: (file: string) => void }): Promise<T>;
  profiled: string[];
  /** RSS (bytes) right after a full garbage collection in our process. */
  collectedRss(): Promise<number>;
}

export async function startOurs(scenario: string, env: Record<string, string> = {}): Promise<Ours> {
  const child = await startChild("ours", "ours.ts", oursEnv(env), { nodeArgs: ["--expose-gc"] });
  const ask = (message: object, reply: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const onMessage = (answer: Record<string, unknown>) => {
        if (answer?.[reply]) {
          child.process.off("message", onMessage);
          resolve(answer);
        }
      };
      child.process.on("message", onMessage);
      child.process.send(message);
    });
  const ours: Ours = {
    ...child,
    profiled: [] as string[],
    async collectedRss() {
      return Number((await ask({ gc: true }, "collected")).rss);
    },
    async profile<T>(work: () => Promise<T>, label?: string, options: { force?: boolean; onFile?: (file: string) => void } = {}): Promise<T> {
      const name = label ? `${scenario}-${label}` : scenario;
      if (!config.profile && !options.force) return work();
      mkdirSync(profilesDir, { recursive: true });
      const file = path.join(profilesDir, `${name}.cpuprofile`);
      await ask({ profile: "start" }, "profiling");
      try {
        return await work();
      } finally {
        await ask({ profile: "stop", file }, "profiled");
        summariseProfile(file, path.join(profilesDir, `${name}.txt`));
        ours.profiled.push(`bench/results/profiles/${name}.txt`);
        options.onFile?.(file);
      }
    },
  };
  return ours;
}

/**
 * A second instance of ours whose PostgreSQL traffic goes through a counting proxy, for breakdowns of how
 * many statements a run, step or request costs. Stop the measured instance first: both would consume the
 * same queue.
 */
export async function withCountedOurs<T>(work: (url: string, counts: PgCounts, redis: RedisCounts) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const proxy = await startPgCounter(config.databaseUrl);
  const redisProxy = await startRedisCounter(config.redisUrl);
  const child = await startChild("ours-counted", "ours.ts", oursEnv({ ...env, DATABASE_URL: proxy.url, REDIS_URL: redisProxy.url }));
  try {
    return await work(child.info.url, proxy.counts, redisProxy.counts);
  } finally {
    await child.stop();
    await proxy.close();
    await redisProxy.close();
  }
}
