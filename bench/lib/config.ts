import { randomBytes } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { z } from "zod";

/**
 * The bench's own settings, parsed once here (habit 1). The suite runs on the configured PostgreSQL and
 * Redis, in a dedicated database (`algo_bench`) and a Redis prefix of the run's own, both removed after.
 */
const BenchEnv = z.object({
  BENCH_POSTGRES_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/postgres"),
  BENCH_REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  BENCH_DATABASE: z.string().regex(/^[a-z0-9_]+$/).default("algo_bench"),
  /** `1`: run our process with --cpu-prof and summarise the profile per scenario (bench/results/profiles/). */
  BENCH_PROFILE: z.enum(["0", "1"]).default("0"),
  /** Scale every measured duration (e.g. 0.3 for a quick smoke run). */
  BENCH_SCALE: z.coerce.number().min(0.05).max(10).default(1),
  /** The soak scenario's load phase, in seconds (≥ 120 for the goal; shorter for trying it). */
  BENCH_SOAK_SECONDS: z.coerce.number().int().min(10).max(3_600).default(120),
  /** The yjs scenario's cases to run, e.g. `1x200` (for bisecting one case); empty: all. */
  BENCH_YJS_CASES: z.string().regex(/^(\d+x\d+(,\d+x\d+)*)?$/).default(""),
});

const parsed = BenchEnv.parse(process.env);
/** `--soak-seconds=N` on the command line wins over BENCH_SOAK_SECONDS. */
const soakFlag = process.argv.find((arg) => arg.startsWith("--soak-seconds="));
const soakSeconds = soakFlag ? BenchEnv.shape.BENCH_SOAK_SECONDS.parse(soakFlag.split("=")[1]) : parsed.BENCH_SOAK_SECONDS;
const runId = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

function databaseUrl(): string {
  const url = new URL(parsed.BENCH_POSTGRES_URL);
  url.pathname = `/${parsed.BENCH_DATABASE}`;
  return url.toString();
}

export const config = {
  runId,
  adminUrl: parsed.BENCH_POSTGRES_URL,
  database: parsed.BENCH_DATABASE,
  databaseUrl: databaseUrl(),
  redisUrl: parsed.BENCH_REDIS_URL,
  redisPrefix: `algo_bench:${runId}:`,
  profile: parsed.BENCH_PROFILE === "1",
  scale: parsed.BENCH_SCALE,
  soakSeconds,
  yjsCases: parsed.BENCH_YJS_CASES ? parsed.BENCH_YJS_CASES.split(",") : [],
  machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`,
};

/** A measured duration, scaled by BENCH_SCALE. */
export const seconds = (value: number) => Math.max(1, Math.round(value * config.scale * 10) / 10);

/** The environment of our processes in the bench: the bench database, the run's Redis prefix, limits out of the way. */
export function oursEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    COLLAB_PORT: "0",
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    REDIS_PREFIX: config.redisPrefix,
    JWT_SECRET: "bench-secret-bench-secret-bench-secret-01",
    CREDENTIALS_KEY: Buffer.alloc(32, 9).toString("base64"),
    // The bench measures the work, not the 429 path; the limiter's Redis counter still runs on every request.
    RATE_LIMIT_PER_MINUTE: "100000000",
    AUTH_RATE_LIMIT_PER_MINUTE: "100000000",
    LOG_LEVEL: "warn",
    ...extra,
  };
}
