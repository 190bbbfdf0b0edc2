/**
 * Security issue #12 item 10: JSONata runaways. Built-ins that run natively ($match with a catastrophic
 * regex) cannot be interrupted by JSONata's own time check, and a result can be huge ($pad). Expressions are
 * evaluated in a sandbox process that is killed at the deadline, results are capped, and the process's
 * event loop stays free meanwhile (under `npm start` server and worker share one process).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { AbortedError, StepError } from "../../worker/errors.js";
import { EXPRESSION_LIMITS, evaluateExpression } from "../../worker/expressions.js";
import { graphql, signUpUser, startTestStack, waitFor } from "../support/stack.js";

const REDOS = `$match("aaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)`;
const HUGE = `$pad("", 20000000, "Z")`;
const context = { input: { name: "Ada" }, steps: {} };
// Bounds with room for a busy 2-core machine running the whole suite; before the sandbox, the ReDoS held the
// event loop (and /healthz) for 5–8 s and the 20 MB $pad for ~3 s.
const MAX_LAG_MS = 500;
const MAX_HEALTHZ_MS = 1_000;

/** Runs `work` while probing the event loop every 20 ms with a timer; returns the largest lateness seen. */
async function maxTimerLag<T>(work: () => Promise<T>): Promise<{ value: T | unknown; lagMs: number; ms: number }> {
  let lagMs = 0;
  let expected = performance.now() + 20;
  const probe = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - expected);
    expected = now + 20;
  }, 20);
  const started = performance.now();
  try {
    const value = await work().catch((error: unknown) => error);
    return { value, lagMs, ms: performance.now() - started };
  } finally {
    clearInterval(probe);
  }
}

