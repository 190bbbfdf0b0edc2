/**
 * 3. Yjs fan-out: 1 workflow × 200 clients, and 500 workflows × 3 clients. Update propagation latency
 * (writer's edit → every other client has applied it) through our collab service (auth, durable append to
 * PostgreSQL before broadcast) vs the bare `@y/websocket-server` 0.1.1, both at /collab/<workflowId>.
 * Both servers keep their clients connected; measurement rounds alternate A B A B.
 */
import { log } from "../lib/alternate.js";
import { createWorkflow, signUp } from "../lib/api.js";
import { config, seconds } from "../lib/config.js";
import { startOurs } from "../lib/ours.js";
import { sampleRss, startChild } from "../lib/proc.js";
import { latency, median, pool, round, type Latency } from "../lib/stats.js";
import { mib, row, type Goal, type Row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { connectRooms, measurePropagation, type Rooms } from "../lib/yclients.js";

const NAME = "yjs";
/** Short rounds, many of them: the figure is the median of the rounds' p99s, so one burst of machine noise does not decide it. */
const ROUNDS = 4;
const collabBase = (httpUrl: string) => httpUrl.replace(/^http/, "ws") + "/collab";

interface Case {
  label: string;
  rooms: number;
  perRoom: number;
  /** edits per measured round, spread over the round */
  updates: number;
  durationS: number;
}

export const yjs: Scenario = {
  name: NAME,
  title: "Yjs update propagation: 1 workflow × 200 clients, 500 workflows × 3 clients",
  async run(): Promise<ScenarioResult> {
    const ours = await startOurs(NAME);
    const bare = await startChild("bare-y-websocket", "bare-y-websocket.ts", {});
    const notes: string[] = [];
    const rows: Row[] = [];
    const goals: Goal[] = [];
    try {
      const user = await signUp(ours.info.url);
      const cases: Case[] = [
        { label: "1 workflow × 200 clients", rooms: 1, perRoom: 200, updates: Math.max(10, Math.round(50 * config.scale)), durationS: seconds(2.5) },
        { label: "500 workflows × 3 clients", rooms: 500, perRoom: 3, updates: Math.max(100, Math.round(750 * config.scale)), durationS: seconds(3) },
      ];
      const ids = await pool(Array.from({ length: 501 }, (_, i) => i), 8, async (i) => (await createWorkflow(ours.info.url, user, { name: `bench yjs ${i}` })).id);
      log(NAME, `created ${ids.length} workflows`);
      let offset = 0;
      for (const c of cases) {
        const rooms = ids.slice(offset, offset + c.rooms);
        offset += c.rooms;
        const started = performance.now();
        const oursRooms = await connectRooms(collabBase(ours.info.url), rooms, c.perRoom, user.token);
        const bareRooms = await connectRooms(collabBase(bare.info.url), rooms, c.perRoom, null);
        log(NAME, `${c.label}: ${c.rooms * c.perRoom} clients connected and synced to each server in ${round((performance.now() - started) / 1000, 1)} s`);
        try {
          const side = async (which: "ours" | "bare", target: Rooms, pid: number, updates: number) => {
            const rss = sampleRss([pid]);
            const result = await measurePropagation(target, updates, c.durationS * 1000);
            const peak = rss.stop();
            const lat = latency(result.samples);
            log(NAME, `${c.label} ${which}: ${result.samples.length}/${result.expected} deliveries, p50 ${lat.p50} p95 ${lat.p95} p99 ${lat.p99} ms`);
            return { samples: result.samples, expected: result.expected, peak };
          };
          // warm-up
          await measurePropagation(oursRooms, Math.ceil(c.updates / 5), 1000);
          await measurePropagation(bareRooms, Math.ceil(c.updates / 5), 1000);
          const oursAll: number[] = [];
          const bareAll: number[] = [];
          let oursPeak = 0;
          let barePeak = 0;
          let missing = 0;
          const roundP99 = { ours: [] as number[], bare: [] as number[] };
          for (let round = 0; round < ROUNDS; round++) {
            const a = await ours.profile(() => side("ours", oursRooms, ours.pid, c.updates), `${c.rooms}x${c.perRoom}-round${round + 1}`);
            const b = await side("bare", bareRooms, bare.pid, c.updates);
            oursAll.push(...a.samples);
            roundP99.ours.push(latency(a.samples).p99);
            bareAll.push(...b.samples);
            roundP99.bare.push(latency(b.samples).p99);
            oursPeak = Math.max(oursPeak, a.peak);
            barePeak = Math.max(barePeak, b.peak);
            missing += a.expected - a.samples.length;
          }
          const oursLat: Latency = { ...latency(oursAll), p99: round(median(roundP99.ours), 3) };
          const bareLat: Latency = { ...latency(bareAll), p99: round(median(roundP99.bare), 3) };
          rows.push(
            row(
              NAME,
              `${c.label}: propagation p99, median of ${ROUNDS} rounds (${round((c.updates / c.durationS) * (c.perRoom - 1), 0)} deliveries/s)`,
              "p99",
              "ms",
              false,
              { name: "ours", value: oursLat.p99, latency: oursLat, peakRssMiB: mib(oursPeak), rounds: roundP99.ours },
              { name: "@y/websocket-server 0.1.1", value: bareLat.p99, latency: bareLat, peakRssMiB: mib(barePeak), rounds: roundP99.bare },
            ),
          );
          goals.push({
            scenario: NAME,
            goal: `${c.label}: p99 < 30 ms and ≤ 1.2× bare`,
            measured: `p99 ${oursLat.p99} ms (rounds ${roundP99.ours.join(" / ")}) vs ${bareLat.p99} ms bare (rounds ${roundP99.bare.join(" / ")}) (${round(oursLat.p99 / bareLat.p99, 2)}×)${missing ? `; ${missing} deliveries missing` : ""}`,
            pass: oursLat.p99 < 30 && oursLat.p99 <= 1.2 * bareLat.p99 && missing === 0,
          });
        } finally {
          oursRooms.close();
          bareRooms.close();
        }
      }
      return { name: NAME, title: this.title, rows, goals, notes };
    } finally {
      await bare.stop();
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
    }
  },
};
