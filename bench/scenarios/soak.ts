/**
 * 7. Soak: 1,000 simulated studio users on one box for BENCH_SOAK_SECONDS (default 120; `--soak-seconds=N`),
 * against the production layout — server/main.ts, collab/main.ts and worker/main.ts, one process each. Every
 * user has a collab socket (the stock y-websocket provider) on one of 100 workflows and a `workflowRuns`
 * subscription (graphql-ws) on it; 50 of them edit (one per workflow, 1 edit/s each); 200 API requests/s
 * (open loop: workflow(id), workflows, runs); 30 runs/s started (manual trigger → two transforms).
 * Reports API p95/p99, edit propagation p99, run duration (average, p99, from the Run rows), errors, peak RSS
 * per process, memory per idle connection and per loaded room, and whether memory stayed flat over the last
 * minute. Latency is measured from each request's scheduled time, so a stalled server cannot hide its queue.
 */
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { log } from "../lib/alternate.js";
import { createWorkflow, edge, gql, step } from "../lib/api.js";
import { config, oursEnv } from "../lib/config.js";
import { answers200, freePort, startEntryPoint, treeRss } from "../lib/proc.js";
import { latency, pool, round, sleep } from "../lib/stats.js";
import { mib, type Goal, type Row, type Scenario, type ScenarioResult } from "../lib/types.js";
import { connectRooms, type Rooms } from "../lib/yclients.js";

const NAME = "soak";
const USERS = 1000;
const WORKFLOWS = 100;
const EDITORS = 50;
const EDITS_PER_S = 1; // per editor
const API_PER_S = 200;
const RUNS_PER_S = 30;
const ACCOUNTS = 10;
const KIB = 1024;
type EntryPoint = Awaited<ReturnType<typeof startEntryPoint>>;

const runDefinition = (index: number) => ({
  name: `soak ${index}`,
  steps: [
    step("start", "trigger.manual", {}, 0),
    step("shape", "transform", { expression: `{ "value": 21 * 2 }` }, 200),
    step("answer", "transform", { expression: `{ "result": steps.shape.output.value }` }, 400),
  ],
  edges: [edge("start", "shape"), edge("shape", "answer")],
});

interface Account {
  token: string;
  email: string;
}

