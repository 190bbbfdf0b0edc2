/**
 * 6. A point read through our data layer (platform `readWorkflowRow`: the read behind `workflow(id)`, a named
 * statement on the Prisma client's own pool) vs a raw `pg` prepared statement reading the same columns of the
 * same row on a pool of its own. Sequential reads in this process, blocks alternating A B A B; the figure is
 * the added time per read (mean and median). Prisma's own `findUnique` of the same columns is measured in the
 * same rounds, for reference (what every other statement still costs).
 */
import { createDb, readWorkflowRow, WORKFLOW_ROW_COLUMNS } from "@algorythmos/platform";
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
const signed = (ms: number) => `${ms >= 0 ? "+" : "−"}${round(Math.abs(ms), 3)}`;
const SELECT = { id: true, workspaceId: true, name: true, description: true, definition: true, problems: true, latestVersion: true, createdAt: true, updatedAt: true } as const;
const READ = { name: "bench_point_read", text: `SELECT ${WORKFLOW_ROW_COLUMNS} FROM "Workflow" WHERE id = $1` };

export const pointRead: Scenario = {
  name: NAME,
  title: "point read: our data layer (readWorkflowRow) vs raw pg prepared statement (Prisma findUnique for reference)",
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
      const viaDataLayer = async () => {
        const started = performance.now();
        const found = await readWorkflowRow(db, id);
        if (!found) throw new Error("row not found through the data layer");
        return performance.now() - started;
      };
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
      for (let i = 0; i < 300; i++) await viaDataLayer(), await viaPg(), await viaPrisma(); // warm-up (connections, JIT, prepared statements)
      const samples = { ours: [] as number[], pg: [] as number[], prisma: [] as number[] };
      const rss = sampleRss([process.pid]);
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < block; i++) samples.ours.push(await viaDataLayer());
        for (let i = 0; i < block; i++) samples.pg.push(await viaPg());
        for (let i = 0; i < block; i++) samples.prisma.push(await viaPrisma());
      }
      const peak = rss.stop();
      const profile = config.profile ? await profileReads(viaDataLayer, block) : null;
      const a = latency(samples.ours);
      const b = latency(samples.pg);
      const p = latency(samples.prisma);
      const added = a.mean - b.mean;
      log(NAME, `data layer mean ${a.mean} ms (p50 ${a.p50}), pg mean ${b.mean} ms (p50 ${b.p50}), Prisma mean ${p.mean} ms (p50 ${p.p50}); added ${round(added, 3)} ms per read`);
      return {
        name: NAME,
        title: this.title,
        rows: [
          row(
            NAME,
            `workflow by id, ${samples.ours.length} sequential reads each`,
            "mean ms/read",
            "ms",
            false,
            { name: "ours (readWorkflowRow)", value: a.mean, latency: a, peakRssMiB: mib(peak) },
            { name: "raw pg prepared statement", value: b.mean, latency: b },
          ),
          row(
            NAME,
            `for reference: Prisma findUnique of the same columns, ${samples.prisma.length} reads`,
            "mean ms/read",
            "ms",
            false,
            { name: "Prisma 7.10 findUnique", value: p.mean, latency: p },
            { name: "raw pg prepared statement", value: b.mean, latency: b },
          ),
        ],
        goals: [
          {
            scenario: NAME,
            goal: "≤ +0.25 ms per read over raw pg",
            measured: `${signed(added)} ms mean (${signed(a.p50 - b.p50)} ms median; Prisma findUnique ${signed(p.mean - b.mean)} ms)`,
            pass: added <= 0.25,
          },
        ],
        notes: ["peak RSS is the bench process itself (all three clients live in it)", ...(profile ? [`profile of ${block} data-layer reads: bench/results/profiles/${NAME}.txt`] : [])],
      };
    } finally {
      await db.$disconnect();
      await raw.end();
    }
  },
};

/** CPU profile of `count` reads in this process (node:inspector), summarised like our servers' profiles. */
async function profileReads(read: () => Promise<number>, count: number): Promise<string> {
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
