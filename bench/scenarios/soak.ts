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
import { histogramDelta, tryScrape } from "../lib/metrics.js";
import { answers200, cpuMs, freePort, machineLoad, meterSelf, selfMemoryAfterGc, startEntryPoint, treeRss, type LagReading, type MemoryReading } from "../lib/proc.js";
import { fitLine, latency, pool, round, sleep } from "../lib/stats.js";
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
/** Sockets per room added in each step of the per-socket measurement (a reading after each step). */
const SOCKET_STEPS = USERS / WORKFLOWS - 1;
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

/** What a process holds after a full collection: its JS heap plus the memory outside it that JS objects own (socket buffers). */
const held = (reading: MemoryReading | null) => (reading ? reading.heapUsed + reading.external : NaN);

/** A moment of quiet, then the process's memory after a full collection (null when its inspector did not answer). */
async function collected(child: EntryPoint): Promise<MemoryReading | null> {
  await sleep(300);
  return child.memoryAfterGc();
}

const mibText = (bytes: number) => `${bytes >= 0 ? "+" : "−"}${round(Math.abs(bytes) / 2 ** 20, 1)} MiB`;
const lagText = (lag: LagReading | null) => (lag ? `event-loop delay p99 ${round(lag.p99, 1)} ms (max ${round(lag.max, 0)})` : "event-loop delay –");

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
      const idleHeld = { collab: held(await collected(collab)), server: held(await collected(server)) };
      const openers = await connectRooms(collabBase, workflows, 1, owner.token);
      const withRooms = await settled(collab);
      const withRoomsHeld = held(await collected(collab));
      // Idle sockets in steps of one per room, a reading after a full collection after each step: the slope over
      // the steps is the memory per socket, and its spread says how far to trust it (one RSS difference can go negative).
      const rest: Rooms[] = [];
      const steps: { sockets: number; held: number; rss: number }[] = [{ sockets: 0, held: withRoomsHeld, rss: withRooms }];
      for (let k = 0; k < SOCKET_STEPS; k++) {
        rest.push(await connectRooms(collabBase, workflows, 1, accounts[(k + 1) % ACCOUNTS]!.token, 10));
        const reading = await collected(collab);
        steps.push({ sockets: (k + 1) * WORKFLOWS, held: held(reading), rss: reading?.rss ?? treeRss(collab.pid) });
      }
      rooms = {
        clients: workflows.map((_, w) => [openers.clients[w]![0]!, ...rest.map((r) => r.clients[w]![0]!)]),
        close() {
          openers.close();
          for (const r of rest) r.close();
        },
      };
      const heldFit = fitLine(steps.map((p) => ({ x: p.sockets, y: p.held })));
      const rssFit = fitLine(steps.map((p) => ({ x: p.sockets, y: p.rss })));
      const increments = steps.slice(1).map((p, i) => (p.held - steps[i]!.held) / WORKFLOWS / KIB);
      const memory = {
        perRoomKiB: (withRoomsHeld - idleHeld.collab) / WORKFLOWS / KIB,
        perRoomRssKiB: (withRooms - idle.collab) / WORKFLOWS / KIB,
        perSocketKiB: heldFit.slope / KIB,
        perSocketStdErrKiB: heldFit.slopeStdErr / KIB,
        perSocketStepsKiB: increments,
        perSocketRssKiB: rssFit.slope / KIB,
        perSubscriberKiB: 0,
        perSubscriberRssKiB: 0,
      };
      const socketSpread = `± ${round(memory.perSocketStdErrKiB, 2)} (standard error of the slope over ${steps.length} readings, 0 → ${USERS - WORKFLOWS} sockets; per step ${round(Math.min(...increments), 1)}–${round(Math.max(...increments), 1)})`;
      log(NAME, `${USERS} collab sockets on ${WORKFLOWS} rooms: ${round(memory.perRoomKiB, 1)} KiB per loaded room (with its first socket), ${round(memory.perSocketKiB, 2)} KiB per further idle socket ${socketSpread}; RSS slope ${round(memory.perSocketRssKiB, 1)} KiB`);

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
      memory.perSubscriberRssKiB = ((await settled(server)) - idle.server) / USERS / KIB;
      memory.perSubscriberKiB = (held(await collected(server)) - idleHeld.server) / USERS / KIB;
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
      // Beside the figures: how much of the machine the load generator itself took, and every process's event-loop delay.
      const self = meterSelf();
      const cpuAtStart = { server: cpuMs(server.pid), collab: cpuMs(collab.pid), worker: cpuMs(worker.pid) };
      await Promise.all(processes.map((child) => child.eventLoopLag())); // installs and resets each histogram
      // The processes' own series at the start and end of the load: server-side time per request kind, collab's time per update.
      const scrapeAtStart = { server: await tryScrape(url), collab: await tryScrape(`http://127.0.0.1:${collabPort}`) };
      // Memory after a full collection at the start of the last minute (one forced GC per process mid-load), then at the end.
      const lastWindow = Math.min(60, config.soakSeconds / 2);
      const heldAt: Record<string, { windowStart: number; loadEnd: number; drained: number }> = {};
      const readHeld = async (key: "windowStart" | "loadEnd" | "drained") => {
        const readings = await Promise.all(processes.map((child) => child.memoryAfterGc()));
        processes.forEach((child, i) => ((heldAt[child.name] ??= { windowStart: NaN, loadEnd: NaN, drained: NaN })[key] = held(readings[i]!)));
        (heldAt["bench (load generator)"] ??= { windowStart: NaN, loadEnd: NaN, drained: NaN })[key] = held(selfMemoryAfterGc());
      };
      let windowReading: Promise<void> = Promise.resolve();
      const windowTimer = setTimeout(() => (windowReading = readHeld("windowStart")), (config.soakSeconds - lastWindow) * 1000);
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
      /** The same latencies by request kind (the mix: 60% workflow(id), 20% workflows, 20% runs; startRun beside them). */
      const byKind: Record<"workflow" | "workflows" | "runs" | "startRun", number[]> = { workflow: [], workflows: [], runs: [], startRun: [] };
      const QUERIES = [
        (id: string) => ({ query: `query($id: ID!) { workflow(id: $id) { id name description updatedAt } }`, variables: { id } }),
        () => ({ query: `query($ws: ID!) { workflows(workspaceId: $ws, first: 20) { edges { node { id name } } } }`, variables: { ws: workspaceId } }),
        (id: string) => ({ query: `query($id: ID!) { runs(workflowId: $id, first: 10) { edges { node { id status } } } }`, variables: { id } }),
      ];
      const api = openLoop(API_PER_S, async (i) => {
        const due = started + i * (1000 / API_PER_S);
        const kind = i % 5 < 3 ? 0 : i % 5 === 3 ? 1 : 2;
        const body = QUERIES[kind]!(workflows[i % WORKFLOWS]!);
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
        byKind[(["workflow", "workflows", "runs"] as const)[kind]].push(performance.now() - due);
      });
      let runsStarted = 0;
      const runs = openLoop(RUNS_PER_S, async (i) => {
        const due = started + i * (1000 / RUNS_PER_S);
        try {
          await gql(url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: workflows[i % WORKFLOWS], input: { i } } }, accounts[i % ACCOUNTS]!.token);
          runsStarted++;
        } catch (error) {
          errors.runs++;
          noteError(`startRun ${describeError(error)}`);
        }
        byKind.startRun.push(performance.now() - due);
      });
      await Promise.all([editing, api, runs]);
      clearTimeout(windowTimer);
      await windowReading;
      const loadWallMs = performance.now() - started;
      const generator = self.stop();
      const cpuShare = {
        server: (cpuMs(server.pid) - cpuAtStart.server) / loadWallMs,
        collab: (cpuMs(collab.pid) - cpuAtStart.collab) / loadWallMs,
        worker: (cpuMs(worker.pid) - cpuAtStart.worker) / loadWallMs,
      };
      const lags = await Promise.all(processes.map((child) => child.eventLoopLag()));
      const scrapeAtEnd = { server: await tryScrape(url), collab: await tryScrape(`http://127.0.0.1:${collabPort}`) };
      // Client-side p95 per kind against the server's own time for it (execution, or the whole /graphql request): the rest is queueing.
      const serverTime = (field: string) => histogramDelta(scrapeAtStart.server, scrapeAtEnd.server, "algo_graphql_operation_duration_seconds", `field="${field}"`);
      const requestMix =
        `request mix p95 (server's own execution mean): ` +
        (["workflow", "workflows", "runs", "startRun"] as const)
          .map((kind) => `${kind} ${round(latency(byKind[kind]).p95, 1)} ms (${round(serverTime(kind)?.meanMs ?? NaN, 1)})`)
          .join(", ");
      const graphqlRequests = histogramDelta(scrapeAtStart.server, scrapeAtEnd.server, "algo_http_request_duration_seconds", 'route="/graphql"');
      const serverSide = graphqlRequests
        ? `; the server's own time per /graphql request ${round(graphqlRequests.meanMs, 1)} ms mean (p99 ≤ ${round(graphqlRequests.p99Ms, 0)} ms), the rest of the client's latency waits before the handler`
        : "";
      const collabUpdates = histogramDelta(scrapeAtStart.collab, scrapeAtEnd.collab, "algo_collab_message_duration_seconds", 'kind="update"');
      const collabHeld = collabUpdates
        ? `collab holds an update ${round(collabUpdates.meanMs, 1)} ms mean (p99 ≤ ${round(collabUpdates.p99Ms, 0)} ms) from arrival to broadcast (the durable append first) over ${collabUpdates.count} updates`
        : "collab's update handling –";
      await readHeld("loadEnd");
      const machine = `load generator (bench process) ${round(generator.cpuShare * 100, 0)}% of a core, ${lagText(generator.lag)}; ` +
        processes.map((child, i) => `${child.name} ${round(cpuShare[child.name as keyof typeof cpuShare] * 100, 0)}% of a core, ${lagText(lags[i]!)}`).join("; ") +
        ` (2 cores in all, PostgreSQL and Redis besides; ${machineLoad()})`;
      log(NAME, `load phase done: ${edits} edits, ${apiLatency.length} API requests, ${runsStarted} runs started`);
      log(NAME, `during the load: ${machine}`);

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
      await readHeld("drained");
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

      // Memory: peak RSS per process and its growth over the last minute (or the last half of a shorter run) — RSS on
      // V8 does not shrink, so the verdict rests on what the process holds after a full collection: at the start of
      // the window, at the end of the load and once the last runs and deliveries drained.
      const flat = Object.entries(rss).map(([name, samples]) => {
        const tail = samples.filter((s) => s.t >= seconds - lastWindow);
        const peak = Math.max(...samples.map((s) => s.rss));
        const growth = growthPerMinute(tail);
        const h = heldAt[name] ?? { windowStart: NaN, loadEnd: NaN, drained: NaN };
        const inLoad = h.loadEnd - h.windowStart;
        const retained = h.drained - h.windowStart;
        // Flat: what is still held once drained grew by under 5% of it (and under 16 MiB) since the window began.
        const isFlat = Number.isFinite(retained) && retained <= Math.min(0.05 * h.drained, 16 * 2 ** 20);
        const text = `${name}: heap after GC ${round(h.windowStart / 2 ** 20, 0)} → ${round(h.loadEnd / 2 ** 20, 0)} MiB over the last ${lastWindow} s (${mibText(inLoad)}), ${round(h.drained / 2 ** 20, 0)} MiB drained (${mibText(retained)} retained); RSS ${mibText(growth)}/min (peak ${mib(peak)} MiB)`;
        return { name, peak, growth, isFlat, text };
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
        row(`memory per idle collab socket (collab process, heap + external after GC, slope over ${steps.length} readings; ± ${round(memory.perSocketStdErrKiB, 2)})`, "KiB", memory.perSocketKiB),
        row("memory per loaded room, with its first socket (collab process, heap + external after GC)", "KiB", memory.perRoomKiB),
        row("memory per idle run subscription (server process, graphql-ws, heap + external after GC)", "KiB", memory.perSubscriberKiB),
        ...flat.map((p) => row(`peak RSS: ${p.name}; last ${lastWindow} s ${p.growth >= 0 ? "+" : "−"}${round(Math.abs(p.growth) / 2 ** 20, 1)} MiB/min`, "MiB", mib(p.peak), undefined, p.peak)),
        row(`load generator (bench process) CPU during the load, share of one core`, "%", round(generator.cpuShare * 100, 1)),
      ];
      const shortRun = seconds < 120 ? ` (a ${seconds} s run; the goal is for ≥ 120 s)` : "";
      const busiest = processes.map((child) => ({ name: child.name, share: cpuShare[child.name as keyof typeof cpuShare] })).sort((a, b) => b.share - a.share)[0]!;
      const saturation = `${busiest.name} at ${round(busiest.share * 100, 0)}% of a core is the busiest of ours` + (generator.cpuShare >= busiest.share ? `, but the load generator took more (${round(generator.cpuShare * 100, 0)}%) from the same 2 cores` : "");
      const goals: Goal[] = [
        { scenario: NAME, goal: "API p95 < 100 ms", measured: `p95 ${apiLat.p95} ms, p99 ${apiLat.p99} ms at ${round(apiLatency.length / seconds, 0)} req/s${shortRun}`, pass: apiLat.p95 < 100 && seconds >= 120, limit: `${saturation}; ${requestMix}${serverSide}; ${machine}` },
        { scenario: NAME, goal: "edit propagation p99 < 50 ms", measured: `p99 ${editLat.p99} ms (p50 ${editLat.p50}), ${editLatency.length}/${expectedDeliveries} deliveries`, pass: editLat.p99 < 50 && missingDeliveries <= 0 && seconds >= 120, limit: `${collabHeld}; ${saturation}; ${machine}` },
        { scenario: NAME, goal: "run average < 2 s", measured: `average ${runLat.mean} ms, p99 ${runLat.p99} ms over ${durations.length} runs`, pass: runLat.mean < 2000 && durations.length > 0 && seconds >= 120, limit: machine },
        { scenario: NAME, goal: "0 errors", measured: `${totalErrors} (API ${errors.api}, startRun ${errors.runs}, failed or unfinished runs ${failedRuns + finished.filter((r) => r.ms === null).length}, subscriptions ${errors.subscriptions}, collab closes ${errors.collab}, missing edit deliveries ${Math.max(0, missingDeliveries)})`, pass: totalErrors === 0 && seconds >= 120, limit: `the first error of each kind is in the notes; ${machine}` },
        {
          scenario: NAME,
          goal: "memory flat over the last minute",
          measured: flat.map((p) => p.text).join("; "),
          pass: flat.every((p) => p.isFlat) && seconds >= 120,
          limit: flat.some((p) => !p.isFlat)
            ? `still growing after a full collection once drained: ${flat.filter((p) => !p.isFlat).map((p) => p.name).join(", ")} (a heap snapshot diff of that process names what it keeps)`
            : `every process's heap after GC is flat; ${seconds < 120 ? "the run was shorter than 120 s" : "RSS growth alone is V8 keeping freed pages"}`,
        },
        {
          scenario: NAME,
          goal: "≤ 50 KiB per idle collab socket",
          measured: `${round(memory.perSocketKiB, 2)} KiB per socket ${socketSpread}; RSS slope ${round(memory.perSocketRssKiB, 1)} KiB; ${round(memory.perRoomKiB, 1)} KiB per loaded room (RSS ${round(memory.perRoomRssKiB, 1)}); ${round(memory.perSubscriberKiB, 1)} KiB per idle subscription (RSS ${round(memory.perSubscriberRssKiB, 1)})`,
          // The slope of heap + external after GC; a fit whose spread exceeds half the figure does not count as a measurement.
          pass: memory.perSocketKiB > 0 && memory.perSocketKiB <= 50 && memory.perSocketStdErrKiB < memory.perSocketKiB / 2,
          limit: `slope ${round(memory.perSocketKiB, 2)} ${socketSpread}`,
        },
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