async function account(url: string, index: number): Promise<Account> {
  const email = `soak-${config.runId}-${index}@example.test`;
  const data = await gql(url, `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email, password: "correct horse battery", name: `Soak ${index}` } });
  return { token: data.signUp.token, email };
}

/** RSS of a process after a moment of quiet and a full garbage collection (what connections hold, not a burst's garbage). */
async function settled(child: EntryPoint): Promise<number> {
  await sleep(1_000);
  await child.collectGarbage();
  await sleep(500);
  return treeRss(child.pid);
}

/** Least-squares slope of (seconds, bytes) samples, in bytes per minute. */
function growthPerMinute(samples: { t: number; rss: number }[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mr = samples.reduce((s, x) => s + x.rss, 0) / n;
  const num = samples.reduce((s, x) => s + (x.t - mt) * (x.rss - mr), 0);
  const den = samples.reduce((s, x) => s + (x.t - mt) ** 2, 0);
  return den ? (num / den) * 60 : 0;
}

export const soak: Scenario = {
  name: NAME,
  title: `soak: ${USERS} studio users (collab socket + run subscription each), ${EDITORS} editing, ${API_PER_S} API req/s, ${RUNS_PER_S} runs/s`,
  timeoutMs: (config.soakSeconds + 300) * 1000,
  async run(): Promise<ScenarioResult> {
    const notes: string[] = [];
    const [port, collabPort] = [await freePort(), await freePort()];
    const env = oursEnv({ PORT: String(port), COLLAB_PORT: String(collabPort) });
    const url = `http://127.0.0.1:${port}`;
    const processes: EntryPoint[] = [];
    const subscribers: Client[] = [];
    let rooms: Rooms | null = null;
    const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    try {
      processes.push(await startEntryPoint("server", "server/main.ts", env, () => answers200(`${url}/healthz`)));
      processes.push(await startEntryPoint("collab", "collab/main.ts", env, () => answers200(`http://127.0.0.1:${collabPort}/healthz`)));
      processes.push(await startEntryPoint("worker", "worker/main.ts", env, async () => true));
      const [server, collab, worker] = processes as [EntryPoint, EntryPoint, EntryPoint];
      // A process that dies during the soak is an error of its own (and explains the others).
      const exits: string[] = [];
      for (const child of processes) child.process.once("exit", (code, signal) => exits.push(`${child.name} exited (${code ?? signal})`));
      process.setMaxListeners(Math.max(process.getMaxListeners(), USERS * 2 + 50)); // y-websocket adds an exit listener per provider

      // Accounts: one owner and nine editors of its workspace; each user speaks with one of their tokens.
      const owner = await account(url, 0);
      const workspaceId: string = (await gql(url, `{ me { workspaces { id } } }`, {}, owner.token)).me.workspaces[0].id;
      const accounts = [owner];
      for (let i = 1; i < ACCOUNTS; i++) {
        const member = await account(url, i);
        await gql(url, `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role } }`, { input: { workspaceId, email: member.email, role: "editor" } }, owner.token);
        accounts.push(member);
      }
      const workflows = await pool(Array.from({ length: WORKFLOWS }, (_, i) => i), 8, async (i) => (await createWorkflow(url, { token: owner.token, workspaceId }, runDefinition(i))).id);
      log(NAME, `${ACCOUNTS} accounts, ${WORKFLOWS} workflows`);

      // Warm-up run: the worker is up once a run finishes.
      const warm = await gql(url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflows[0] } }, owner.token);
      const warmDeadline = performance.now() + 60_000;
      for (;;) {
        const status = (await gql(url, `query($id: ID!) { run(id: $id) { status } }`, { id: warm.startRun.id }, owner.token)).run.status;
        if (status === "succeeded") break;
        if (performance.now() > warmDeadline || status === "failed") throw new Error(`the warm-up run ended ${status}`);
        await sleep(200);
      }

      // Memory per loaded room and per idle socket (collab), per idle subscriber (server): RSS growth.
      const collabBase = `ws://127.0.0.1:${collabPort}/collab`;
      const perRoom = USERS / WORKFLOWS;
      const idle = { collab: await settled(collab), server: await settled(server) };
      const openers = await connectRooms(collabBase, workflows, 1, owner.token);
      const withRooms = await settled(collab);
      const rest = await Promise.all(
        Array.from({ length: perRoom - 1 }, async (_, k) => connectRooms(collabBase, workflows, 1, accounts[(k + 1) % ACCOUNTS]!.token, 10)),
      );
      rooms = {
        clients: workflows.map((_, w) => [openers.clients[w]![0]!, ...rest.map((r) => r.clients[w]![0]!)]),
        close() {
          openers.close();
          for (const r of rest) r.close();
        },
      };
      const withSockets = await settled(collab);
      const memory = {
        perRoomKiB: (withRooms - idle.collab) / WORKFLOWS / KIB,
        perSocketKiB: (withSockets - withRooms) / (USERS - WORKFLOWS) / KIB,
        perSubscriberKiB: 0,
      };
      log(NAME, `${USERS} collab sockets on ${WORKFLOWS} rooms: ${round(memory.perRoomKiB, 1)} KiB per loaded room (with its first socket), ${round(memory.perSocketKiB, 1)} KiB per further idle socket`);

      // Run subscriptions: one per user, on their workflow.
      const errors = { api: 0, runs: 0, subscriptions: 0, collab: 0 };
      /** The first message of each kind of error, for the notes. */
      const errorSamples = new Map<string, string>();
      const noteError = (what: string) => {
        const kind = what.split(" ")[0]!;
        if (!errorSamples.has(kind)) errorSamples.set(kind, what.slice(0, 240));
      };
      const describeError = (error: unknown) =>
        error instanceof Error ? `${error.message}${error.cause ? ` (${(error.cause as Error).message ?? String(error.cause)})` : ""}` : JSON.stringify(error);
      let runEvents = 0;
      await pool(Array.from({ length: USERS }, (_, i) => i), 20, async (i) => {
        const client = createClient({ url: `${url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { token: accounts[i % ACCOUNTS]!.token }, retryAttempts: 0, lazy: false });
        subscribers.push(client);
        await new Promise<void>((resolve, reject) => {
          client.on("connected", () => resolve());
          client.on("closed", (event) => reject(new Error(`subscriber ${i} closed while connecting: ${(event as { code?: number }).code} ${(event as { reason?: string }).reason}`)));
          client.on("error", () => reject(new Error(`subscriber ${i} could not connect`)));
          client.subscribe(
            { query: `subscription($id: ID!) { workflowRuns(workflowId: $id) { seq type runId } }`, variables: { id: workflows[i % WORKFLOWS] } },
            {
              next: (message) => {
                if (message.errors) (errors.subscriptions++, noteError(`subscription: ${JSON.stringify(message.errors)}`));
                else runEvents++;
              },
              error: (error) => {
                errors.subscriptions++;
                const event = error as { code?: number; reason?: string };
                noteError(`subscription ended: ${event?.code !== undefined ? `close ${event.code} ${event.reason ?? ""}` : describeError(error)}`);
              },
              complete: () => {},
            },
          );
        });
      });
      memory.perSubscriberKiB = ((await settled(server)) - idle.server) / USERS / KIB;
      log(NAME, `${USERS} workflowRuns subscriptions: ${round(memory.perSubscriberKiB, 1)} KiB per idle subscriber (server)`);
      for (const room of rooms.clients) {
        for (const client of room) {
          client.provider.on("connection-close", (event: { code?: number } | null) => {
            if (event) (errors.collab++, noteError(`collab socket closed ${event.code}`));
          });
        }
      }

      // ---------- the load phase ----------
      const durationMs = config.soakSeconds * 1000;
      const started = performance.now();
      const until = started + durationMs;
      const soakStartedAt = new Date();
      const rss: Record<string, { t: number; rss: number }[]> = { server: [], collab: [], worker: [], "bench (load generator)": [] };
      const sampler = setInterval(() => {
        const t = (performance.now() - started) / 1000;
        rss.server!.push({ t, rss: treeRss(server.pid) });
        rss.collab!.push({ t, rss: treeRss(collab.pid) });
        rss.worker!.push({ t, rss: treeRss(worker.pid) });
        rss["bench (load generator)"]!.push({ t, rss: process.memoryUsage.rss() });
      }, 1_000);

      // Edits: the first client of each of 50 workflows edits meta.description; the others record arrival.
      const sent = new Map<number, number>();
      const editLatency: number[] = [];
      const editors = rooms.clients.slice(0, EDITORS);
      let expectedDeliveries = 0;
      for (const room of editors) {
        for (const receiver of room.slice(1)) {
          const meta = receiver.doc.getMap("meta");
          receiver.doc.on("update", (_update: Uint8Array, origin: unknown) => {
            if (origin !== receiver.provider) return;
            const value = meta.get("description");
            if (typeof value !== "string" || !value.startsWith("soak ")) return;
            const at = sent.get(Number(value.slice(5)));
            if (at !== undefined) editLatency.push(performance.now() - at);
          });
        }
      }
      const base = Date.now() * 10;
      let edits = 0;
      const editing = (async () => {
        const interval = 1000 / (EDITORS * EDITS_PER_S);
        for (let i = 0; performance.now() < until; i++) {
          const due = started + i * interval;
          if (due > performance.now()) await sleep(due - performance.now());
          const room = editors[i % EDITORS]!;
          const seq = base + i;
          sent.set(seq, performance.now());
          room[0]!.doc.getMap("meta").set("description", `soak ${seq}`);
          edits++;
          expectedDeliveries += room.length - 1;
        }
      })();

      // Open-loop senders: each call is due at its slot; its latency counts from then.
      const openLoop = async (perSecond: number, call: (i: number) => Promise<void>) => {
        const interval = 1000 / perSecond;
        const inFlight = new Set<Promise<void>>();
        for (let i = 0; ; i++) {
          const due = started + i * interval;
          if (due >= until) break;
          if (due > performance.now()) await sleep(due - performance.now());
          const p = call(i).finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= 500) await Promise.race(inFlight); // bounded; latency still counts from the slot
        }
        await Promise.all(inFlight);
      };
      const apiLatency: number[] = [];
      const QUERIES = [
        (id: string) => ({ query: `query($id: ID!) { workflow(id: $id) { id name description updatedAt } }`, variables: { id } }),
        () => ({ query: `query($ws: ID!) { workflows(workspaceId: $ws, first: 20) { edges { node { id name } } } }`, variables: { ws: workspaceId } }),
        (id: string) => ({ query: `query($id: ID!) { runs(workflowId: $id, first: 10) { edges { node { id status } } } }`, variables: { id } }),
      ];
      const api = openLoop(API_PER_S, async (i) => {
        const due = started + i * (1000 / API_PER_S);
        const body = QUERIES[i % 5 < 3 ? 0 : i % 5 === 3 ? 1 : 2]!(workflows[i % WORKFLOWS]!);
        try {
          const response = await fetch(`${url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${accounts[i % ACCOUNTS]!.token}` },
            body: JSON.stringify(body),
          });
          const answer = (await response.json()) as { errors?: unknown[] };
          if (response.status !== 200 || answer.errors) (errors.api++, noteError(`API ${response.status} ${JSON.stringify(answer.errors)}`));
        } catch (error) {
          errors.api++;
          noteError(`API ${describeError(error)}`);
        }
        apiLatency.push(performance.now() - due);
      });
      let runsStarted = 0;
      const runs = openLoop(RUNS_PER_S, async (i) => {
        try {
          await gql(url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflows[i % WORKFLOWS], input: { i } } }, accounts[i % ACCOUNTS]!.token);
          runsStarted++;
        } catch (error) {
          errors.runs++;
          noteError(`startRun ${describeError(error)}`);
        }
      });
      await Promise.all([editing, api, runs]);
      log(NAME, `load phase done: ${edits} edits, ${apiLatency.length} API requests, ${runsStarted} runs started`);

      // Let the last runs and deliveries finish (bounded), then read the runs from their rows.
      const drainUntil = performance.now() + 30_000;
      let finished: { status: string; ms: number | null }[] = [];
      for (;;) {
        const { rows } = await db.query<{ status: string; ms: number | null }>(
          `SELECT status::text AS status, EXTRACT(EPOCH FROM ("finishedAt" - "createdAt")) * 1000 AS ms FROM "Run" WHERE "createdAt" >= $1`,
          [soakStartedAt],
        );
        finished = rows;
        const open = rows.filter((row) => row.ms === null).length;
        if ((open === 0 && editLatency.length >= expectedDeliveries) || performance.now() > drainUntil) break;
        await sleep(500);
      }
      clearInterval(sampler);
      const durations = finished.filter((row) => row.ms !== null).map((row) => Number(row.ms));
      const failedRuns = finished.filter((row) => row.status !== "succeeded").length;
      const missingDeliveries = expectedDeliveries - editLatency.length;
      const runLat = latency(durations);
      const apiLat = latency(apiLatency);
      const editLat = latency(editLatency);
      const totalErrors = errors.api + errors.runs + errors.subscriptions + errors.collab + failedRuns + Math.max(0, missingDeliveries) + exits.length;
      if (exits.length) notes.push(`processes that died during the soak: ${exits.join(", ")}`);
      const seconds = config.soakSeconds;
      log(NAME, `API ${round(apiLatency.length / seconds, 0)} req/s p95 ${apiLat.p95} p99 ${apiLat.p99} ms; edits p99 ${editLat.p99} ms; runs ${durations.length} avg ${runLat.mean} p99 ${runLat.p99} ms; run events delivered ${runEvents}`);
      if (errorSamples.size) notes.push(`first error of each kind: ${[...errorSamples.values()].join(" | ")}`);

      // Memory: peak per process, and growth over the last minute (or the last half of a shorter run).
      const lastWindow = Math.min(60, seconds / 2);
      const flat = Object.entries(rss).map(([name, samples]) => {
        const tail = samples.filter((s) => s.t >= seconds - lastWindow);
        const peak = Math.max(...samples.map((s) => s.rss));
        const growth = growthPerMinute(tail);
        const mean = tail.reduce((sum, s) => sum + s.rss, 0) / (tail.length || 1);
        // Flat: the fitted growth over the window is under 5% of what the process holds (and under 16 MiB).
        const isFlat = (growth * lastWindow) / 60 <= Math.min(0.05 * mean, 16 * 2 ** 20);
        return { name, peak, growth, isFlat };
      });

      const side = (value: number, lat?: ReturnType<typeof latency>, peak?: number) => ({ name: "ours", value: round(value, 3), latency: lat, peakRssMiB: peak === undefined ? undefined : mib(peak) });
      const row = (kase: string, unit: string, value: number, lat?: ReturnType<typeof latency>, peak?: number): Row => ({
        scenario: NAME,
        case: kase,
        metric: kase,
        unit,
        higherIsBetter: false,
        ours: side(value, lat, peak),
        peer: null,
        ratio: null,
      });
      const rows: Row[] = [
        row(`API p95 at ${round(apiLatency.length / seconds, 0)} req/s (open loop, ${seconds} s)`, "ms", apiLat.p95, apiLat),
        row(`edit propagation p99 (${EDITORS} editors, ${round(editLatency.length / seconds, 0)} deliveries/s)`, "ms", editLat.p99, editLat),
        row(`run duration, average (${durations.length} runs, ${round(runsStarted / seconds, 1)} started/s)`, "ms", runLat.mean, runLat),
        row(`errors (API ${errors.api}, startRun ${errors.runs}, failed runs ${failedRuns}, subscriptions ${errors.subscriptions}, collab closes ${errors.collab}, missing deliveries ${Math.max(0, missingDeliveries)})`, "errors", totalErrors),
        row("memory per idle collab socket (collab process, RSS growth)", "KiB", memory.perSocketKiB),
        row("memory per loaded room, with its first socket (collab process)", "KiB", memory.perRoomKiB),
        row("memory per idle run subscription (server process, graphql-ws)", "KiB", memory.perSubscriberKiB),
        ...flat.map((p) => row(`peak RSS: ${p.name}; last ${lastWindow} s ${p.growth >= 0 ? "+" : "−"}${round(Math.abs(p.growth) / 2 ** 20, 1)} MiB/min`, "MiB", mib(p.peak), undefined, p.peak)),
      ];
      const shortRun = seconds < 120 ? ` (a ${seconds} s run; the goal is for ≥ 120 s)` : "";
      const goals: Goal[] = [
        { scenario: NAME, goal: "API p95 < 100 ms", measured: `p95 ${apiLat.p95} ms, p99 ${apiLat.p99} ms at ${round(apiLatency.length / seconds, 0)} req/s${shortRun}`, pass: apiLat.p95 < 100 && seconds >= 120 },
        { scenario: NAME, goal: "edit propagation p99 < 50 ms", measured: `p99 ${editLat.p99} ms (p50 ${editLat.p50}), ${editLatency.length}/${expectedDeliveries} deliveries`, pass: editLat.p99 < 50 && missingDeliveries <= 0 && seconds >= 120 },
        { scenario: NAME, goal: "run average < 2 s", measured: `average ${runLat.mean} ms, p99 ${runLat.p99} ms over ${durations.length} runs`, pass: runLat.mean < 2000 && durations.length > 0 && seconds >= 120 },
        { scenario: NAME, goal: "0 errors", measured: `${totalErrors} (API ${errors.api}, startRun ${errors.runs}, failed or unfinished runs ${failedRuns + finished.filter((r) => r.ms === null).length}, subscriptions ${errors.subscriptions}, collab closes ${errors.collab}, missing edit deliveries ${Math.max(0, missingDeliveries)})`, pass: totalErrors === 0 && seconds >= 120 },
        {
          scenario: NAME,
          goal: "memory flat over the last minute",
          measured: flat.map((p) => `${p.name} ${p.growth >= 0 ? "+" : "−"}${round(Math.abs(p.growth) / 2 ** 20, 1)} MiB/min (peak ${mib(p.peak)} MiB)`).join(", "),
          pass: flat.every((p) => p.isFlat) && seconds >= 120,
        },
        { scenario: NAME, goal: "≤ 50 KiB per idle collab socket", measured: `${round(memory.perSocketKiB, 1)} KiB per socket; ${round(memory.perRoomKiB, 1)} KiB per loaded room; ${round(memory.perSubscriberKiB, 1)} KiB per idle subscription`, pass: memory.perSocketKiB >= 0 && memory.perSocketKiB <= 50 }, // a negative growth is noise (the process returned memory), not a measurement
      ];
      return { name: NAME, title: this.title, rows, goals, notes };
    } finally {
      await Promise.all(subscribers.map((client) => client.dispose()));
      rooms?.close();
      for (const child of processes.reverse()) await child.stop();
      await db.end();
    }
  },
};
