/**
 * 6. A server SIGTERMed with requests and graphql-ws `runEvents` subscriptions in flight. Requests keep coming
 * (a client retrying elsewhere would see ECONNREFUSED once the port is closed: that is not a cut request);
 * every subscriber whose subscription ends resubscribes on the other server and must see its run finish.
 */
import { call, createWorkflow, effectDefinition, FINAL, graphqlWs, runFacts, START_RUN, withPg } from "../lib/api.js";
import { waitAllFinal } from "../lib/runs.js";
import { all, info, tally, zero } from "../lib/report.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

const RUN_EVENTS = `subscription($runId: ID!) { runEvents(runId: $runId) { type seq } }`;

interface Subscriber {
  runId: string;
  events: string[];
  closeCodes: number[];
  ended: boolean;
  /** Its subscription on the stopping server ended before the run finished. */
  cut: boolean;
  finished: boolean;
  resumed: boolean;
}

/** Subscribes to a run's events on `url`; resolves when the subscription ends (finished, completed or cut). */
function follow(url: string, token: string, subscriber: Subscriber, timeoutMs: number, recordClose = false): Promise<void> {
  return new Promise((resolve) => {
    let disposing = false;
    const client = graphqlWs(url, token, (code) => {
      if (recordClose && !disposing) subscriber.closeCodes.push(code);
    });
    const done = () => {
      disposing = true;
      clearTimeout(timer);
      void client.dispose();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.subscribe<{ runEvents: { type: string } }>(
      { query: RUN_EVENTS, variables: { runId: subscriber.runId } },
      {
        next: (message) => {
          const type = message.data?.runEvents.type;
          if (type) subscriber.events.push(type);
          if (type === "RUN_FINISHED") {
            subscriber.finished = true;
            done();
          }
        },
        error: () => done(),
        complete: () => done(),
      },
    );
  });
}

export const serverTerm: Scenario = {
  name: "server-term",
  title: "server SIGTERM with requests and runEvents subscriptions in flight",
  async run(context) {
    const { cluster, owner } = context;
    const [victim, other] = cluster.servers as [typeof cluster.servers[0], typeof cluster.servers[0]];
    const workflowId = await createWorkflow(other!.url, owner, effectDefinition("chaos server term", context.counting.url, "&delayMs=4000"));
    // The runs the request lanes start: quick ones, so checking that each accepted run finishes stays short.
    const quickWorkflowId = await createWorkflow(other!.url, owner, effectDefinition("chaos server term quick", context.counting.url));
    const count = context.scale(20, 4);
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < count; i++) {
      const started = await call(other!.url, START_RUN, { input: { workflowId, input: { tag: `term-${i}` } } }, owner.token);
      if (started.outcome !== "OK") throw new Error(`startRun failed before the fault: ${started.outcome}`);
      subscribers.push({ runId: started.data.startRun.id, events: [], closeCodes: [], ended: false, cut: false, finished: false, resumed: false });
    }
    const following = subscribers.map(async (subscriber) => {
      await follow(victim!.url, owner.token, subscriber, 60_000, true);
      subscriber.ended = true;
      if (subscriber.finished) return;
      subscriber.cut = true;
      // The subscription ended before the run did: resume on the other server (bounded attempts).
      for (let attempt = 0; attempt < 3 && !subscriber.finished; attempt++) {
        await follow(other!.url, owner.token, subscriber, 30_000);
        subscriber.resumed = subscriber.finished;
      }
    });

    // Requests to the server being stopped, four at a time, until shortly after it exited.
    const outcomes: string[] = [];
    /** startRun calls on the stopping server: tag → outcome (a run answered OK must finish; a cut one may exist). */
    const startOutcomes = new Map<string, string>();
    let sending = true;
    const senders = [0, 1, 2, 3].map(async (lane) => {
      for (let i = 0; sending && i < 5_000; i++) {
        const tag = `term-load-${lane}-${i}`;
        const result =
          lane % 2 === 0
            ? await call(victim!.url, START_RUN, { input: { workflowId: quickWorkflowId, input: { tag } } }, owner.token, 15_000)
            : await call(victim!.url, `query($id: ID!) { workflow(id: $id) { id name } }`, { id: workflowId }, owner.token, 15_000);
        outcomes.push(result.outcome);
        if (lane % 2 === 0) startOutcomes.set(tag, result.outcome);
        if (result.outcome.includes("ECONNREFUSED")) await sleep(50);
      }
    });
    await sleep(1_500);
    const inFlight = subscribers.filter((subscriber) => !subscriber.ended).length;
    const stopped = await victim!.stop("SIGTERM");
    await sleep(500);
    sending = false;
    await Promise.all(senders);
    await Promise.race([Promise.all(following), sleep(100_000)]);
    await victim!.start();

    // Every run the stopping server accepted must finish; a run whose startRun was cut shows whether it exists.
    const runsByTag = await withPg(cluster.postgres.url, async (client) => {
      const rows = await client.query<{ id: string; tag: string }>(`SELECT id, input->>'tag' AS tag FROM "Run" WHERE "workflowId" = $1`, [quickWorkflowId]);
      return new Map(rows.rows.map((row) => [row.tag, row.id]));
    });
    const acceptedRuns = [...startOutcomes].filter(([, outcome]) => outcome === "OK").map(([tag]) => runsByTag.get(tag)).filter((id): id is string => !!id);
    const acceptedCount = [...startOutcomes.values()].filter((outcome) => outcome === "OK").length;
    const cutStarts = [...startOutcomes].filter(([, outcome]) => outcome.startsWith("network") && !outcome.includes("ECONNREFUSED"));
    await waitAllFinal(context, acceptedRuns, Date.now(), context.tier.name === "full" ? 60_000 : 30_000);
    const facts = await runFacts(cluster.postgres.url, acceptedRuns);
    const acceptedFinal = acceptedRuns.filter((id) => FINAL.has(facts.statuses.get(id) ?? "")).length;

    const cut = outcomes.filter((outcome) => outcome.startsWith("network") && !outcome.includes("ECONNREFUSED"));
    const cutSubscribers = subscribers.filter((subscriber) => subscriber.cut).length;
    context.notes.push(`server-term: ${victim!.name} exited ${stopped.exitCode ?? stopped.signal} ${stopped.ms} ms after SIGTERM`);
    return [
      info("requests sent to the stopping server", tally(outcomes)),
      zero("requests cut (socket error, not a refused connection)", cut.length),
      zero("server errors (HTTP 5xx) while draining", outcomes.filter((outcome) => /^HTTP 5/.test(outcome)).length),
      all("runs accepted by the stopping server that finished", acceptedFinal, acceptedCount),
      info("startRun calls cut whose run was created anyway", `${cutStarts.filter(([tag]) => runsByTag.has(tag)).length} of ${cutStarts.length}`),
      info("subscriptions open at SIGTERM", inFlight),
      info("subscription close codes", tally(subscribers.flatMap((subscriber) => subscriber.closeCodes.map(String)))),
      all("subscribers that saw their run finish (resuming on the other server)", subscribers.filter((subscriber) => subscriber.finished).length, subscribers.length),
      info("subscribers that resumed on the other server", `${subscribers.filter((subscriber) => subscriber.resumed).length} of ${cutSubscribers} cut`),
      info("SIGTERM to exit", `${(stopped.ms / 1000).toFixed(1)} s`),
    ];
  },
};
