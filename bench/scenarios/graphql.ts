/**
 * 4. GraphQL `workflow(id)` query: ours (the full server: Hono, auth with a bearer token, rate limit,
 * graphql-armor, Pothos, Prisma) vs bare graphql-yoga on node:http with an equivalent resolver reading the
 * same row with `pg`. autocannon, closed loop for throughput; then both at half our throughput for p95.
 */
import { alternate, log } from "../lib/alternate.js";
import { createWorkflow, gql, signUp } from "../lib/api.js";
import { config, seconds } from "../lib/config.js";
import { load, type LoadResult } from "../lib/load.js";
import { startOurs, withCountedOurs } from "../lib/ours.js";
import { cpuMs, machineLoad, meterSelf, sampleRss, startChild } from "../lib/proc.js";
import { layerShares, type Layer } from "../lib/profile.js";
import { median, round } from "../lib/stats.js";
import { mib, row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { webhookDefinition } from "./webhook.js";

const NAME = "graphql";
const QUERY = `query Workflow($id: ID!) { workflow(id: $id) { id workspaceId name description definition latestVersion createdAt updatedAt } }`;
const CONNECTIONS = 10;
const ourFile = (file: string) => new RegExp(`/(${file})\\.ts$`);
/** The layers of one `workflow(id)` request, highest rank first: a sample counts for the first layer on its stack. */
const LAYERS: Layer[] = [
  { name: "rate limit (Redis script)", match: ourFile("packages/platform/src/rate-limit") },
  { name: "auth: token + session/revocation", match: /\/(packages\/platform\/src\/auth|server\/auth)\.ts$|node_modules\/jose\// },
  { name: "role check", match: ourFile("packages/platform/src/access") },
  { name: "armor + cost analysis", match: /node_modules\/@escape\.tech\/|\/server\/graphql\/cost\.ts$/ },
  { name: "PostgreSQL (pg, Prisma)", match: /node_modules\/(pg|pg-protocol|pg-pool|@prisma\/[^/]+)\/|\/packages\/platform\/src\/(db|sql)\.ts$|^wasm:/ },
  { name: "other Redis (ioredis)", match: /node_modules\/ioredis\// },
  { name: "telemetry (spans, metrics)", match: /node_modules\/(prom-client|@opentelemetry\/[^/]+)\/|\/packages\/platform\/src\/(telemetry|metrics|logger)\.ts$/ },
  { name: "Pothos + our resolvers", match: /node_modules\/@pothos\/|\/server\/graphql\/(types\/|viewer|request-reads|connection)/ },
  { name: "GraphQL parse + validate", match: /node_modules\/graphql\/(language|validation)\// },
  { name: "GraphQL execute", match: /node_modules\/graphql\/(execution|type|jsutils|utilities)\// },
  { name: "Yoga + envelop (request, result, JSON)", match: /node_modules\/(graphql-yoga|@graphql-yoga\/[^/]+|@envelop\/[^/]+|@whatwg-node\/[^/]+|@graphql-tools\/[^/]+)\/|\/server\/graphql\/(yoga|http-status|schema)\.ts$/ },
  { name: "HTTP: Hono, node-server, headers, compression, response write", match: /node_modules\/(hono|@hono\/[^/]+)\/|\/server\/(app|http|limits|security-headers|compression|origins|errors|context|deps)\.ts$|^node:(_http|http|net|stream|zlib|internal\/(http|streams|stream_base))/ },
];

export const graphqlScenario: Scenario = {
  name: NAME,
  title: "GraphQL workflow(id) query throughput and p95 at half load",
  async run(): Promise<ScenarioResult> {
    const ours = await startOurs(NAME);
    const bare = await startChild("bare-yoga", "bare-yoga.ts", { DATABASE_URL: config.databaseUrl });
    const notes: string[] = [];
    try {
      const user = await signUp(ours.info.url);
      const workflow = await createWorkflow(ours.info.url, user, webhookDefinition);
      const body = JSON.stringify({ query: QUERY, variables: { id: workflow.id }, operationName: "Workflow" });
      const oursData = await gql(ours.info.url, QUERY, { id: workflow.id }, user.token);
      const bareResponse = await fetch(`${bare.info.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const bareData = ((await bareResponse.json()) as { data: unknown }).data;
      if (JSON.stringify(oursData) !== JSON.stringify(bareData)) notes.push(`answers differ: ours ${JSON.stringify(oursData).slice(0, 200)} / bare ${JSON.stringify(bareData).slice(0, 200)}`);
      const hit = (url: string, headers: Record<string, string>, durationS: number, rate?: number) =>
        load({ url: `${url}/graphql`, method: "POST", headers: { "content-type": "application/json", ...headers }, body, connections: CONNECTIONS, durationS, rate });
      const oursHit = (durationS: number, rate?: number) => hit(ours.info.url, { authorization: `Bearer ${user.token}` }, durationS, rate);
      const bareHit = (durationS: number, rate?: number) => hit(bare.info.url, {}, durationS, rate);
      const describe = (r: LoadResult) => `${round(r.rps, 0)} req/s, p50 ${r.latency.p50} p95 ${r.latency.p95} p99 ${r.latency.p99} ms, ${r.requests - r.ok} not 2xx`;

      await oursHit(seconds(2));
      await bareHit(seconds(2));
      const rss = { ours: [] as number[], bare: [] as number[] };
      /** CPU of each side's process per answered request, over the measured closed-loop rounds. */
      const cpuPerRequest = { ours: [] as number[], bare: [] as number[] };
      /** The load generator (autocannon, in the bench process) shares the 2 cores: its share of a core during each side's closed rounds. */
      const generator = { ours: [] as number[], bare: [] as number[] };
      const measure = (which: "ours" | "bare", pid: number, go: () => Promise<LoadResult>, cpu?: number[]) => async () => {
        const sampler = sampleRss([pid]);
        const cpuBefore = cpuMs(pid);
        const self = meterSelf();
        const result = await go();
        const generatorShare = self.stop().cpuShare;
        if (cpu && result.ok) {
          cpu.push((cpuMs(pid) - cpuBefore) / result.ok);
          generator[which].push(generatorShare);
        }
        rss[which].push(sampler.stop());
        log(NAME, `${which}: ${describe(result)}`);
        return result;
      };
      const closed = await alternate(
        2,
        measure("ours", ours.pid, () => ours.profile(() => oursHit(seconds(5))), cpuPerRequest.ours),
        measure("bare", bare.pid, () => bareHit(seconds(5)), cpuPerRequest.bare),
      );
      // Where a request's CPU goes, layer by layer: a profiled round of its own (sampling slows it a little, so it is not a measured round).
      let profileFile = "";
      await ours.profile(() => oursHit(seconds(3)), "layers", { force: true, onFile: (file) => (profileFile = file) });
      const layers = profileFile ? layerShares(profileFile, LAYERS) : null;
      const oursRps = median(closed.ours.map((r) => r.rps));
      const bareRps = median(closed.peer.map((r) => r.rps));
      const half = Math.max(10, Math.round(oursRps / 2));
      log(NAME, `half load: ${half} req/s for both`);
      const open = await alternate(1, measure("ours", ours.pid, () => oursHit(seconds(6), half)), measure("bare", bare.pid, () => bareHit(seconds(6), half)));
      const oursHalf = open.ours[0]!;
      const bareHalf = open.peer[0]!;
      const cpu = { ours: median(cpuPerRequest.ours), bare: median(cpuPerRequest.bare) };
      const perLayer = layers
        ? layers.shares.filter((l) => l.share >= 0.01).map((l) => `${l.name} ${round(l.share * cpu.ours, 2)} ms (${round(l.share * 100, 0)}%)`).join(", ")
        : "no profile";
      const limit =
        `CPU per request ${round(cpu.ours, 2)} ms in our process vs ${round(cpu.bare, 2)} ms in bare Yoga's (process CPU over the measured rounds / answered requests; ` +
        `one core caps ours near ${round(1000 / cpu.ours, 0)} req/s, bare near ${round(1000 / cpu.bare, 0)}); where ours goes (CPU profile of a round of its own, our process ${layers ? round(layers.busy * 100, 0) : "–"}% busy): ${perLayer}; ` +
        `load generator ${round(median(generator.ours) * 100, 0)}% of a core during ours (${round(median(generator.bare) * 100, 0)}% during bare), ${machineLoad()}`;
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
      notes.push(
        await withCountedOurs(async (url, counts) => {
          const headers = { "content-type": "application/json", authorization: `Bearer ${user.token}` };
          await fetch(`${url}/graphql`, { method: "POST", headers, body });
          const before = { ...counts };
          for (let i = 0; i < 50; i++) await (await fetch(`${url}/graphql`, { method: "POST", headers, body })).text();
          return `PostgreSQL per workflow(id) request (counting proxy, 50 sequential requests): ours ${round((counts.statements - before.statements) / 50, 2)} statements / ${round((counts.roundTrips - before.roundTrips) / 50, 2)} round trips; bare yoga 1 / 1`;
        }),
      );
      const errors = [...closed.ours, ...open.ours].reduce((sum, r) => sum + r.requests - r.ok, 0);
      return {
        name: NAME,
        title: this.title,
        rows: [
          row(
            NAME,
            `throughput (${CONNECTIONS} connections)`,
            "req/s",
            "req/s",
            true,
            { name: "ours", value: round(oursRps, 0), latency: closed.ours[1]!.latency, peakRssMiB: mib(Math.max(...rss.ours)), rounds: closed.ours.map((r) => round(r.rps, 0)) },
            { name: "bare graphql-yoga + pg", value: round(bareRps, 0), latency: closed.peer[1]!.latency, peakRssMiB: mib(Math.max(...rss.bare)), rounds: closed.peer.map((r) => round(r.rps, 0)) },
          ),
          row(
            NAME,
            `p95 at half our throughput (${half} req/s, open loop)`,
            "p95",
            "ms",
            false,
            { name: "ours", value: oursHalf.latency.p95, latency: oursHalf.latency },
            { name: "bare graphql-yoga + pg", value: bareHalf.latency.p95, latency: bareHalf.latency },
          ),
        ],
        goals: [
          {
            scenario: NAME,
            goal: "≥ 0.8× bare graphql-yoga throughput",
            measured: `${round(oursRps / bareRps, 2)}× (${round(oursRps, 0)} vs ${round(bareRps, 0)} req/s)${errors ? `; ${errors} not 2xx` : ""}`,
            pass: oursRps >= 0.8 * bareRps && errors === 0,
            limit,
          },
          {
            scenario: NAME,
            goal: "p95 < 5 ms at half load",
            measured: `p95 ${oursHalf.latency.p95} ms at ${half} req/s (bare ${bareHalf.latency.p95} ms at the same rate)`,
            pass: oursHalf.latency.p95 < 5,
            limit: `the same per-request CPU queues at half load: ${round(half * cpu.ours / 10, 0)}% of a core busy with requests (bare ${round(half * cpu.bare / 10, 0)}%); ${limit}`,
          },
        ],
        notes,
      };
    } finally {
      await bare.stop();
      await ours.stop();
      for (const file of new Set(ours.profiled)) notes.push(`CPU profile of ours during the measured rounds: ${file}`);
      ours.profiled = [];
    }
  },
};
