/**
 * ai.agent crashes with real processes (docs/run-engine.md R41): a worker process SIGKILLed mid-agent — after
 * a completed tool call, and during one — and the run resumed by another worker process. The local tool
 * server counts the calls per Idempotency-Key (tests/worker/harness.ts, /charge).
 */
import type { ChildProcess } from "node:child_process";
import { newId } from "@algorythmos/domain";
import { encryptSecret } from "@algorythmos/platform";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startScriptedOpenAiServer, type ScriptedReply, type ScriptedRequest } from "./fakes.js";
import { startHarness, startTestServer, workflow, type Harness } from "./harness.js";
import { killProcess, QUICK_RECOVERY, workerProcesses } from "./worker-processes.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;
let openai: Awaited<ReturnType<typeof startScriptedOpenAiServer>>;
let credentialId: string;
const scripts = new Map<string, (request: ScriptedRequest, n: number) => ScriptedReply>();
const counts = new Map<string, number>();
const workers = workerProcesses();

beforeAll(async () => {
  web = await startTestServer();
  openai = await startScriptedOpenAiServer((request) => {
    const n = (counts.get(request.model) ?? 0) + 1;
    counts.set(request.model, n);
    return scripts.get(request.model)?.(request, n) ?? { status: 404, message: "no such model" };
  });
  h = await startHarness({}, { worker: false });
  credentialId = newId("cred");
  await h.db.credential.create({
    data: { id: credentialId, workspaceId: h.workspaceId, name: "openai", type: "openai", secret: encryptSecret(h.env.CREDENTIALS_KEY, { apiKey: "sk-test", baseURL: `${openai.url}/v1` }) },
  });
});
afterEach(() => workers.killAll());
afterAll(async () => {
  await h?.close();
  await openai?.close();
  await web?.close();
});

/** Two slots, quick lock expiry (a killed worker's job moves on in about 2 s). */
const spawnWorker = () =>
  workers.spawn(h, {
    ...QUICK_RECOVERY,
    WORKER_CONCURRENCY: "2",
    // The worker process's reconcile loop for this workspace (R22): a delivery stopped by another (R5) leaves
    // its failed job to the reconciler, as in production.
    RECONCILE_WORKSPACE_ID: h.workspaceId,
  });

/** The run's final state; recovery on a loaded machine can take longer than the harness's 15 s (but fails before the test's 60 s, with the reason). */
async function finalState(runId: string) {
  const deadline = Date.now() + 40_000;
  while (!["succeeded", "failed", "canceled"].includes((await h.db.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })).status)) {
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish within 40 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return h.waitForFinal(runId);
}

const kill = (child: ChildProcess) => killProcess(child);

const rowStatus = async (runId: string, stepId: string) =>
  (await h.db.runStep.findFirst({ where: { runId, stepId }, orderBy: { attempt: "desc" }, select: { status: true } }))?.status ?? null;

const agent = (model: string, chargeUrl: string) =>
  workflow(
    [
      [
        "agent",
        "ai.agent",
        { credentialId, model, task: "Charge 5", tools: [{ kind: "http", name: "charge", method: "POST", url: chargeUrl, inputSchema: { type: "object", properties: { amount: { type: "number" } } } }] },
      ],
    ],
    [["start", "agent"]],
  );

