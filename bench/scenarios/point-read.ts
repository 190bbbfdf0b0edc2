/**
 * 6. A point read through our data layer (the Prisma client from platform `createDb`, driver adapter on `pg`)
 * vs a raw `pg` prepared statement reading the same columns of the same row. Sequential reads in this
 * process, blocks alternating A B A B; the figure is the added time per read (mean and median).
 */
import { createDb } from "@algorythmos/platform";
import pg from "pg";
import { log } from "../lib/alternate.js";
import { createWorkflow, signUp } from "../lib/api.js";
import { config } from "../lib/config.js";
import { startOurs } from "../lib/ours.js";
import { sampleRss } from "../lib/proc.js";
import { latency, round } from "../lib/stats.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { profilesDir } from "../lib/ours.js";
import { summariseProfile } from "../lib/profile.js";
import { mib, row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { webhookDefinition } from "./webhook.js";

const NAME = "point-read";
const SELECT = { id: true, workspaceId: true, name: true, description: true, definition: true, latestVersion: true, createdAt: true, updatedAt: true } as const;
const READ = {
  name: "bench_point_read",
  text: `SELECT id, "workspaceId", name, description, definition, "latestVersion", "createdAt", "updatedAt" FROM "Workflow" WHERE id = $1`,
};

export const pointRead: Scenario = {
  name: NAME,
  title: "point read: Prisma (platform createDb) vs raw pg prepared statement",
  async run(): Promise<ScenarioResult> {
    // The row to read, created through the API like any workflow.
    const ours = await startOurs(NAME);
    let id: string;
    try {
      const user = await signUp(ours.info.url);
      id = (await createWorkflow(ours.info.url, user, webhookDefinition)).id;
    } finally {
      await ours.stop();
    }
    const db = createDb(config.databaseUrl);
    const raw = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
    try {
      const viaPrisma = async () => {
        const started = performance.now();
        const found = await db.workflow.findUnique({ where: { id }, select: SELECT });
        if (!found) throw new Error("row not found through Prisma");
        return performance.now() - started;
      };
      const viaPg = async () => {
        const started = performance.now();
        const { rows } = await raw.query({ ...READ, values: [id] });
        if (!rows[0]) throw new Error("row not found through pg");
        return performance.now() - started;
      };
      const block = Math.max(200, Math.round(1000 * config.scale));
      for (let i = 0; i < 300; i++) await viaPrisma(), await viaPg(); // warm-up (connections, JIT, prepared statements)
      const samples = { prisma: [] as number[], pg: [] as number[] };
      const rss = sampleRss([process.pid]);
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < block; i++) samples.prisma.push(await viaPrisma());
        for (let i = 0; i < block; i++) samples.pg.push(await viaPg());
      }
      const peak = rss.stop();
      const profile = config.profile ? await profilePrisma(viaPrisma, block) : null;
      const a = latency(samples.prisma);
      const b = latency(samples.pg);
      const added = a.mean - b.mean;
      log(NAME, `Prisma mean ${a.mean} ms (p50 ${a.p50}), pg mean ${b.mean} ms (p50 ${b.p50}); added ${round(added, 3)} ms per read`);
      return {
        name: NAME,
        title: this.title,
        rows: [
          row(
            NAME,
            `workflow by id, ${samples.prisma.length} sequential reads each`,
            "mean ms/read",
            "ms",
            false,
            { name: "ours (Prisma via createDb)", value: a.mean, latency: a, peakRssMiB: mib(peak) },
            { name: "raw pg prepared statement", value: b.mean, latency: b },
          ),
        ],
        goals: [
          {
            scenario: NAME,
            goal: "≤ +0.25 ms per read over raw pg",
            measured: `+${round(added, 3)} ms mean (+${round(a.p50 - b.p50, 3)} ms median)`,
            pass: added <= 0.25,
          },
        ],
        notes: ["peak RSS is the bench process itself (both clients live in it)", ...(profile ? [`profile of ${block} Prisma reads: bench/results/profiles/${NAME}.txt`] : [])],
      };
    } finally {
      await db.$disconnect();
      await raw.end();
    }
  },
};

/** CPU profile of `count` Prisma reads in this process (node:inspector), summarised like our servers' profiles. */
async function profilePrisma(read: () => Promise<number>, count: number): Promise<string> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  for (let i = 0; i < count; i++) await read();
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  mkdirSync(profilesDir, { recursive: true });
  const file = path.join(profilesDir, `${NAME}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return summariseProfile(file, path.join(profilesDir, `${NAME}.txt`));
}
