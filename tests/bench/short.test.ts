/**
 * The bench's short tier (docs/benchmarks.md): `npm run bench engine point-read --no-results` at a twentieth of
 * the durations, as a person would run it. Timing is not judged here (speed belongs to the bench's own ratios,
 * measured in one run against a peer); what is judged is what a regression would silently break:
 * - the bench runs and prints a PASS or MISS line for each of its goals, and every MISS names what limits it;
 * - the statement counts per path of issue #14 (counted by the bench's PostgreSQL proxy, exact, not timed):
 *   a 1-step webhook run at most 7 statements, 0 per added transform, 1 per added http.request;
 * - a try-out run leaves bench/results/ as it was.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { testServices } from "../support/services.js";

let output = "";
let exitCode: number | null = null;
const latest = path.resolve("bench/results/latest.json");
const latestBefore = statSync(latest).mtimeMs;

beforeAll(async () => {
  const { postgresUrl, redisUrl } = testServices();
  const child = spawn(process.execPath, ["--import", "tsx", path.resolve("bench/run.ts"), "engine", "point-read", "--no-results"], {
    env: { ...process.env, NODE_ENV: "production", BENCH_SCALE: "0.05", BENCH_POSTGRES_URL: postgresUrl, BENCH_REDIS_URL: redisUrl, BENCH_DATABASE: `algo_bench_short_${randomBytes(3).toString("hex")}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  exitCode = await new Promise<number | null>((resolve) => child.once("exit", resolve));
}, 240_000);

describe("bench, short tier", () => {
  it("runs both scenarios to the end and prints a verdict for each goal; a MISS names what limits it", () => {
    expect(exitCode, output.slice(-3_000)).toBe(0);
    const verdicts = output.split("\n").filter((line) => /^(PASS|MISS) {2}/.test(line));
    expect(verdicts.map((line) => line.split(" — ")[0]!.replace(/^(PASS|MISS) {2}/, "")).sort()).toEqual([
      "engine: a step without side effects (transform) ≤ 0.5× the raw BullMQ cost per step",
      "engine: an http.request step ≤ 1.5× a raw BullMQ job making the same request",
      "point-read: ≤ +0.25 ms per read over raw pg",
    ]);
    const lines = output.split("\n");
    for (const [index, line] of lines.entries()) {
      if (line.startsWith("MISS  ")) expect(lines[index + 1], line).toMatch(/^\s+limited by: (?!no breakdown)/);
    }
  });

  it("issue #14's statement counts per path hold: a 1-step webhook run ≤ 7, 0 per added transform, 1 per added http.request", () => {
    const counted = output.match(/a 1-step webhook run ([\d.]+) statements .*?per added transform ([\d.]+) statements.*?per added http\.request ([\d.]+) statements/);
    expect(counted, "the engine scenario's statement note").not.toBeNull();
    const [, oneStepRun, perTransform, perHttp] = counted!.map(Number);
    expect(oneStepRun).toBeLessThanOrEqual(7);
    expect(perTransform).toBe(0);
    expect(perHttp).toBe(1);
  });

  it("--no-results leaves bench/results/ as it was", () => {
    expect(statSync(latest).mtimeMs).toBe(latestBefore);
  });
});
