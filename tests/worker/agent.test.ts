/**
 * ai.agent (docs/run-engine.md R40–R43) through the official openai SDK against a local server that speaks
 * Chat Completions (tests/worker/fakes.ts: streamed text and tool calls, errors, 429 with Retry-After), with
 * real PostgreSQL, Redis, BullMQ and a local HTTP server for the HTTP tools.
 */
import { docFromDefinition, encodeDocState, newId, WorkflowDefinition } from "@algorythmos/domain";
import { bytes, encryptSecret, json } from "@algorythmos/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runUsage } from "../../server/graphql/types/usage.js";
import { startScriptedOpenAiServer, type ScriptedReply, type ScriptedRequest } from "./fakes.js";
import { startHarness, startTestServer, workflow, type FinishedRun, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;
let openai: Awaited<ReturnType<typeof startScriptedOpenAiServer>>;
let credentialId: string;
/** Each test scripts its own model name: script(request, n) with n counted per model. */
const scripts = new Map<string, (request: ScriptedRequest, n: number) => ScriptedReply>();
const counts = new Map<string, number>();
const requestsOf = (model: string) => openai.requests.filter((r) => (r.body as { model?: string }).model === model);

beforeAll(async () => {
  web = await startTestServer();
  openai = await startScriptedOpenAiServer((request) => {
    const n = (counts.get(request.model) ?? 0) + 1;
    counts.set(request.model, n);
    const script = scripts.get(request.model);
    return script ? script(request, n) : { status: 404, message: `The model ${request.model} does not exist` };
  });
  h = await startHarness();
  credentialId = newId("cred");
  await h.db.credential.create({
    data: { id: credentialId, workspaceId: h.workspaceId, name: "openai", type: "openai", secret: encryptSecret(h.env.CREDENTIALS_KEY, { apiKey: "sk-test", baseURL: `${openai.url}/v1` }) },
  });
});
afterAll(async () => {
  await h?.close();
  await openai?.close();
  await web?.close();
});

const agent = (config: Record<string, unknown>) =>
  workflow([["agent", "ai.agent", { credentialId, task: "Plan a trip for {{ input.name }}", ...config }]], [["start", "agent"]]);
const rows = (run: FinishedRun) => run.steps.filter((step) => step.stepId.startsWith("agent/"));
const latest = (run: FinishedRun, stepId: string) => run.steps.filter((step) => step.stepId === stepId).at(-1);

describe("ai.agent", () => {
  it("R40 R41 R42 R43: a 2-tool run — each model and tool call a sub-step with tokens, latency and cost; text streamed; totals on the output", async () => {
    const model = "gpt-4o-mini-two-tools"; // priced as gpt-4o-mini (a dated snapshot name)
    scripts.set(model, (request, n) => {
      if (n === 1) return { content: "Let me look. ", toolCalls: [{ name: "weather", arguments: { city: "Paris" } }, { name: "current_time", arguments: {} }] };
      const tools = request.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(m.content ?? "null"));
      return { content: `Paris is ${tools[0].result.body.ok ? "sunny" : "unknown"} on ${String(tools[1].result.utc).slice(0, 4)} trip day for Ada`, usage: { prompt_tokens: 300, completion_tokens: 50 } };
    });
    const run = await h.run(
      agent({
        model,
        systemPrompt: "You are a travel agent.",
        tools: [
          { kind: "http", name: "weather", description: "Weather in a city", method: "POST", url: `${web.url}/json?city={{ args.city }}`, inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
          { kind: "builtin", name: "current_time" },
        ],
      }),
      { name: "Ada" },
    );
    expect(run.error).toBeNull();
    expect(run.status).toBe("succeeded");
    const output = latest(run, "agent")!.output as { content: string; modelCalls: number; toolCalls: number; usage: { promptTokens: number; completionTokens: number; costUsd: number } };
    expect(output.content).toBe(`Paris is sunny on ${new Date().getUTCFullYear()} trip day for Ada`);
    expect(output).toMatchObject({ modelCalls: 2, toolCalls: 2, usage: { promptTokens: 400, completionTokens: 70 } });
    // gpt-4o-mini: 0.15 USD / 1M input, 0.6 USD / 1M output
    expect(output.usage.costUsd).toBeCloseTo((400 * 0.15 + 70 * 0.6) / 1e6, 12);

    expect(rows(run).map((r) => `${r.stepId}:${r.status}`)).toEqual(["agent/model-1:succeeded", "agent/model-2:succeeded", "agent/tool-1:succeeded", "agent/tool-2:succeeded"]);
    const model1 = latest(run, "agent/model-1")!;
    expect(model1.output).toMatchObject({ content: "Let me look. ", usage: { promptTokens: 100, completionTokens: 20, costUsd: (100 * 0.15 + 20 * 0.6) / 1e6 }, toolCalls: [{ name: "weather" }, { name: "current_time" }] });
    expect((model1.output as { latencyMs: number }).latencyMs).toBeGreaterThanOrEqual(0);
    expect(model1.input).toMatchObject({ iteration: 1, messages: [{ role: "system", content: "You are a travel agent." }, { role: "user", content: "Plan a trip for Ada" }] });
    const tool1 = latest(run, "agent/tool-1")!;
    expect(tool1.input).toMatchObject({ name: "weather", kind: "http", arguments: { city: "Paris" } });
    expect(tool1.output).toMatchObject({ result: { status: 200, body: { ok: true, method: "POST", echo: '{"city":"Paris"}' } }, request: { method: "POST" } });

    // The model was told about both tools, and got both results back in the second call.
    const [first, second] = requestsOf(model).map((r) => r.body as ScriptedRequest);
    expect(first!.tools!.map((t) => t.function.name)).toEqual(["weather", "current_time"]);
    expect(second!.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool", "tool"]);
    // R41: the HTTP tool's request carried its sub-step's key; the URL template got the model's argument.
    const sent = web.requests.filter((r) => r.url.startsWith("/json?city=Paris"));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers["idempotency-key"]).toBe(`${run.id}:agent/tool-1`);
    expect(requestsOf(model).map((r) => r.headers["idempotency-key"])).toEqual([`${run.id}:agent/model-1`, `${run.id}:agent/model-2`]);

    // R20: the model's text reached the trace as step.chunk events of its sub-step, before it settled.
    const chunks = (id: string) => run.events.filter((e) => e.type === "step.chunk" && e.stepId === id).map((e) => (e.output as { delta: string }).delta).join("");
    expect(chunks("agent/model-2")).toBe(output.content);
    const order = run.events.map((e) => `${e.type}:${e.stepId}`);
    expect(order.lastIndexOf("step.chunk:agent/model-2")).toBeLessThan(order.indexOf("step.succeeded:agent/model-2"));
    expect(order.indexOf("step.succeeded:agent/tool-2")).toBeLessThan(order.indexOf("step.started:agent/model-2"));
    expect(order.indexOf("step.succeeded:agent/model-2")).toBeLessThan(order.indexOf("step.succeeded:agent"));
  });

  it("R40: the model still asking for tools after maxIterations fails the step with a clear reason", async () => {
    const model = "loop-model";
    scripts.set(model, () => ({ toolCalls: [{ name: "current_time", arguments: {} }] }));
    const run = await h.run(agent({ model, maxIterations: 2, tools: [{ kind: "builtin", name: "current_time" }] }));
    expect(run.status).toBe("failed");
    expect(run.error).toBe('Step "agent" failed: No final answer within maxIterations (2): the model still asked for tools (current_time)');
    expect(rows(run).map((r) => `${r.stepId}:${r.status}`)).toEqual(["agent/model-1:succeeded", "agent/model-2:succeeded", "agent/tool-1:succeeded"]);
    expect(requestsOf(model)).toHaveLength(2);
    expect(latest(run, "agent")!.output).toMatchObject({ modelCalls: 2, toolCalls: 1, usage: { promptTokens: 200, completionTokens: 40 } });
  });

  it("R40: structured output — an answer that does not satisfy outputSchema gets one repair call with the validation errors", async () => {
    const model = "schema-model";
    scripts.set(model, (request, n) => {
      if (n === 1) return { content: '{"answer":"forty-two"}' };
      expect(request.messages.at(-1)!.content).toContain("/answer must be number");
      return { content: '```json\n{"answer":42}\n```' };
    });
    const outputSchema = { type: "object", properties: { answer: { type: "number" } }, required: ["answer"], additionalProperties: false };
    const run = await h.run(agent({ model, outputSchema }));
    expect(run.error).toBeNull();
    expect(latest(run, "agent")!.output).toMatchObject({ json: { answer: 42 }, modelCalls: 2, toolCalls: 0 });
    expect((latest(run, "agent/model-2")!.input as { messages: { role: string; content: string }[] }).messages[0]).toMatchObject({ role: "user" });

    const stubborn = "stubborn-model";
    scripts.set(stubborn, () => ({ content: "I think it is 42." }));
    const failed = await h.run(agent({ model: stubborn, outputSchema }));
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^Step "agent" failed: The final answer does not satisfy outputSchema after one repair: the answer is not JSON/);
    expect(requestsOf(stubborn)).toHaveLength(2);
  });

  it("R41: a 429 with Retry-After is retried after that wait, as attempt 2 of the same sub-step with the same key", async () => {
    const model = "busy-agent-model";
    scripts.set(model, (_request, n) => (n === 1 ? { status: 429, message: "Rate limit reached for requests", retryAfter: "1" } : { content: "done" }));
    const run = await h.run(agent({ model }));
    expect(run.error).toBeNull();
    expect(run.steps.filter((s) => s.stepId === "agent/model-1").map((s) => `${s.attempt}:${s.status}`)).toEqual(["1:failed", "2:succeeded"]);
    expect(latest(run, "agent")!.output).toMatchObject({ content: "done", modelCalls: 1 });
    const retrying = run.events.find((e) => e.type === "step.retrying" && e.stepId === "agent/model-1")!;
    expect(retrying.error).toMatch(/^OpenAI API error 429: .*Rate limit reached/);
    expect(retrying.output).toMatchObject({ retryInMs: 1000 });
    const [a, b] = requestsOf(model);
    expect(a!.headers["idempotency-key"]).toBe(b!.headers["idempotency-key"]);
    const times = await h.db.runStep.findMany({ where: { runId: run.id, stepId: "agent/model-1" }, orderBy: { attempt: "asc" }, select: { startedAt: true } });
    expect(times[1]!.startedAt!.getTime() - times[0]!.startedAt!.getTime()).toBeGreaterThanOrEqual(1000);
  });

  it("R43: an HTTP tool to a private address is refused by the SSRF guard (R11): the tool call and the step fail with the refusal", async () => {
    const model = "ssrf-model";
    scripts.set(model, () => ({ toolCalls: [{ name: "metadata", arguments: {} }] }));
    const run = await h.run(agent({ model, tools: [{ kind: "http", name: "metadata", method: "GET", url: "http://169.254.169.254/latest/meta-data/" }] }));
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^Step "agent" failed: agent\/tool-1: .*169\.254\.169\.254/);
    expect(latest(run, "agent/tool-1")).toMatchObject({ status: "failed" });
    expect(requestsOf(model)).toHaveLength(1);
  });

  it("R43: tool errors go back to the model (unknown tool, bad arguments, HTTP 404, a JSONata error) and it answers", async () => {
    const model = "clumsy-model";
    scripts.set(model, (request, n) => {
      if (n === 1)
        return {
          toolCalls: [
            { name: "nope", arguments: {} },
            { name: "jsonata", arguments: "{not json" },
            { name: "missing", arguments: {} },
            { name: "jsonata", arguments: { expression: "$sum(items)", data: { items: [1, 2, 3] } } },
            { name: "jsonata", arguments: { expression: "$error('no such item')", data: {} } },
          ],
        };
      const results = request.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(m.content ?? "null"));
      return { content: JSON.stringify(results) };
    });
    const run = await h.run(agent({ model, tools: [{ kind: "builtin", name: "jsonata" }, { kind: "http", name: "missing", method: "GET", url: `${web.url}/missing` }] }));
    expect(run.error).toBeNull();
    const results = JSON.parse((latest(run, "agent")!.output as { content: string }).content) as { error?: string; result?: unknown }[];
    expect(results[0]!.error).toBe('There is no tool named "nope"; the tools are: jsonata, missing');
    expect(results[1]!.error).toMatch(/^The arguments are not valid JSON/);
    expect(results[2]!.error).toMatch(/^HTTP 404 from GET .*\/missing: no such thing/);
    expect(results[3]).toEqual({ result: 6 });
    expect(results[4]!.error).toMatch(/no such item/);
    expect(rows(run).filter((r) => r.stepId.includes("tool")).map((r) => r.status)).toEqual(["failed", "failed", "failed", "succeeded", "failed"]);
  });

  it("R42: a workspace's own prices win over the built-in table", async () => {
    const model = "house-model";
    scripts.set(model, () => ({ content: "ok", usage: { prompt_tokens: 1_000_000, completion_tokens: 500_000 } }));
    const unpriced = await h.run(agent({ model }));
    expect(latest(unpriced, "agent")!.output).toMatchObject({ usage: { costUsd: 0, unpricedCalls: 1 } });
    await h.db.workspace.update({ where: { id: h.workspaceId }, data: { modelPrices: json({ [model]: { inputPerMTok: 1, outputPerMTok: 4 } }) } });
    try {
      const priced = await h.run(agent({ model }));
      expect(latest(priced, "agent")!.output).toMatchObject({ usage: { promptTokens: 1_000_000, completionTokens: 500_000, costUsd: 3, unpricedCalls: 0 } });
    } finally {
      await h.db.workspace.update({ where: { id: h.workspaceId }, data: { modelPrices: json(null) } });
    }
  });

  it("R42: Run.usage sums the agent's model calls and the run's openai.chat steps, each priced", async () => {
    scripts.set("gpt-4o-chat-step", () => ({ content: "a summary", usage: { prompt_tokens: 1000, completion_tokens: 100 } }));
    scripts.set("gpt-4.1-agent", (_request, n) => (n === 1 ? { toolCalls: [{ name: "current_time", arguments: {} }] } : { content: "ok" }));
    const run = await h.run(
      workflow(
        [
          ["chat", "openai.chat", { credentialId, model: "gpt-4o-chat-step", messages: [{ role: "user", content: "Summarise" }] }],
          ["agent", "ai.agent", { credentialId, model: "gpt-4.1-agent", task: "Use {{ steps.chat.output.content }}", tools: [{ kind: "builtin", name: "current_time" }] }],
        ],
        [["start", "chat"], ["chat", "agent"]],
      ),
    );
    expect(run.error).toBeNull();
    const usage = await runUsage(h, run.id);
    // openai.chat priced as gpt-4o (2.5 / 10), the agent's two calls (100 / 20 each) as gpt-4.1 (2 / 8)
    const expected = (1000 * 2.5 + 100 * 10) / 1e6 + (200 * 2 + 40 * 8) / 1e6;
    expect(usage).toMatchObject({ promptTokens: 1200, completionTokens: 140, calls: 3, unpricedCalls: 0 });
    expect(usage.costUsd).toBeCloseTo(expected, 12);
    expect(await runUsage(h, "run_missing")).toEqual({ promptTokens: 0, completionTokens: 0, costUsd: 0, calls: 0, unpricedCalls: 0 });
  });

  it("R43: a workflow tool runs the tool workflow's published version as a child run; the agent waits without a worker and goes on with its output", async () => {
    // The tool workflow, published (as publishWorkflow stores it): doubles its input's n.
    const toolWorkflowId = newId("wf");
    await h.db.workflow.create({ data: { id: toolWorkflowId, workspaceId: h.workspaceId, name: "Doubler", definition: json({}), yjsState: bytes(new Uint8Array()) } });
    const definition = WorkflowDefinition.parse(workflow([["double", "transform", { expression: "{ 'doubled': input.n * 2 }" }]], [["start", "double"]]));
    const doc = docFromDefinition(definition);
    const versionId = newId("ver");
    await h.db.workflowSnapshot.create({ data: { id: versionId, workflowId: toolWorkflowId, version: 1, label: "v1", kind: "published", yjsState: bytes(encodeDocState(doc)), definition: json(definition) } });
    doc.destroy();
    await h.db.workflow.update({ where: { id: toolWorkflowId }, data: { publishedVersionId: versionId } });

    const model = "workflow-tool-model";
    scripts.set(model, (request, n) => {
      if (n === 1) return { toolCalls: [{ name: "double", arguments: { n: 21 } }, { name: "unpublished", arguments: {} }] };
      const results = request.messages.filter((m) => m.role === "tool").map((m) => JSON.parse(m.content ?? "null"));
      return { content: JSON.stringify(results) };
    });
    const unpublishedId = newId("wf");
    await h.db.workflow.create({ data: { id: unpublishedId, workspaceId: h.workspaceId, name: "Draft only", definition: json({}), yjsState: bytes(new Uint8Array()) } });
    const run = await h.run(
      agent({
        model,
        tools: [
          { kind: "workflow", name: "double", description: "Doubles n", workflowId: toolWorkflowId, inputSchema: { type: "object", properties: { n: { type: "number" } } } },
          { kind: "workflow", name: "unpublished", workflowId: unpublishedId },
        ],
      }),
    );
    expect(run.error).toBeNull();
    const results = JSON.parse((latest(run, "agent")!.output as { content: string }).content) as { result?: unknown; error?: string }[];
    expect(results[0]).toEqual({ result: { double: { doubled: 42 } } });
    expect(results[1]!.error).toMatch(/has never been published/);
    const child = await h.db.run.findFirstOrThrow({ where: { parentRunId: run.id }, select: { id: true, parentStepId: true, versionId: true, trigger: true, input: true, status: true } });
    expect(child).toMatchObject({ parentStepId: "agent/tool-1", versionId, trigger: "call", input: { n: 21 }, status: "succeeded" });
    expect(latest(run, "agent/tool-1")).toMatchObject({ status: "succeeded", output: { result: { double: { doubled: 42 } }, childRunId: child.id } });
    // The tool row waited (step.waiting) while the child ran.
    expect(run.events.some((e) => e.type === "step.waiting" && e.stepId === "agent/tool-1")).toBe(true);
  });

  it("R41 R21: a re-run from the agent starts a new conversation — the sub-steps retryRun copied are not replayed", async () => {
    const model = "rerun-model";
    scripts.set(model, (_request, n) => ({ content: n === 1 ? "first answer" : "second answer" }));
    const first = await h.run(agent({ model }));
    expect((latest(first, "agent")!.output as { content: string }).content).toBe("first answer");
    // What server/services/runs.ts retryRun stores: a new run from "agent", with every succeeded row of the old
    // run whose step id is not the re-run step or downstream of it copied as attempt 1 (the sub-steps too).
    const rerunId = newId("run");
    const old = await h.db.run.findUniqueOrThrow({ where: { id: first.id }, select: { definition: true, input: true } });
    await h.db.run.create({
      data: { id: rerunId, workflowId: h.workflowId, workspaceId: h.workspaceId, definition: json(old.definition), trigger: "retry", input: json(old.input), retryOfRunId: first.id, fromStepId: "agent" },
    });
    const copied = await h.db.runStep.findMany({ where: { runId: first.id, status: "succeeded", stepId: { notIn: ["agent"] } }, select: { stepId: true, type: true, input: true, output: true, startedAt: true, finishedAt: true } });
    expect(copied.map((row) => row.stepId).sort()).toEqual(["agent/model-1", "start"]);
    await h.db.runStep.createMany({ data: copied.map((row) => ({ ...row, id: newId("rst"), runId: rerunId, attempt: 1, status: "succeeded" as const, input: json(row.input), output: json(row.output) })) });
    await h.enqueue(rerunId);
    const rerun = await h.waitForFinal(rerunId);
    expect(rerun.error).toBeNull();
    expect((latest(rerun, "agent")!.output as { content: string }).content).toBe("second answer");
    expect(rerun.steps.filter((s) => s.stepId === "agent/model-1").map((s) => `${s.attempt}:${s.status}`)).toEqual(["1:succeeded", "2:succeeded"]);
  });

  it("R41 R25: an agent in a loop body records its sub-steps per iteration (<stepId>@<i>/model-<n>), each with its own conversation", async () => {
    const model = "loop-body-model";
    scripts.set(model, (request) => ({ content: `done: ${request.messages.at(-1)!.content}` }));
    const definition = workflow(
      [
        ["each", "loop", { items: "['red', 'blue']" }],
        ["agent", "ai.agent", { credentialId, model, task: "Paint it {{ item }} ({{ index }})" }],
      ],
      [["start", "each"]],
    );
    definition.edges!.push({ id: "body", source: "each", target: "agent", label: "body" });
    const run = await h.run(definition);
    expect(run.error).toBeNull();
    expect(latest(run, "each")!.output).toEqual([
      expect.objectContaining({ content: "done: Paint it red (0)", modelCalls: 1 }),
      expect.objectContaining({ content: "done: Paint it blue (1)", modelCalls: 1 }),
    ]);
    expect(run.steps.filter((s) => s.stepId.includes("/")).map((s) => `${s.stepId}:${s.status}`).sort()).toEqual(["agent@0/model-1:succeeded", "agent@1/model-1:succeeded"]);
    expect(requestsOf(model).map((r) => r.headers["idempotency-key"]).sort()).toEqual([`${run.id}:agent@0/model-1`, `${run.id}:agent@1/model-1`]);
  });

  it("R41 R15: a cancel aborts the model call in flight; the agent's row and the open call are closed with the reason", async () => {
    const model = "hanging-agent-model";
    scripts.set(model, () => ({ hang: true, content: "Thinking about it" }));
    const runId = await h.createRun(agent({ model }));
    await h.enqueue(runId);
    await h.until("model-1 streaming", async () => modelIsStreaming(runId));
    expect(await h.cancel(runId)).toBe(true);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("canceled");
    expect(latest(run, "agent")).toMatchObject({ status: "failed", error: "Run canceled" });
    expect(latest(run, "agent/model-1")).toMatchObject({ status: "failed", error: "Run canceled" });
    await h.until("the stream aborted", async () => requestsOf(model).every((r) => r.aborted));
  });
  it("R41 R14: an HTTP tool's credential header is sent but never recorded: sub-steps and events show it redacted", async () => {
    const secretValue = "Bearer tool-secret-7f3a9c";
    const toolCredential = newId("cred");
    await h.db.credential.create({
      data: { id: toolCredential, workspaceId: h.workspaceId, name: "tool key", type: "httpHeader", secret: encryptSecret(h.env.CREDENTIALS_KEY, { headerName: "Authorization", headerValue: secretValue }) },
    });
    const model = "secret-tool-model";
    // The model (a third party) repeats whatever it is given; the endpoint echoes the request body.
    scripts.set(model, (_request, n) => (n === 1 ? { toolCalls: [{ name: "lookup", arguments: { q: "x" } }] } : { content: `I used ${secretValue}` }));
    const run = await h.run(agent({ model, tools: [{ kind: "http", name: "lookup", method: "POST", url: `${web.url}/json`, credentialId: toolCredential }] }));
    expect(run.error).toBeNull();
    const sent = web.requests.filter((r) => r.url === "/json" && r.headers.authorization === secretValue);
    expect(sent).toHaveLength(1);
    expect(latest(run, "agent/tool-1")!.output).toMatchObject({ request: { headers: { authorization: "[redacted]" } } });
    const everything = JSON.stringify([run.steps, run.events]);
    expect(everything).not.toContain("tool-secret-7f3a9c");
    expect((latest(run, "agent")!.output as { content: string }).content).toBe("I used [redacted]");
  });
});

async function modelIsStreaming(runId: string): Promise<boolean> {
  const events = (await h.snapshot(runId)).events;
  return events.some((e) => e.type === "step.chunk" && e.stepId === "agent/model-1");
}