describe("expression sandbox: evaluateExpression", () => {
  // The first evaluation of a process boots its sandboxes; the figures below are for the runaway alone.
  beforeAll(() => evaluateExpression(`1`, context));

  it("a catastrophic regex in $match is stopped at the deadline with a clear step error, without blocking the event loop", async () => {
    const { value, lagMs, ms } = await maxTimerLag(() => evaluateExpression(REDOS, context));
    expect(value).toBeInstanceOf(StepError);
    expect((value as StepError).message).toMatch(new RegExp(`^Expression failed: it ran longer than ${EXPRESSION_LIMITS.timeoutMs} ms and was stopped$`));
    expect((value as StepError).retryable).toBe(false);
    expect(ms).toBeLessThan(EXPRESSION_LIMITS.timeoutMs + 1_000);
    expect(lagMs).toBeLessThan(MAX_LAG_MS);
    console.log(`[sandbox] $match ReDoS stopped after ${ms.toFixed(0)} ms; max event-loop lag ${lagMs.toFixed(0)} ms`);
  });

  it("a result larger than the cap fails with a clear step error", async () => {
    await expect(evaluateExpression(`$pad("", 1100000, "Z")`, context)).rejects.toThrow(/^Expression failed: its result is larger than 1 MiB/);
    await expect(evaluateExpression(`[1..90000].{"k": "0123456789"}`, context)).rejects.toThrow(/^Expression failed: its result is larger than 1 MiB/);
    await expect(evaluateExpression(`$pad("", 1000000, "Z")`, context)).resolves.toHaveLength(1_000_000); // under the cap
    // The reported one: 20 MB. On a busy machine building it can outlast the time limit; either limit stops it.
    const { value, lagMs, ms } = await maxTimerLag(() => evaluateExpression(HUGE, context));
    expect(value).toBeInstanceOf(StepError);
    expect((value as StepError).message).toMatch(/Expression failed: (its result is larger than 1 MiB|it ran longer than 1000 ms)/);
    expect(lagMs).toBeLessThan(MAX_LAG_MS);
    console.log(`[sandbox] $pad 20 MB refused after ${ms.toFixed(0)} ms; max event-loop lag ${lagMs.toFixed(0)} ms`);
  });

  it("a memory bomb stops its sandbox, not the process", async () => {
    const bomb = `$split($pad("", 100000000, "a"), "")`; // a 100-million-item array
    const error = await evaluateExpression(bomb, context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepError);
    // Whichever limit it reaches first (heap, time or result size), it is a step error and the pool goes on.
    expect((error as StepError).message).toMatch(/Expression failed: (it used more than \d+ MB of memory|it ran longer than \d+ ms|its result is larger than)/);
    await expect(evaluateExpression(`1 + 1`, context)).resolves.toBe(2);
  });

  it("JSONata's own limits, errors and results are unchanged; the pool keeps working after a sandbox was stopped", async () => {
    await expect(evaluateExpression(REDOS, context)).rejects.toThrow(/was stopped/);
    await expect(evaluateExpression(`"Hello " & input.name`, context)).resolves.toBe("Hello Ada");
    await expect(evaluateExpression(`nothing.here`, context)).resolves.toBeNull();
    await expect(evaluateExpression(`$error("boom")`, context)).rejects.toThrow(/^Expression failed: boom$/);
    await expect(evaluateExpression(`1 +`, context)).rejects.toThrow(/^Invalid expression: /);
    await expect(evaluateExpression(`function($x) { $x }`, context)).rejects.toThrow(/returned a function/);
    await expect(evaluateExpression(`( $f := function($n) { 1 + $f($n + 1) }; $f(0) )`, context)).rejects.toThrow(/Expression failed: Stack overflow/);
    await expect(evaluateExpression(`$count([1..200000])`, context)).rejects.toThrow(/Expression failed: The maximum sequence length/);
    // More evaluations at once than sandboxes: they queue, and each gets its own answer.
    const many = await Promise.all(Array.from({ length: 20 }, (_, index) => evaluateExpression(`input * 2`, { input: index, steps: {} })));
    expect(many).toEqual(Array.from({ length: 20 }, (_, index) => index * 2));
  });

  it("an aborted evaluation stops at once", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    await expect(evaluateExpression(REDOS, context, controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(600);
  });
});

describe("expression sandbox: runs on a studio where server and worker share one process (as under npm start)", () => {
  let stack: Stack;
  let user: Awaited<ReturnType<typeof signUpUser>>;
  beforeAll(async () => {
    stack = await startTestStack({ collab: false });
    user = await signUpUser(stack.url, "Sandbox");
  });
  afterAll(() => stack?.close());

  async function runExpression(expression: string) {
    const definition = {
      name: "Runaway",
      steps: [
        { id: "start", type: "trigger.manual", config: {} },
        { id: "shape", type: "transform", config: { expression } },
      ],
      edges: [{ id: "e0", source: "start", target: "shape" }],
    };
    const created = await graphql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
      input: { workspaceId: user.workspaceId, name: `runaway-${randomBytes(3).toString("hex")}`, definition },
    }, user.token);
    const started = await graphql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: created.data.createWorkflow.id } }, user.token);
    const runId = started.data.startRun.id as string;
    const begun = performance.now();
    // /healthz of the same process, every 50 ms, while the run executes.
    const latencies: number[] = [];
    let running = true;
    const probing = (async () => {
      for (let i = 0; running && i < 400; i++) {
        const sent = performance.now();
        await fetch(`${stack.url}/healthz`).then((response) => response.arrayBuffer());
        latencies.push(performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const run = await waitFor("the run to finish", async () => {
      const read = await graphql(stack.url, `query($id: ID!) { run(id: $id) { status error steps { stepId status error output } } }`, { id: runId }, user.token);
      const value = read.data?.run;
      return value && value.status !== "queued" && value.status !== "running" ? value : null;
    }, 20_000);
    const ms = performance.now() - begun;
    running = false;
    await probing;
    const stored = await stack.deps.db.runStep.findFirst({ where: { runId, stepId: "shape" }, select: { output: true, error: true } });
    return { run, ms, healthzMaxMs: Math.max(...latencies), stored };
  }

  it("the ReDoS step fails at the deadline and /healthz keeps answering", async () => {
    const { run, ms, healthzMaxMs } = await runExpression(REDOS);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Step "shape" failed: Expression failed: it ran longer than 1000 ms and was stopped/);
    expect(ms).toBeLessThan(4_000);
    expect(healthzMaxMs).toBeLessThan(MAX_HEALTHZ_MS);
    console.log(`[sandbox] run with $match ReDoS failed after ${ms.toFixed(0)} ms; /healthz max ${healthzMaxMs.toFixed(0)} ms`);
  });

  it("the 20 MB $pad step fails with the size error and stores no large output", async () => {
    const { run, ms, healthzMaxMs, stored } = await runExpression(HUGE);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/Expression failed: (its result is larger than 1 MiB|it ran longer than 1000 ms)/);
    expect(JSON.stringify(stored ?? {}).length).toBeLessThan(10_000);
    expect(healthzMaxMs).toBeLessThan(MAX_HEALTHZ_MS);
    console.log(`[sandbox] run with $pad 20 MB failed after ${ms.toFixed(0)} ms; /healthz max ${healthzMaxMs.toFixed(0)} ms`);
  });
});
