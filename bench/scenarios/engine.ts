/**
 * 2. Engine overhead per step: chains of 1, 10 and 100 no-op transform steps (no side effects), and of 1 and
 * 20 http.request steps (a side effect: POST to a local server), run one at a time through our engine
 * (webhook in output mode → run → response), against a hand-written chain of raw BullMQ jobs on the same
 * Redis (each job does the same work — nothing, or the same POST — and enqueues the next; the last publishes
 * "done"). Cost per step is the slope (T(long) − T(1)) / (long − 1) of the medians, so the fixed cost of
 * starting and answering cancels out.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { log } from "../lib/alternate.js";
import { createWorkflow, edge, postJson, signUp, step } from "../lib/api.js";
import { config } from "../lib/config.js";
import { startOurs, withCountedOurs } from "../lib/ours.js";
import { sampleRss, startChild } from "../lib/proc.js";
import { latency, median, round } from "../lib/stats.js";
import { mib, row, type Scenario, type ScenarioResult } from "../lib/types.js";

const NAME = "engine";
const LENGTHS = [1, 10, 100] as const;
const HTTP_LENGTHS = [1, 20] as const;
const HTTP_LONG = 20;
/** Issue #14: a step without side effects at most this share of a raw BullMQ job; an http.request step this. */
const PURE_GOAL = 0.5;
const HTTP_GOAL = 1.5;

type Kind = "pure" | "http";

function chainDefinition(length: number, kind: Kind = "pure", target = "") {
  const ids = Array.from({ length }, (_, index) => `s${index + 1}`);
  const config = kind === "pure" ? { expression: "input.body" } : { method: "POST", url: target, body: { n: 1 } };
  return {
    name: kind === "pure" ? `bench chain ${length}` : `bench http chain ${length}`,
    steps: [step("hook", "trigger.webhook", { responseMode: "output" }), ...ids.map((id, index) => step(id, kind === "pure" ? "transform" : "http.request", config, 200 * (index + 1)))],
    edges: ids.map((id, index) => edge(index === 0 ? "hook" : ids[index - 1]!, id)),
  };
}

