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
import { sampleRss, startChild } from "../lib/proc.js";
import { median, round } from "../lib/stats.js";
import { mib, row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { webhookDefinition } from "./webhook.js";

const NAME = "graphql";
const QUERY = `query Workflow($id: ID!) { workflow(id: $id) { id workspaceId name description definition latestVersion createdAt updatedAt } }`;
const CONNECTIONS = 10;

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
      const measure = (which: "ours" | "bare", pid: number, go: () => Promise<LoadResult>) => async () => {
        const sampler = sampleRss([pid]);
        const result = await go();
        rss[which].push(sampler.stop());
        log(NAME, `${which}: ${describe(result)}`);
        return result;
      };
      const closed = await alternate(2, measure("ours", ours.pid, () => ours.profile(() => oursHit(seconds(5)))), measure("bare", bare.pid, () => bareHit(seconds(5))));
      const oursRps = median(closed.ours.map((r) => r.rps));
      const bareRps = median(closed.peer.map((r) => r.rps));
      const half = Math.max(10, Math.round(oursRps / 2));
      log(NAME, `half load: ${half} req/s for both`);
      const open = await alternate(1, measure("ours", ours.pid, () => oursHit(seconds(6), half)), measure("bare", bare.pid, () => bareHit(seconds(6), half)));
      const oursHalf = open.ours[0]!;
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
      const bareHalf = open.peer[0]!;
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
          },
          { scenario: NAME, goal: "p95 < 5 ms at half load", measured: `p95 ${oursHalf.latency.p95} ms at ${half} req/s`, pass: oursHalf.latency.p95 < 5 },
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
