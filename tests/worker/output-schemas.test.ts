/**
 * R51: the step registry owns every step type's output shape. Real runs on the real worker (PostgreSQL, Redis,
 * BullMQ; the local HTTP, Chat Completions and Postmark servers of tests/worker) exercise every step type, and each
 * succeeded ledger row's output is validated with ajv against `stepOutputJsonSchema(type)` — an executor or engine
 * handler whose output drifts from its registry entry (a field added, dropped or retyped) fails here.
 */
import { newId, STEP_TYPE_NAMES, stepOutputJsonSchema, type StepType } from "@algorythmos/domain";
import { bytes, encryptSecret, json, type Db } from "@algorythmos/platform";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../server/services/approvals.js";
import { startPostmarkServer, startScriptedOpenAiServer } from "./fakes.js";
import { startHarness, startTestServer, type Harness } from "./harness.js";

type StepSpec = [string, string, Record<string, unknown>?];
type EdgeSpec = [string, string, string?];

/** A definition whose first step "start" is a trigger of `triggerType`. */
function def(steps: StepSpec[], edges: EdgeSpec[], trigger: StepSpec = ["start", "trigger.manual", {}]) {
  return {
    name: "Output schemas",
    steps: [trigger, ...steps].map(([id, type, config]) => ({ id, type, config: config ?? {} })),
    edges: edges.map(([source, target, label], index) => ({ id: `e${index}`, source, target, ...(label ? { label } : {}) })),
  };
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = new Map<StepType, ValidateFunction>(STEP_TYPE_NAMES.map((type) => [type, ajv.compile(stepOutputJsonSchema(type))]));

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;
let openai: Awaited<ReturnType<typeof startScriptedOpenAiServer>>;
let postmark: Awaited<ReturnType<typeof startPostmarkServer>>;
let openaiCredential: string;
let postmarkCredential: string;
let userId: string;
/** Step types whose succeeded rows were validated, with how many rows. */
const validated = new Map<string, number>();

async function credential(type: string, secret: unknown): Promise<string> {
  const id = newId("cred");
  await h.db.credential.create({ data: { id, workspaceId: h.workspaceId, name: `${type}-${id}`, type, secret: encryptSecret(h.env.CREDENTIALS_KEY, secret) } });
  return id;
}

async function publishedWorkflow(db: Db, definition: unknown): Promise<string> {
  const id = newId("wf");
  await db.workflow.create({ data: { id, workspaceId: h.workspaceId, name: "Child", definition: json(definition), yjsState: bytes(new Uint8Array()) } });
  const versionId = newId("ver");
  await db.workflowSnapshot.create({ data: { id: versionId, workflowId: id, version: 1, label: "v1", kind: "published", yjsState: bytes(new Uint8Array()), definition: json(definition) } });
  await db.workflow.update({ where: { id }, data: { publishedVersionId: versionId, latestVersion: 1 } });
  return id;
}

/**
 * Every succeeded row of the run against its type's output schema; returns the problems as "stepId (type): ajv
 * errors". Not covered: an agent's sub-steps (`<id>/model-n` rows, not the step's output) and pinned rows (R47: the
 * user's data, `input: { pinned: true }`; no run here pins).
 */
async function outputProblems(runId: string): Promise<string[]> {
  const rows = await h.db.runStep.findMany({ where: { runId, status: "succeeded" }, select: { stepId: true, type: true, input: true, output: true }, orderBy: { stepId: "asc" } });
  const problems: string[] = [];
  for (const row of rows) {
    if (row.stepId.includes("/") || (row.input as { pinned?: unknown } | null)?.pinned === true) continue;
    const validate = validators.get(row.type as StepType);
    if (!validate) {
      problems.push(`${row.stepId}: unknown type ${row.type}`);
      continue;
    }
    validated.set(row.type, (validated.get(row.type) ?? 0) + 1);
    if (!validate(row.output)) problems.push(`${row.stepId} (${row.type}): ${ajv.errorsText(validate.errors)} in ${JSON.stringify(row.output)}`);
  }
  return problems;
}

async function runAndCheck(definition: unknown, input: unknown, expectedSucceeded: string[]) {
  const run = await h.run(definition, input);
  expect(run.error).toBeNull();
  expect(run.status).toBe("succeeded");
  const succeeded = new Set(run.steps.filter((s) => s.status === "succeeded").map((s) => s.stepId));
  for (const stepId of expectedSucceeded) expect(succeeded, `step ${stepId} succeeded`).toContain(stepId);
  expect(await outputProblems(run.id)).toEqual([]);
  return run;
}

beforeAll(async () => {
  web = await startTestServer();
  postmark = await startPostmarkServer();
  openai = await startScriptedOpenAiServer((request, n) => {
    if (request.model === "json-model") return { content: '{"answer":42}' };
    if (request.model === "agent-model") {
      const answered = request.messages.some((m) => m.role === "tool");
      return answered ? { content: '{"done":true}', usage: { prompt_tokens: 50, completion_tokens: 5 } } : { toolCalls: [{ name: "current_time", arguments: {} }] };
    }
    return { content: `echo ${n}` };
  });
  h = await startHarness({ POSTMARK_API_URL: postmark.url });
  openaiCredential = await credential("openai", { apiKey: "sk-test", baseURL: `${openai.url}/v1` });
  postmarkCredential = await credential("postmark", { serverToken: "pm-test" });
  userId = newId("usr");
  await h.db.user.create({ data: { id: userId, email: `${userId}@example.test`, name: "Approver", passwordHash: "x" } });
});
afterAll(async () => {
  await h?.close();
  await Promise.all([web?.close(), openai?.close(), postmark?.close()]);
});

describe("R51: succeeded outputs match the registry's output schemas", () => {
  it("R51: logic steps — transform, condition, switch, code, loop, delay", async () => {
    await runAndCheck(
      def(
        [
          ["shape", "transform", { expression: "{ 'numbers': input.numbers, 'label': 'x' }" }],
          ["nothing", "transform", { expression: "input.missing" }],
          ["check", "condition", { expression: "$count(input.numbers) > 1" }],
          ["miss", "condition", { expression: "input.missing" }],
          ["route", "switch", { cases: [{ key: "big", expression: "$sum(input.numbers) > 100" }, { key: "small", expression: "$sum(input.numbers)" }] }],
          ["fallback", "switch", { cases: [{ key: "never", expression: "false" }] }],
          ["compute", "code", { code: "console.log('summing'); console.warn('w'); return input.numbers.reduce((a, b) => a + b, 0);" }],
          ["each", "loop", { items: "input.numbers", concurrency: 2 }],
          ["double", "transform", { expression: "item * 2" }],
          ["pause", "delay", { durationMs: 50 }],
        ],
        [
          ["start", "shape"],
          ["start", "nothing"],
          ["start", "check"],
          ["start", "miss"],
          ["start", "route"],
          ["start", "fallback"],
          ["start", "compute"],
          ["start", "each"],
          ["each", "double", "body"],
          ["start", "pause"],
        ],
      ),
      { numbers: [1, 2, 3] },
      ["shape", "check", "route", "fallback", "compute", "each", "pause"],
    );
  });

  it("R51: connectors — http.request (JSON, text, HEAD), openai.chat (text and JSON mode), email.postmark", async () => {
    await runAndCheck(
      def(
        [
          ["getJson", "http.request", { url: `${web.url}/json` }],
          ["postText", "http.request", { method: "POST", url: `${web.url}/text`, body: { a: 1 } }],
          ["head", "http.request", { method: "HEAD", url: `${web.url}/json` }],
          ["chat", "openai.chat", { credentialId: openaiCredential, model: "text-model", messages: [{ role: "user", content: "Hi {{ input.name }}" }] }],
          ["chatJson", "openai.chat", { credentialId: openaiCredential, model: "json-model", jsonMode: true, messages: [{ role: "user", content: "JSON please" }] }],
          ["mail", "email.postmark", { credentialId: postmarkCredential, from: "studio@example.test", to: "{{ input.email }}", subject: "Hi", textBody: "Hello {{ input.name }}" }],
        ],
        [
          ["start", "getJson"],
          ["start", "postText"],
          ["start", "head"],
          ["start", "chat"],
          ["start", "chatJson"],
          ["start", "mail"],
        ],
      ),
      { name: "Ada", email: "ada@example.test" },
      ["getJson", "postText", "head", "chat", "chatJson", "mail"],
    );
  });

  it("R51: ai.agent with a tool call and structured output", async () => {
    await runAndCheck(
      def(
        [
          [
            "agent",
            "ai.agent",
            {
              credentialId: openaiCredential,
              model: "agent-model",
              task: "What time is it?",
              tools: [{ kind: "builtin", name: "current_time" }],
              outputSchema: { type: "object", properties: { done: { type: "boolean" } }, required: ["done"] },
            },
          ],
          ["plain", "ai.agent", { credentialId: openaiCredential, model: "text-model", task: "Say hi" }],
        ],
        [
          ["start", "agent"],
          ["start", "plain"],
        ],
      ),
      {},
      ["agent", "plain"],
    );
  });

  it("R51: workflow.call (waiting for the child and not) and the webhook and cron triggers", async () => {
    const child = await publishedWorkflow(h.db, def([["out", "transform", { expression: "{ 'doubled': input.n * 2 }" }]], [["start", "out"]]));
    await runAndCheck(
      def(
        [
          ["call", "workflow.call", { workflowId: child, input: "{ 'n': input.n }" }],
          ["fire", "workflow.call", { workflowId: child, input: "{ 'n': 1 }", waitForCompletion: false }],
        ],
        [
          ["start", "call"],
          ["start", "fire"],
        ],
        ["start", "trigger.webhook", { responseMode: "output" }],
      ),
      { n: 21 },
      ["start", "call", "fire"],
    );
    await runAndCheck(def([], [], ["start", "trigger.cron", { cron: "*/5 * * * *" }]), { scheduledAt: new Date().toISOString() }, ["start"]);
  });

  it("R51: approval decided by a user, with data", async () => {
    const runId = await h.createRun(def([["ask", "approval", { title: "Ship it?" }]], [["start", "ask"]]), {});
    await h.enqueue(runId);
    await h.until("the approval to wait", async () => !!(await h.db.runStep.findFirst({ where: { runId, stepId: "ask", status: "waiting" } })));
    const decided = await decideApproval({ db: h.db, runQueue: h.queue }, { runId, stepId: "ask" }, { decision: "approved", comment: "LGTM", data: { ticket: 7 }, decidedById: userId, via: "user" });
    expect(decided.ok).toBe(true);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(await outputProblems(runId)).toEqual([]);
  });

  it("R51: approval decided by its timeout (no decider), and a loop whose failed items are { error }", async () => {
    const run = await runAndCheck(
      def(
        [
          ["ask", "approval", { title: "Auto", timeoutMs: 1_000, timeoutDecision: "approve" }],
          ["each", "loop", { items: "[1, 0, 2]", onItemError: "continue" }],
          ["check", "transform", { expression: "item = 0 ? $error('zero') : { 'n': item }" }],
        ],
        [
          ["start", "ask"],
          ["start", "each"],
          ["each", "check", "body"],
        ],
      ),
      {},
      ["ask", "each"],
    );
    expect(run.steps.find((s) => s.stepId === "ask" && s.status === "succeeded")!.output).toMatchObject({ decision: "approved", decidedVia: "timeout", decidedBy: null });
  });

  it("R51: every one of the fifteen step types had a succeeded row validated", () => {
    expect([...validated.keys()].sort()).toEqual([...STEP_TYPE_NAMES].sort());
  });
});