/** The receiver of both sides' POSTs: a small JSON answer, like an API acknowledging a write. */
async function startTarget(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/ack`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const engine: Scenario = {
  name: NAME,
  title: "engine overhead per step (chains of 1/10/100 no-op steps)",
  async run(): Promise<ScenarioResult> {
    const target = await startTarget();
    const ours = await startOurs(NAME, { HTTP_ALLOW_HOSTS: new URL(target.url).host });
    const raw = await startChild("raw-bullmq", "raw-bullmq-chain.ts", { REDIS_URL: config.redisUrl, REDIS_PREFIX: config.redisPrefix });
    const notes: string[] = [];
    const queue = new Queue("chain", { connection: new Redis(config.redisUrl, { maxRetriesPerRequest: null }), prefix: raw.info.queuePrefix });
    const subscriber = new Redis(config.redisUrl);
    const waiting = new Map<string, () => void>();
    subscriber.on("message", (_channel: string, message: string) => waiting.get((JSON.parse(message) as { chainId: string }).chainId)?.());
    await subscriber.subscribe(`${config.redisPrefix}bench-chain-done`);
    try {
      const user = await signUp(ours.info.url);
      const hooks = new Map<number, string>();
      const httpHooks = new Map<number, string>();
      for (const length of LENGTHS) {
        const workflow = await createWorkflow(ours.info.url, user, chainDefinition(length));
        hooks.set(length, `${ours.info.url}${workflow.webhookPath}`);
      }
      for (const length of HTTP_LENGTHS) {
        const workflow = await createWorkflow(ours.info.url, user, chainDefinition(length, "http", target.url));
        httpHooks.set(length, `${ours.info.url}${workflow.webhookPath}`);
      }
      const runOurs = async (length: number, kind: Kind = "pure") => {
        const started = performance.now();
        const response = await postJson((kind === "pure" ? hooks : httpHooks).get(length)!, { n: 1 });
        if (response.status !== 200) throw new Error(`${kind} chain of ${length} answered ${response.status}: ${JSON.stringify(response.body)}`);
        return performance.now() - started;
      };
      const runRaw = async (length: number, kind: Kind = "pure") => {
        const chainId = randomUUID();
        const started = performance.now();
        const done = new Promise<void>((resolve) => waiting.set(chainId, resolve));
        const job = { chainId, index: 0, length, ...(kind === "http" ? { url: target.url } : {}) };
        await queue.add("step", job, { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } });
        await done;
        waiting.delete(chainId);
        return performance.now() - started;
      };
      // Warm-up, then A B A B per length (fewer repetitions for long chains), bounded by count.
      for (const length of LENGTHS) for (let i = 0; i < 3; i++) await runOurs(length), await runRaw(length);
      for (const length of HTTP_LENGTHS) for (let i = 0; i < 3; i++) await runOurs(length, "http"), await runRaw(length, "http");
      const reps: Record<number, number> = { 1: Math.max(6, Math.round(30 * config.scale)), 10: Math.max(4, Math.round(15 * config.scale)), 100: Math.max(3, Math.round(8 * config.scale)) };
      const httpReps: Record<number, number> = { 1: Math.max(6, Math.round(20 * config.scale)), 20: Math.max(4, Math.round(12 * config.scale)) };
      const times = { ours: new Map<number, number[]>(), raw: new Map<number, number[]>() };
      const httpTimes = { ours: new Map<number, number[]>(), raw: new Map<number, number[]>() };
      const rssOurs = sampleRss([ours.pid]);
      const rssRaw = sampleRss([raw.pid]);
      await ours.profile(async () => {
      for (const length of LENGTHS) {
        times.ours.set(length, []);
        times.raw.set(length, []);
        for (let i = 0; i < reps[length]!; i++) {
          times.ours.get(length)!.push(await runOurs(length));
          times.raw.get(length)!.push(await runRaw(length));
        }
        log(NAME, `chain of ${length}: ours median ${round(median(times.ours.get(length)!), 2)} ms, raw BullMQ ${round(median(times.raw.get(length)!), 2)} ms`);
      }
      for (const length of HTTP_LENGTHS) {
        httpTimes.ours.set(length, []);
        httpTimes.raw.set(length, []);
        for (let i = 0; i < httpReps[length]!; i++) {
          httpTimes.ours.get(length)!.push(await runOurs(length, "http"));
          httpTimes.raw.get(length)!.push(await runRaw(length, "http"));
        }
        log(NAME, `http.request chain of ${length}: ours median ${round(median(httpTimes.ours.get(length)!), 2)} ms, raw BullMQ + fetch ${round(median(httpTimes.raw.get(length)!), 2)} ms`);
      }
      });
      const peakOurs = rssOurs.stop();
      const peakRaw = rssRaw.stop();
      const slope = (side: Map<number, number[]>, long = 100) => (median(side.get(long)!) - median(side.get(1)!)) / (long - 1);
      const oursPerStep = slope(times.ours);
      const rawPerStep = slope(times.raw);
      const httpLong = HTTP_LONG;
      const oursPerHttpStep = slope(httpTimes.ours, httpLong);
      const rawPerHttpStep = slope(httpTimes.raw, httpLong);
      const httpResult = row(
        NAME,
        `cost per http.request step (slope 1 → ${httpLong} steps)`,
        "ms/step",
        "ms",
        false,
        { name: "ours", value: round(oursPerHttpStep, 3), latency: latency(httpTimes.ours.get(httpLong)!) },
        { name: "raw BullMQ chain + fetch", value: round(rawPerHttpStep, 3), latency: latency(httpTimes.raw.get(httpLong)!) },
      );
      const result = row(
        NAME,
        "cost per step (slope 1 → 100 steps)",
        "ms/step",
        "ms",
        false,
        { name: "ours", value: round(oursPerStep, 3), latency: latency(times.ours.get(100)!), peakRssMiB: mib(peakOurs) },
        { name: "raw BullMQ chain", value: round(rawPerStep, 3), latency: latency(times.raw.get(100)!), peakRssMiB: mib(peakRaw) },
      );
      const perLength = LENGTHS.map((length) =>
        row(
          NAME,
          `run of ${length} step${length > 1 ? "s" : ""}, one at a time`,
          "median ms",
          "ms",
          false,
          { name: "ours", value: round(median(times.ours.get(length)!), 2), latency: latency(times.ours.get(length)!) },
          { name: "raw BullMQ chain", value: round(median(times.raw.get(length)!), 2), latency: latency(times.raw.get(length)!) },
        ),
      );

      // Where our time per step goes: the ledger's own timestamps of the last 100-step and 20-step http runs.
      const breakdown = await stepBreakdown();
      if (breakdown) notes.push(breakdown.text);
      const httpBreakdown = await stepBreakdown(`bench http chain ${HTTP_LONG}`);
      if (httpBreakdown) notes.push(httpBreakdown.text);
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
      const counted = await statementsPerStep(hooks, httpHooks, { HTTP_ALLOW_HOSTS: new URL(target.url).host });
      notes.push(counted.text);
      /** What limits a per-step goal: the step's own time, the engine's time between steps, the rest of the run, its statements and Redis commands. */
      const limitOf = (phases: StepPhases | null, perStep: number, rawPerStep: number, statements: number, redisCommands: number, length: number) => {
        if (!phases) return "no ledger breakdown (the run was not found)";
        const outside = (median((length === 100 ? times : httpTimes).ours.get(length)!) - phases.walkMs) / length;
        return (
          `per step ${round(perStep, 3)} ms vs ${round(rawPerStep, 3)} ms for a raw job: ${round(phases.insidePerStep, 2)} ms inside the step (ledger startedAt → finishedAt), ` +
          `${round(phases.betweenPerStep, 2)} ms between steps (the engine's own walk), ${round(outside, 2)} ms per step outside the walk (request, queue, the final statement with the carried rows, the response; ` +
          `this run: queued → started ${phases.queuedToStartedMs} ms of ${round(median((length === 100 ? times : httpTimes).ours.get(length)!), 1)} ms); ` +
          `${round(statements, 2)} PostgreSQL statements and ${round(redisCommands, 2)} Redis commands per step`
        );
      };
      return {
        name: NAME,
        title: this.title,
        rows: [result, httpResult, ...perLength],
        goals: [
          {
            scenario: NAME,
            goal: `a step without side effects (transform) ≤ ${PURE_GOAL}× the raw BullMQ cost per step`,
            measured: `${round(oursPerStep / rawPerStep, 2)}× (${round(oursPerStep, 3)} vs ${round(rawPerStep, 3)} ms/step)`,
            pass: oursPerStep <= PURE_GOAL * rawPerStep,
            limit: limitOf(breakdown, oursPerStep, rawPerStep, counted.perTransform, counted.redisPerTransform, 100),
          },
          {
            scenario: NAME,
            goal: `an http.request step ≤ ${HTTP_GOAL}× a raw BullMQ job making the same request`,
            measured: `${round(oursPerHttpStep / rawPerHttpStep, 2)}× (${round(oursPerHttpStep, 3)} vs ${round(rawPerHttpStep, 3)} ms/step)`,
            pass: oursPerHttpStep <= HTTP_GOAL * rawPerHttpStep,
            limit: limitOf(httpBreakdown, oursPerHttpStep, rawPerHttpStep, counted.perHttp, counted.redisPerHttp, HTTP_LONG),
          },
        ],
        notes,
      };
    } finally {
      await queue.close();
      subscriber.disconnect();
      await raw.stop();
      await ours.stop();
      await target.close();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
    }
  },
};