describe("ai.agent crash (R41)", () => {
  it("R41: a worker SIGKILLed after a completed tool call — the resumed run completes and the tool was called exactly once", async () => {
    const model = "crash-after-tool";
    scripts.set(model, (request, n) => {
      if (n === 1) return { toolCalls: [{ name: "charge", arguments: { amount: 5 } }] };
      if (n === 2) return { hang: true, content: "Charging" }; // the worker dies during this call
      const result = JSON.parse(request.messages.find((m) => m.role === "tool")!.content!) as { result: { body: { charged: string } } };
      return { content: `charged ${result.result.body.charged}` };
    });
    const first = await spawnWorker();
    const runId = await h.createRun(agent(model, `${web.url}/charge`));
    await h.enqueue(runId);
    // The hanging call must have reached the model server before the kill: the ledger row says "running"
    // before the request is sent, and a kill in between would make the repeat the hanging call.
    await h.until(
      "tool-1 succeeded and model-2 in flight at the model server",
      async () => (counts.get(model) ?? 0) >= 2 && (await rowStatus(runId, "agent/tool-1")) === "succeeded" && (await rowStatus(runId, "agent/model-2")) === "running",
    );
    await kill(first);
    const killedAt = Date.now();
    await spawnWorker();
    const run = await finalState(runId);
    console.log(`R41 agent resumed after SIGKILL: run final ${Date.now() - killedAt} ms after the kill`);

    expect(run.error).toBeNull();
    expect(run.status).toBe("succeeded");
    const key = `${runId}:agent/tool-1`;
    expect((run.steps.find((s) => s.stepId === "agent")!.output as { content: string }).content).toBe(`charged ${key}`);
    // The tool was called exactly once; model-1 was not asked again either.
    expect(web.requests.filter((r) => r.url === "/charge" && r.headers["idempotency-key"] === key)).toHaveLength(1);
    expect(web.charges.get(key)).toBe(1);
    const attempts = (stepId: string) => run.steps.filter((s) => s.stepId === stepId).map((s) => `${s.attempt}:${s.status}`);
    expect(attempts("agent/model-1")).toEqual(["1:succeeded"]);
    expect(attempts("agent/tool-1")).toEqual(["1:succeeded"]);
    // The interrupted call is made again (a lock lost under load may interrupt a repeat too: model calls may repeat).
    const model2 = attempts("agent/model-2");
    expect(model2[0]).toBe("1:failed");
    expect(model2.at(-1)).toMatch(/:succeeded$/);
    expect(model2.slice(0, -1).every((attempt) => attempt.endsWith(":failed"))).toBe(true);
    expect(run.steps.find((s) => s.stepId === "agent/model-2" && s.attempt === 1)!.error).toMatch(/^Interrupted/);
    // The agent's own row was resumed, not replaced: one attempt.
    expect(attempts("agent")).toEqual(["1:succeeded"]);
  }, 60_000);

  it("R41 R18: a worker SIGKILLed during an HTTP tool call — the call is made again with the same Idempotency-Key", async () => {
    const model = "crash-during-tool";
    scripts.set(model, (_request, n) => (n === 1 ? { toolCalls: [{ name: "charge", arguments: { amount: 7 } }] } : { content: "done" }));
    const first = await spawnWorker();
    // The first request with a key takes effect at receipt and answers after 5 s: the worker dies meanwhile.
    const runId = await h.createRun(agent(model, `${web.url}/charge?ms=5000`));
    await h.enqueue(runId);
    const key = `${runId}:agent/tool-1`;
    await h.until("the charge request arrived", async () => web.charges.has(key));
    await kill(first);
    await spawnWorker();
    const run = await finalState(runId);
    expect(run.error).toBeNull();
    const sent = web.requests.filter((r) => r.url.startsWith("/charge") && r.headers["idempotency-key"] === key);
    // The interrupted call and its repeat carry one key: a cooperating API charges once.
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(web.requests.filter((r) => r.url.startsWith("/charge") && r.headers["idempotency-key"] !== key && String(r.headers["idempotency-key"]).startsWith(runId))).toHaveLength(0);
    const tool = run.steps.filter((s) => s.stepId === "agent/tool-1");
    expect(tool[0]).toMatchObject({ attempt: 1, status: "failed" });
    expect(tool[0]!.error).toMatch(/^Interrupted/);
    expect(tool.at(-1)).toMatchObject({ status: "succeeded", output: { result: { body: { charged: key, replayed: true } } } });
  }, 60_000);

  it("R41 R10: a worker drained mid-agent finishes the call in flight, starts no new one, and hands the run back; the next worker goes on", async () => {
    const model = "drained-agent";
    scripts.set(model, (request, n) => {
      if (n === 1) return { toolCalls: [{ name: "charge", arguments: { amount: 9 } }] };
      return { content: `after ${request.messages.filter((m) => m.role === "tool").length} tool result` };
    });
    const worker = await h.startWorker(10_000);
    const runId = await h.createRun(agent(model, `${web.url}/charge?ms=1500`));
    await h.enqueue(runId);
    const key = `${runId}:agent/tool-1`;
    await h.until("the tool call is in flight", async () => web.charges.has(key));
    const modelCallsBeforeDrain = counts.get(model) ?? 0;
    await worker.close(); // waits for the tool call in flight, then hands the run back (R10)
    expect(await rowStatus(runId, "agent/tool-1")).toBe("succeeded");
    expect(await rowStatus(runId, "agent/model-2")).toBeNull(); // not started by the draining worker
    expect(counts.get(model)).toBe(modelCallsBeforeDrain);
    await h.startWorker();
    const run = await finalState(runId);
    expect(run.error).toBeNull();
    expect((run.steps.find((s) => s.stepId === "agent")!.output as { content: string }).content).toBe("after 1 tool result");
    expect(web.charges.get(key)).toBe(1);
    expect(run.steps.filter((s) => s.stepId === "agent").map((s) => `${s.attempt}:${s.status}`)).toEqual(["1:succeeded"]);
  }, 60_000);
});
