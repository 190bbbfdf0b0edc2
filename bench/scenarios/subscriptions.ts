/**
 * 5. Run-event subscriptions: 5,000 graphql-ws subscribers (one socket each) to `runEvents` of 50 live runs
 * (100 per run), vs a raw `ws` broadcast fed from the same Redis channels. The bench publishes run events
 * on `<prefix>run-events:<runId>` — exactly where the worker publishes them — stamped with the send time;
 * delivery latency is publish → parsed by the subscriber (same process, same clock). Rounds alternate.
 */
import { Redis } from "ioredis";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { log } from "../lib/alternate.js";
import { createWorkflow, edge, gql, signUp, step } from "../lib/api.js";
import { config, seconds } from "../lib/config.js";
import { startOurs } from "../lib/ours.js";
import { eventLoopLag, tryScrape } from "../lib/metrics.js";
import { cpuMs, machineLoad, meterSelf, sampleRss, startChild, treeRss } from "../lib/proc.js";
import { layerShares, type Layer } from "../lib/profile.js";
import { latency, median, pool, round, roundSpread, sleep } from "../lib/stats.js";
import { mib, row, type Scenario, type ScenarioResult } from "../lib/types.js";

const NAME = "subscriptions";
/** Short rounds, many of them: the figure is the median of the rounds' p99s (one burst of machine noise does not decide it). */
const ROUNDS = 4;
const SUBSCRIBERS = 5000;
const RUNS = 50;
const SUBSCRIPTION = `subscription($id: ID!) { runEvents(runId: $id) { seq type status stepId at output } }`;
/** Where the server's CPU goes per event, highest rank first: a sample counts for the first layer on its stack. */
const LAYERS: Layer[] = [
  { name: "WebSocket frames (ws send)", match: /node_modules\/ws\/|^node:(net|stream|buffer|internal\/(stream_base_commons|streams\/|net))/ },
  { name: "Redis message in, parsed per subscriber (ioredis, run-events)", match: /node_modules\/ioredis\/|\/packages\/platform\/src\/(run-events|redis)\.ts$/ },
  { name: "telemetry", match: /node_modules\/(prom-client|@opentelemetry\/[^/]+)\/|\/packages\/platform\/src\/(telemetry|metrics|logger)\.ts$/ },
  { name: "graphql-ws per-subscriber message (JSON)", match: /node_modules\/graphql-ws\/|\/server\/graphql\/ws\.ts$/ },
  { name: "shared result lookup (key per subscriber)", match: /\/server\/graphql\/shared-events\.ts$/ },
  { name: "GraphQL execution (shared per event)", match: /node_modules\/graphql\/|node_modules\/@pothos\/|\/server\/graphql\/types\// },
  { name: "Yoga + envelop", match: /node_modules\/(graphql-yoga|@graphql-yoga\/[^/]+|@envelop\/[^/]+|@whatwg-node\/[^/]+|@graphql-tools\/[^/]+)\// },
];

/** RSS of a process once it has been quiet for a moment (what idle connections hold, not a burst's garbage). */
async function settledRss(pid: number): Promise<number> {
  await sleep(1_500);
  return treeRss(pid);
}

/** Every delivery lands here: (event index) → send time, and the latency samples of the current round. */
class Deliveries {
  sent = new Map<number, number>();
  samples: number[] = [];
  /** Per event of the current round: when its first and its last subscriber got it (the fan-out). */
  first = new Map<number, number>();
  last = new Map<number, number>();
  receive(output: unknown) {
    const index = (output as { bench?: number } | null)?.bench;
    if (typeof index !== "number") return;
    const at = this.sent.get(index);
    if (at === undefined) return;
    const now = performance.now();
    this.samples.push(now - at);
    if (!this.first.has(index)) this.first.set(index, now - at);
    this.last.set(index, now - at);
  }
  /** Publish → first subscriber (p99) and first → last subscriber of each event (median, p99), this round. */
  fanOut(): { firstP99: number; spreadMedian: number; spreadP99: number } {
    const spreads = [...this.first].map(([index, first]) => this.last.get(index)! - first);
    return { firstP99: latency([...this.first.values()]).p99, spreadMedian: round(median(spreads), 2), spreadP99: latency(spreads).p99 };
  }
}

export const subscriptions: Scenario = {
  name: NAME,
  /** Three servers (yjs) or 10,000 sockets to connect (subscriptions): more than the default 6 minutes on a busy machine. */
  timeoutMs: 9 * 60_000,
  title: "run-event subscriptions: 5,000 subscribers, delivery latency and memory per idle subscriber",
  async run(): Promise<ScenarioResult> {
    const ours = await startOurs(NAME);
    const raw = await startChild("raw-ws-broadcast", "raw-ws-broadcast.ts", { REDIS_URL: config.redisUrl, REDIS_PREFIX: config.redisPrefix });
    const notes: string[] = [];
    const publisher = new Redis(config.redisUrl);
    const deliveries = new Deliveries();
    const clients: Client[] = [];
    const sockets: WebSocket[] = [];
    try {
      const user = await signUp(ours.info.url);
      // Live runs that stay open: a manual trigger, then a one-hour delay (the run waits, holding no worker slot).
      const workflow = await createWorkflow(ours.info.url, user, {
        name: "bench subscriptions",
        steps: [step("start", "trigger.manual"), step("wait", "delay", { durationMs: 3_600_000 }, 200)],
        edges: [edge("start", "wait")],
      });
      const runs: { id: string; workflowId: string }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const data = await gql(ours.info.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflow.id, input: {} } }, user.token);
        runs.push({ id: data.startRun.id, workflowId: workflow.id });
      }
      await sleep(1500); // let the runs reach their delay (their own events are stored by then)

      // Ours: 5,000 graphql-ws clients, each on its own socket; live once the replayed history has arrived.
      const wsUrl = ours.info.url.replace(/^http/, "ws") + "/graphql";
      const idleBefore = { ours: await ours.collectedRss(), peer: await settledRss(raw.pid) };
      let connected = performance.now();
      await pool(Array.from({ length: SUBSCRIBERS }, (_, i) => i), 50, async (i) => {
        const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { token: user.token }, retryAttempts: 0, lazy: false });
        clients.push(client);
        await new Promise<void>((resolve, reject) => {
          let first = true;
          client.subscribe<{ runEvents: { output: unknown } }>(
            { query: SUBSCRIPTION, variables: { id: runs[i % RUNS]!.id } },
            {
              next: (message) => {
                if (first) (first = false), resolve();
                deliveries.receive(message.data?.runEvents.output);
              },
              error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
              complete: () => {},
            },
          );
        });
      });
      log(NAME, `${SUBSCRIBERS} graphql-ws subscribers live in ${round((performance.now() - connected) / 1000, 1)} s`);

      // Peer: 5,000 raw sockets on 50 channels of their own (so rounds can alternate).
      const peerRuns = Array.from({ length: RUNS }, (_, i) => `peer-${config.runId}-${i}`);
      connected = performance.now();
      await pool(Array.from({ length: SUBSCRIBERS }, (_, i) => i), 50, async (i) => {
        const socket = new WebSocket(`${raw.info.url.replace(/^http/, "ws")}/events?runId=${peerRuns[i % RUNS]}`);
        sockets.push(socket);
        socket.on("error", () => {}); // after connecting, a reset is seen as missing deliveries
        await new Promise<void>((resolve, reject) => {
          socket.once("error", reject);
          socket.on("message", (data: Buffer) => {
            const message = JSON.parse(data.toString()) as { subscribed?: string; output?: unknown };
            if (message.subscribed) resolve();
            else deliveries.receive(message.output);
          });
        });
      });
      log(NAME, `${SUBSCRIBERS} raw ws subscribers live in ${round((performance.now() - connected) / 1000, 1)} s`);
      const perSubscriber = {
        ours: ((await ours.collectedRss()) - idleBefore.ours) / SUBSCRIBERS / 1024,
        peer: ((await settledRss(raw.pid)) - idleBefore.peer) / SUBSCRIBERS / 1024,
      };
      log(NAME, `memory per idle subscriber: ours ${round(perSubscriber.ours, 1)} KiB, raw ws ${round(perSubscriber.peer, 1)} KiB (RSS growth / ${SUBSCRIBERS})`);

      let index = 0;
      let seq = 1_000_000;
      /** `events` events, round-robin over the runs, evenly over `durationMs`; each reaches 100 subscribers. */
      const publish = async (targets: { id: string; workflowId: string }[], events: number, durationMs: number) => {
        deliveries.samples = [];
        deliveries.first.clear();
        deliveries.last.clear();
        const interval = durationMs / events;
        const started = performance.now();
        for (let i = 0; i < events; i++) {
          const due = started + i * interval;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          const target = targets[i % targets.length]!;
          const bench = index++;
          const event = { seq: seq++, type: "step.chunk", runId: target.id, workflowId: target.workflowId, stepId: "wait", status: "running", at: new Date().toISOString(), output: { bench } };
          deliveries.sent.set(bench, performance.now());
          await publisher.publish(`${config.redisPrefix}run-events:${target.id}`, JSON.stringify(event));
        }
        const expected = events * (SUBSCRIBERS / RUNS);
        const deadline = performance.now() + 5_000;
        while (deliveries.samples.length < expected && performance.now() < deadline) await sleep(20);
        return { samples: deliveries.samples, expected };
      };

      const events = Math.max(20, Math.round(100 * config.scale));
      const durationMs = seconds(2.5) * 1000;
      await publish(runs, 20, 1000);
      await publish(peerRuns.map((id) => ({ id, workflowId: "peer" })), 20, 1000);
      const all = { ours: [] as number[], peer: [] as number[] };
      const roundP99 = { ours: [] as number[], peer: [] as number[] };
      const peaks = { ours: 0, peer: 0 };
      let missing = 0;
      /** Per round: CPU (ms) per delivery of each server, the load generator's share of a core, our fan-out and event-loop delay. */
      const cpu = { ours: [] as number[], peer: [] as number[] };
      const generator = { ours: [] as number[], peer: [] as number[] };
      const fanOut: ReturnType<Deliveries["fanOut"]>[] = [];
      const lagP99: number[] = [];
      const metered = async <T extends { samples: number[] }>(which: "ours" | "peer", pid: number, work: () => Promise<T>) => {
        const cpuBefore = cpuMs(pid);
        const self = meterSelf();
        const result = await work();
        generator[which].push(self.stop().cpuShare);
        if (result.samples.length) cpu[which].push((cpuMs(pid) - cpuBefore) / result.samples.length);
        return result;
      };
      for (let r = 0; r < ROUNDS; r++) {
        let sampler = sampleRss([ours.pid]);
        await tryScrape(ours.info.url); // resets the event-loop delay histogram
        const a = await metered("ours", ours.pid, () => ours.profile(() => publish(runs, events, durationMs), `round${r + 1}`));
        const lag = eventLoopLag(await tryScrape(ours.info.url));
        if (lag) lagP99.push(round(lag.p99, 1));
        fanOut.push(deliveries.fanOut());
        peaks.ours = Math.max(peaks.ours, sampler.stop());
        all.ours.push(...a.samples);
        roundP99.ours.push(latency(a.samples).p99);
        missing += a.expected - a.samples.length;
        log(NAME, `ours: ${a.samples.length}/${a.expected} deliveries, p99 ${latency(a.samples).p99} ms`);
        sampler = sampleRss([raw.pid]);
        const b = await metered("peer", raw.pid, () => publish(peerRuns.map((id) => ({ id, workflowId: "peer" })), events, durationMs));
        peaks.peer = Math.max(peaks.peer, sampler.stop());
        all.peer.push(...b.samples);
        roundP99.peer.push(latency(b.samples).p99);
        log(NAME, `raw ws: ${b.samples.length}/${b.expected} deliveries, p99 ${latency(b.samples).p99} ms`);
      }
      const oursLat = { ...latency(all.ours), p99: round(median(roundP99.ours), 3) };
      const peerLat = { ...latency(all.peer), p99: round(median(roundP99.peer), 3) };
      // Where the server's CPU goes: a profiled round of its own, after the measured ones (sampling slows it a little).
      let profileFile = "";
      await ours.profile(() => publish(runs, events, durationMs), "layers", { force: true, onFile: (file) => (profileFile = file) });
      const layers = profileFile ? layerShares(profileFile, LAYERS) : null;
      const perDelivery = { ours: median(cpu.ours), peer: median(cpu.peer) };
      const deliveriesPerS = (events / (durationMs / 1000)) * (SUBSCRIBERS / RUNS);
      const firstP99 = median(fanOut.map((f) => f.firstP99));
      const spreadP99 = median(fanOut.map((f) => f.spreadP99));
      const where =
        firstP99 > spreadP99
          ? `the wait before an event's first delivery (p99 ${fanOut.map((f) => round(f.firstP99, 1)).join(" / ")} ms per round) outweighs its fan-out to ${SUBSCRIBERS / RUNS} subscribers (first → last p99 ${fanOut.map((f) => round(f.spreadP99, 1)).join(" / ")}, median ${fanOut.map((f) => f.spreadMedian).join(" / ")})`
          : `the fan-out to an event's ${SUBSCRIBERS / RUNS} subscribers (first → last p99 ${fanOut.map((f) => round(f.spreadP99, 1)).join(" / ")} ms per round, median ${fanOut.map((f) => f.spreadMedian).join(" / ")}) outweighs the wait before its first delivery (p99 ${fanOut.map((f) => round(f.firstP99, 1)).join(" / ")})`;
      const limit =
        `${where}; the server spends ${round(perDelivery.ours, 3)} ms CPU per delivery vs raw ws ${round(perDelivery.peer, 3)} (${round(perDelivery.ours / perDelivery.peer, 1)}×: ${round((perDelivery.ours * deliveriesPerS) / 10, 0)}% vs ${round((perDelivery.peer * deliveriesPerS) / 10, 0)}% of a core at ${round(deliveriesPerS, 0)} deliveries/s), ` +
        `profile with one shared execution per event and a message per subscriber: ${layers ? layers.shares.filter((l) => l.share >= 0.05).map((l) => `${l.name} ${round(l.share * 100, 0)}%`).join(", ") : "no profile"}. ` +
        `Server event-loop delay p99 ${lagP99.join(" / ")} ms per round, load generator ${round(median(generator.ours) * 100, 0)}% of a core (${round(median(generator.peer) * 100, 0)}% for raw ws; ${2 * SUBSCRIBERS} sockets in the bench process), ${machineLoad()}; ` +
        `rounds ${roundSpread(roundP99.ours)}`;
      return {
        name: NAME,
        title: this.title,
        rows: [
          row(
            NAME,
            `${SUBSCRIBERS} subscribers: delivery p99, median of ${ROUNDS} rounds (${round((events / (durationMs / 1000)) * (SUBSCRIBERS / RUNS), 0)} deliveries/s)`,
            "p99",
            "ms",
            false,
            { name: "ours", value: oursLat.p99, latency: oursLat, peakRssMiB: mib(peaks.ours), rounds: roundP99.ours },
            { name: "raw ws broadcast", value: peerLat.p99, latency: peerLat, peakRssMiB: mib(peaks.peer), rounds: roundP99.peer },
          ),
          row(
            NAME,
            `memory per idle subscriber (RSS growth over ${SUBSCRIBERS} sockets, server process)`,
            "KiB/subscriber",
            "KiB",
            false,
            { name: "ours", value: round(perSubscriber.ours, 1) },
            { name: "raw ws broadcast", value: round(perSubscriber.peer, 1) },
          ),
        ],
        goals: [
          {
            scenario: NAME,
            goal: "delivery p99 < 100 ms with 5,000 subscribers",
            measured: `p99 ${oursLat.p99} ms, rounds ${roundP99.ours.join(" / ")} (raw ws ${peerLat.p99} ms, ${round(oursLat.p99 / peerLat.p99, 2)}×)${missing ? `; ${missing} deliveries missing` : ""}`,
            pass: oursLat.p99 < 100 && missing === 0,
            limit,
          },
        ],
        notes,
      };
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
      for (const socket of sockets) socket.terminate();
      publisher.disconnect();
      await raw.stop();
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
    }
  },
};