interface StepPhases {
  steps: number;
  events: number;
  queuedToStartedMs: number;
  walkMs: number;
  runMs: number;
  insidePerStep: number;
  betweenPerStep: number;
  text: string;
}

/**
 * Per-step phases of the newest run of the named workflow, from RunStep timestamps: time inside steps
 * (startedAt → finishedAt) and between them (finishedAt → next startedAt), and run queue/start/finish gaps.
 */
async function stepBreakdown(workflowName = "bench chain 100"): Promise<StepPhases | null> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const run = await client.query(
      `SELECT r.id, r."createdAt", r."startedAt", r."finishedAt" FROM "Run" r JOIN "Workflow" w ON w.id = r."workflowId" WHERE w.name = $1 ORDER BY r."createdAt" DESC LIMIT 1`,
      [workflowName],
    );
    if (!run.rows[0]) return null;
    const steps = await client.query(`SELECT "stepId", "startedAt", "finishedAt" FROM "RunStep" WHERE "runId" = $1 ORDER BY "startedAt" ASC`, [run.rows[0].id]);
    const inside: number[] = [];
    const between: number[] = [];
    let previous: Date | null = null;
    for (const s of steps.rows as { startedAt: Date | null; finishedAt: Date | null }[]) {
      if (s.startedAt && s.finishedAt) inside.push(s.finishedAt.getTime() - s.startedAt.getTime());
      if (previous && s.startedAt) between.push(s.startedAt.getTime() - previous.getTime());
      previous = s.finishedAt;
    }
    const events = await client.query(`SELECT count(*)::int AS n FROM "RunEvent" WHERE "runId" = $1`, [run.rows[0].id]);
    const r = run.rows[0] as { createdAt: Date; startedAt: Date; finishedAt: Date };
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const phases = {
      steps: steps.rowCount ?? 0,
      events: events.rows[0].n as number,
      queuedToStartedMs: r.startedAt.getTime() - r.createdAt.getTime(),
      walkMs: r.finishedAt.getTime() - r.startedAt.getTime(),
      runMs: r.finishedAt.getTime() - r.createdAt.getTime(),
      insidePerStep: sum(inside) / (inside.length || 1),
      betweenPerStep: sum(between) / (between.length || 1),
    };
    return {
      ...phases,
      text:
        `breakdown of one run of "${workflowName}" (ledger timestamps, ms resolution): queued → started ${phases.queuedToStartedMs} ms, ` +
        `started → finished ${phases.walkMs} ms; ${phases.steps} step rows, ${phases.events} run events stored; ` +
        `inside steps (startedAt → finishedAt) total ${sum(inside)} ms (${round(phases.insidePerStep, 2)} ms/step), ` +
        `between steps (finishedAt → next startedAt) total ${sum(between)} ms (${round(phases.betweenPerStep, 2)} ms/step)`,
    };
  } finally {
    await client.end();
  }
}

