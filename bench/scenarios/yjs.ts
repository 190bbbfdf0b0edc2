/**
 * 3. Yjs fan-out: 1 workflow × 200 clients, and 500 workflows × 3 clients. Update propagation latency
 * (writer's edit → every other client has applied it) through our collab service (auth, durable append to
 * PostgreSQL before broadcast) vs Hocuspocus 3.4.4 with its database extension storing to the same
 * PostgreSQL (its defaults: debounced stores), and vs the bare `@y/websocket-server` 0.1.1 (stores nothing),
 * all at /collab/<workflowId>. Every server keeps its clients connected; measured rounds alternate
 * ours, Hocuspocus, bare.
 */
import { log } from "../lib/alternate.js";
import { createWorkflow, signUp } from "../lib/api.js";
import { config, seconds } from "../lib/config.js";
import { startOurs } from "../lib/ours.js";
import { sampleRss, startChild } from "../lib/proc.js";
import { latency, median, pool, round, type Latency } from "../lib/stats.js";
import { mib, row, type Goal, type Row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { connectHocuspocusRooms, connectRooms, measurePropagation, type Rooms } from "../lib/yclients.js";

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

type Side = "ours" | "hocuspocus" | "bare";
const PEERS = { hocuspocus: "Hocuspocus 3.4.4 + database extension", bare: "@y/websocket-server 0.1.1" } as const;

export const yjs: Scenario = {
  name: NAME,
  /** Three servers (yjs) or 10,000 sockets to connect (subscriptions): more than the default 6 minutes on a busy machine. */
  timeoutMs: 9 * 60_000,
  title: "Yjs update propagation: 1 workflow × 200 clients, 500 workflows × 3 clients (vs Hocuspocus storing, and bare)",
  async run(): Promise<ScenarioResult> {
    const ours = await startOurs(NAME);
    const bare = await startChild("bare-y-websocket", "bare-y-websocket.ts", {});
    const hocuspocus = await startChild("hocuspocus", "hocuspocus.ts", { DATABASE_URL: config.databaseUrl });
    const pids: Record<Side, number> = { ours: ours.pid, hocuspocus: hocuspocus.pid, bare: bare.pid };
    const notes: string[] = [];
    const rows: Row[] = [];
    const goals: Goal[] = [];
    try {
      const user = await signUp(ours.info.url);
      const cases: Case[] = [
        { label: "1 workflow × 200 clients", rooms: 1, perRoom: 200, updates: Math.max(10, Math.round(50 * config.scale)), durationS: seconds(2.5) },
        { label: "500 workflows × 3 clients", rooms: 500, perRoom: 3, updates: Math.max(100, Math.round(750 * config.scale)), durationS: seconds(3) },
      ].filter((c) => !config.yjsCases.length || config.yjsCases.includes(`${c.rooms}x${c.perRoom}`));
      const ids = await pool(Array.from({ length: cases.reduce((sum, c) => sum + c.rooms, 0) }, (_, i) => i), 8, async (i) => (await createWorkflow(ours.info.url, user, { name: `bench yjs ${i}` })).id);
      log(NAME, `created ${ids.length} workflows`);
      let offset = 0;
      for (const c of cases) {
        const rooms = ids.slice(offset, offset + c.rooms);
        offset += c.rooms;
        const started = performance.now();
        const connected: Record<Side, Rooms> = {
          ours: await connectRooms(collabBase(ours.info.url), rooms, c.perRoom, user.token),
          hocuspocus: await connectHocuspocusRooms(collabBase(hocuspocus.info.url), rooms, c.perRoom),
          bare: await connectRooms(collabBase(bare.info.url), rooms, c.perRoom, null),
        };
        log(NAME, `${c.label}: ${c.rooms * c.perRoom} clients connected and synced to each server in ${round((performance.now() - started) / 1000, 1)} s`);
        try {
          const side = async (which: Side, updates: number) => {
            const rss = sampleRss([pids[which]]);
            const result = await measurePropagation(connected[which], updates, c.durationS * 1000);
            const peak = rss.stop();
            const lat = latency(result.samples);
            log(NAME, `${c.label} ${which}: ${result.samples.length}/${result.expected} deliveries, p50 ${lat.p50} p95 ${lat.p95} p99 ${lat.p99} ms`);
            return { samples: result.samples, expected: result.expected, peak };
          };
          for (const which of ["ours", "hocuspocus", "bare"] as const) await measurePropagation(connected[which], Math.ceil(c.updates / 5), 1000); // warm-up
          const all: Record<Side, number[]> = { ours: [], hocuspocus: [], bare: [] };
          const peaks: Record<Side, number> = { ours: 0, hocuspocus: 0, bare: 0 };
          const roundP99: Record<Side, number[]> = { ours: [], hocuspocus: [], bare: [] };
          const missing: Record<Side, number> = { ours: 0, hocuspocus: 0, bare: 0 };
          for (let round = 0; round < ROUNDS; round++) {
            for (const which of ["ours", "hocuspocus", "bare"] as const) {
              const result =
                which === "ours" ? await ours.profile(() => side("ours", c.updates), `${c.rooms}x${c.perRoom}-round${round + 1}`) : await side(which, c.updates);
              all[which].push(...result.samples);
              roundP99[which].push(latency(result.samples).p99);
              peaks[which] = Math.max(peaks[which], result.peak);
              missing[which] += result.expected - result.samples.length;
            }
          }
          const figure = (which: Side): Latency => ({ ...latency(all[which]), p99: round(median(roundP99[which]), 3) });
          const lat = { ours: figure("ours"), hocuspocus: figure("hocuspocus"), bare: figure("bare") };
          const oursSide = { name: "ours", value: lat.ours.p99, latency: lat.ours, peakRssMiB: mib(peaks.ours), rounds: roundP99.ours };
          const caseName = `${c.label}: propagation p99, median of ${ROUNDS} rounds (${round((c.updates / c.durationS) * (c.perRoom - 1), 0)} deliveries/s)`;
          for (const peer of ["hocuspocus", "bare"] as const) {
            rows.push(
              row(NAME, `${caseName} vs ${peer === "hocuspocus" ? "Hocuspocus (stores)" : "bare (stores nothing)"}`, "p99", "ms", false, oursSide, {
                name: PEERS[peer],
                value: lat[peer].p99,
                latency: lat[peer],
                peakRssMiB: mib(peaks[peer]),
                rounds: roundP99[peer],
              }),
            );
          }
          const peerMissing = missing.hocuspocus + missing.bare;
          if (peerMissing) notes.push(`${c.label}: the peers missed deliveries (Hocuspocus ${missing.hocuspocus}, bare ${missing.bare})`);
          goals.push({
            scenario: NAME,
            goal: `${c.label}: p99 < 30 ms and ≤ 1.2× Hocuspocus (database extension)`,
            measured:
              `p99 ${lat.ours.p99} ms (rounds ${roundP99.ours.join(" / ")}) vs Hocuspocus ${lat.hocuspocus.p99} ms (rounds ${roundP99.hocuspocus.join(" / ")}) ` +
              `(${round(lat.ours.p99 / lat.hocuspocus.p99, 2)}×); bare ${lat.bare.p99} ms (${round(lat.ours.p99 / lat.bare.p99, 2)}×)` +
              `${missing.ours ? `; ${missing.ours} deliveries missing` : ""}`,
            pass: lat.ours.p99 < 30 && lat.ours.p99 <= 1.2 * lat.hocuspocus.p99 && missing.ours === 0,
          });
        } finally {
          for (const rooms of Object.values(connected)) rooms.close();
        }
      }
      return { name: NAME, title: this.title, rows, goals, notes };
    } finally {
      await hocuspocus.stop();
      await bare.stop();
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
    }
  },
};