/** Runs per chain length whose statements are counted, one window each. */
const COUNTED_RUNS = 5;

/** The statements of `run` that `typical` did not execute (as a multiset), by text. */
function extraStatements(run: string[], typical: string[]): string[] {
  const left = new Map<string, number>();
  for (const text of typical) left.set(text, (left.get(text) ?? 0) + 1);
  return run.filter((text) => {
    const n = left.get(text) ?? 0;
    if (n > 0) left.set(text, n - 1);
    return n === 0;
  });
}

interface PathCounts {
  /** PostgreSQL statements per added transform, per added http.request; per 1-step run. */
  perTransform: number;
  perHttp: number;
  oneStep: number;
  /** Redis commands per added transform / http.request, and per 1-step run; the commands' names of a 1-step run. */
  redisPerTransform: number;
  redisPerHttp: number;
  redisOneStep: number;
  redisOneStepByName: string;
  text: string;
}

/** PostgreSQL statements and round trips, and Redis commands, per step: runs of 1 and N steps through counting proxies, slope. */
async function statementsPerStep(hooks: Map<number, string>, httpHooks: Map<number, string>, env: Record<string, string>): Promise<PathCounts> {
  return withCountedOurs(async (url, counts, redis) => {
    const per = async (length: number, chains = hooks) => {
      const hook = new URL(chains.get(length)!);
      const target = `${url}${hook.pathname}`;
      await postJson(target, { n: 1 }); // warm (caches, prepared statements)
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Each run counted in a window of its own, the median kept: a statement of the process's own that falls
      // into one window (a periodic check, a carried batch flushed by its timer on a loaded machine) is no cost
      // of the path, and the runs that had one are named with what it was.
      const redisBefore = { byName: { ...redis.byName } };
      const runs: { statements: number; roundTrips: number; redis: number; executed: string[] }[] = [];
      for (let i = 0; i < COUNTED_RUNS; i++) {
        const before = { statements: counts.statements, roundTrips: counts.roundTrips, executed: counts.executed.length, redis: redis.commands };
        if ((await postJson(target, { n: 1 })).status !== 200) throw new Error("counted run failed");
        await new Promise((resolve) => setTimeout(resolve, 300)); // trailing writes after the response
        runs.push({
          statements: counts.statements - before.statements,
          roundTrips: counts.roundTrips - before.roundTrips,
          redis: redis.commands - before.redis,
          executed: counts.executed.slice(before.executed),
        });
      }
      const byName = Object.entries(redis.byName)
        .map(([name, n]) => [name, (n - (redisBefore.byName[name] ?? 0)) / COUNTED_RUNS] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${round(n, 1)}`)
        .join(", ");
      const statements = median(runs.map((r) => r.statements));
      const typical = runs.find((r) => r.statements === statements)!;
      const outliers = runs.filter((r) => r.statements > statements).map((r) => extraStatements(r.executed, typical.executed));
      return {
        statements,
        roundTrips: median(runs.map((r) => r.roundTrips)),
        redis: median(runs.map((r) => r.redis)),
        byName,
        perRun: runs.map((r) => r.statements).join(", "),
        outliers: outliers.length ? `; the runs above the median also executed: ${outliers.map((extra) => extra.join(" + ")).join("; ")}` : "",
      };
    };
    const one = await per(1);
    const hundred = await per(100);
    const httpOne = await per(1, httpHooks);
    const httpLong = HTTP_LONG;
    const httpMany = await per(httpLong, httpHooks);
    const perTransform = (hundred.statements - one.statements) / 99;
    const perHttp = (httpMany.statements - httpOne.statements) / (httpLong - 1);
    const redisPerTransform = (hundred.redis - one.redis) / 99;
    const redisPerHttp = (httpMany.redis - httpOne.redis) / (httpLong - 1);
    return {
      perTransform,
      perHttp,
      oneStep: one.statements,
      redisPerTransform,
      redisPerHttp,
      redisOneStep: one.redis,
      redisOneStepByName: one.byName,
      text:
        `PostgreSQL statements (counting proxy, median of ${COUNTED_RUNS} runs each): a 1-step webhook run ${round(one.statements, 1)} statements / ${round(one.roundTrips, 1)} round trips (runs: ${one.perRun}${one.outliers}); ` +
        `a 100-step run ${round(hundred.statements, 1)} / ${round(hundred.roundTrips, 1)}; per added transform ${round(perTransform, 2)} statements, ${round((hundred.roundTrips - one.roundTrips) / 99, 2)} round trips; ` +
        `1 http.request step ${round(httpOne.statements, 1)}, ${httpLong} steps ${round(httpMany.statements, 1)}: per added http.request ${round(perHttp, 2)} statements. ` +
        `Redis commands (counting proxy, every connection of ours): a 1-step run ${round(one.redis, 1)} (${one.byName}); per added transform ${round(redisPerTransform, 2)}, per added http.request ${round(redisPerHttp, 2)}`,
    };
  }, env);
}
