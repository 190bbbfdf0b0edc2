/**
 * "Test step" and test case checks (docs/run-engine.md R49, R50): the worker side of the `step-tests` queue.
 * A step test runs ONE step of the live draft on sample input with the executors' own code, guards and
 * credentials, records nothing (no Run, no ledger) and answers `{ output, error, durationMs, logs }`.
 */
import { randomUUID } from "node:crypto";
import { isStepType, parseStepConfig, stepTypes, TestAssertion, WorkflowDefinition, type CredentialSecret, type CredentialType, type Step, type StepType } from "@algorythmos/domain";
import {
  bullPrefix,
  closeRedis,
  createRedis,
  jobCatalog,
  loadLiveWorkflow,
  type Db,
  type Env,
  type Logger,
  type StepTestJob,
  type StepTestLog,
  type StepTestResult,
  type TestCaseCheckJob,
  type TestCaseCheckResult,
} from "@algorythmos/platform";
import { Ajv } from "ajv";
import { UnrecoverableError, Worker } from "bullmq";
import { loadCredential } from "./engine/credentials.js";
import { engineStepHandler } from "./engine/engine-steps.js";
import { toJson } from "./engine/ledger.js";
import { stepTimeout } from "./engine/policy.js";
import { exposeStepOutput } from "./engine/scope.js";
import { AbortedError, StepError, errorMessage } from "./errors.js";
import { evaluateExpression } from "./expressions.js";
import { executors, type ExecutorArgs, type ExecutorResult, type RunContext } from "./executors/index.js";
import { executeRedacted } from "./redact.js";

/** A step test takes at most this long on the worker, whatever the step's own timeout (the API waits a little longer). */
export const STEP_TEST_MAX_MS = 60_000;
/** At most this many log lines come back with a step test. */
const MAX_LOG_LINES = 200;

type Deps = { env: Env; db: Db; logger: Logger };

/** R49: runs one step of the live draft on `job.context`; never throws (a failure is the answer's `error`). */
export async function testStep(deps: Deps, job: StepTestJob, signal: AbortSignal): Promise<StepTestResult> {
  const logs: StepTestLog[] = [];
  const startedAt = performance.now();
  const answer = (output: unknown, error: string | null): StepTestResult => ({ output: output === undefined ? null : toJson(output), error, durationMs: Math.round(performance.now() - startedAt), logs });
  const workflow = await loadLiveWorkflow(deps.db, job.workflowId);
  const step = workflow?.definition.steps.find((candidate) => candidate.id === job.stepId);
  if (!workflow || !step) return answer(null, `The workflow has no step "${job.stepId}"`);
  if (!isStepType(step.type)) return answer(null, `Unknown step type "${step.type}"`);
  const type: StepType = step.type;
  if (engineStepHandler(type)) return answer(null, `A ${stepTypes[type].label} step waits or runs steps of its own inside a run: start a draft run to try it`);
  let config: unknown;
  try {
    config = parseStepConfig(type, step.config);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    return answer(null, `Invalid config: ${issues ? issues.map((i) => `${i.path.map(String).join(".") || "config"}: ${i.message}`).join("; ") : errorMessage(error)}`);
  }
  const timeoutMs = Math.min(stepTimeout(type, config), STEP_TEST_MAX_MS);
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const record = (level: StepTestLog["level"]) => (message: string, fields?: Record<string, unknown>) => {
    if (logs.length < MAX_LOG_LINES) logs.push({ level, message, ...(fields && Object.keys(fields).length ? { fields: toJson(fields) as Record<string, unknown> } : {}) });
  };
  const logger: Logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
  let streamed = "";
  const executor = executors[type] as (args: ExecutorArgs<StepType>) => Promise<ExecutorResult>;
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (bounded.aborted) reject(new AbortedError());
      bounded.addEventListener("abort", () => reject(new AbortedError()), { once: true });
    });
    aborted.catch(() => {});
    // Secrets the executor loads are redacted from all it returns, throws, streams and logs, as in a run.
    const result = await Promise.race([
      executeRedacted(executor, {
        config: config as ExecutorArgs<StepType>["config"],
        context: withStepKeys(workflow.definition.steps, job.context as RunContext),
        signal: bounded,
        env: deps.env,
        logger,
        stepId: step.id,
        runId: "test",
        attempt: 1,
        // A fresh key: a test is its own operation, never a run's step.
        idempotencyKey: `test:${randomUUID()}`,
        chunk: (delta) => void (streamed += delta),
        credential: <C extends CredentialType>(id: string, credentialType: C): Promise<CredentialSecret<C>> => loadCredential(deps, workflow.workspaceId, id, credentialType),
      }),
      aborted,
    ]);
    return answer(result.output, null);
  } catch (error) {
    if (bounded.aborted && !signal.aborted) return answer(streamed ? { partial: streamed } : null, `Timed out after ${timeoutMs} ms`);
    if (signal.aborted) return answer(null, "The worker stopped before the test finished; try again");
    const output = error instanceof StepError ? error.output : undefined;
    return answer(output ?? null, errorMessage(error));
  }
}

/**
 * R50: checks a finished test case run against its assertions (each on the run's output, or on one step's
 * latest output). Expressions run in the worker's expression sandbox (R7), schemas with Ajv. The failures,
 * one readable line each; none means the case passed.
 */
export async function checkTestCase(deps: Deps, job: TestCaseCheckJob, signal: AbortSignal): Promise<TestCaseCheckResult> {
  const run = await deps.db.run.findUnique({ where: { id: job.runId }, select: { status: true, output: true, error: true, input: true, definition: true } });
  if (!run) return { failures: ["The run is gone"] };
  const failures: string[] = [];
  if (run.status !== "succeeded") failures.push(run.error ? `The run ${run.status}: ${run.error}` : `The run ended ${run.status}`);
  const rows = await deps.db.runStep.findMany({ where: { runId: job.runId }, orderBy: [{ attempt: "asc" }], select: { stepId: true, status: true, output: true } });
  const latest = new Map(rows.map((row) => [row.stepId, row]));
  // The steps as the run captured them (R3): their keys name them too (R55).
  const definedSteps = WorkflowDefinition.safeParse(run.definition).data?.steps ?? [];
  const steps: RunContext["steps"] = {};
  for (const [stepId, row] of latest) if (row.status === "succeeded") steps[stepId] = { output: row.output };
  const context = withStepKeys(definedSteps, { input: run.input, steps } as RunContext);
  const idOf = (idOrKey: string) => (latest.has(idOrKey) ? idOrKey : (definedSteps.find((s) => s.key === idOrKey)?.id ?? idOrKey));
  for (const [index, raw] of job.assertions.entries()) {
    const parsed = TestAssertion.safeParse(raw);
    const n = `Assertion ${index + 1}`;
    if (!parsed.success) {
      failures.push(`${n}: invalid (${parsed.error.issues.map((issue) => issue.message).join("; ")})`);
      continue;
    }
    const assertion = parsed.data;
    const subject = assertion.stepId ? `step "${assertion.stepId}"` : "the run's output";
    let value: unknown;
    if (assertion.stepId) {
      const row = latest.get(idOf(assertion.stepId));
      if (!row || row.status !== "succeeded") {
        failures.push(`${n}: step "${assertion.stepId}" ${!row ? "did not run" : row.status === "skipped" ? "was skipped" : `ended ${row.status}`}, so it has no output`);
        continue;
      }
      value = row.output;
    } else {
      if (run.status !== "succeeded") continue; // already reported: the run has no output
      value = run.output;
    }
    if (assertion.kind === "equals") {
      const expected = assertion.expected === undefined ? null : assertion.expected;
      if (canonical(value) !== canonical(expected)) failures.push(`${n}: expected ${subject} to equal ${short(expected)}, got ${short(value)}`);
    } else if (assertion.kind === "jsonata") {
      try {
        // The predicate sees `value` (what is checked), the case's `input` and the run's `steps`.
        const result = await evaluateExpression(assertion.expression, { ...context, value } as RunContext, signal);
        if (!truthy(result)) failures.push(`${n}: ${assertion.expression} is ${short(result ?? null)} for ${subject}`);
      } catch (error) {
        failures.push(`${n}: ${errorMessage(error)}`);
      }
    } else {
      const problems = schemaProblems(assertion.schema, value);
      if (problems) failures.push(`${n}: ${subject} does not match the schema: ${problems}`);
    }
  }
  return { failures };
}

/**
 * R55, as in runs: each earlier step's output is `steps.<id>` and also `steps.<key>` (the same object), however
 * the context was made (the last run's rows, pins and typed input are keyed by id). The id wins over a key.
 */
function withStepKeys(definedSteps: readonly Step[], context: RunContext): RunContext {
  const byId = { steps: new Map(definedSteps.map((step) => [step.id, step])) };
  const steps: RunContext["steps"] = { ...context.steps };
  const keyed = { ...context, steps };
  for (const step of definedSteps) {
    const entry = context.steps[step.id];
    if (entry && !Object.hasOwn(context.steps, step.key ?? step.id)) exposeStepOutput(byId, keyed, step, entry.output);
  }
  return keyed;
}

/** JSON with object keys sorted: equal values, equal strings. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
}
const short = (value: unknown) => {
  const text = canonical(value) ?? "undefined";
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};
/** JSONata's $boolean truthiness (R7): false, 0, "", null, [] and {} are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (value && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}

function schemaProblems(schema: Record<string, unknown>, value: unknown): string | null {
  const ajv = new Ajv({ allErrors: true, strict: false });
  let validate: ReturnType<Ajv["compile"]>;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    return `the schema is invalid (${errorMessage(error)})`;
  }
  if (validate(value)) return null;
  return (validate.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? "is invalid"}`).join("; ");
}

/** The worker of the `step-tests` queue (the server waits for each answer). */
export async function startStepTestWorker(deps: Deps, signal: AbortSignal): Promise<{ close(): Promise<void> }> {
  const { env, logger } = deps;
  const connection = createRedis(env.REDIS_URL, { blocking: true, name: "worker-step-tests" });
  const catalog = jobCatalog["step-tests"];
  const worker = new Worker<unknown, StepTestResult | TestCaseCheckResult>(
    "step-tests",
    async (job) => {
      if (job.name === "test-step") {
        const payload = catalog["test-step"].safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`Invalid test-step payload: ${payload.error.message}`);
        return testStep(deps, payload.data, signal);
      }
      if (job.name === "check-test-case") {
        const payload = catalog["check-test-case"].safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`Invalid check-test-case payload: ${payload.error.message}`);
        return checkTestCase(deps, payload.data, signal);
      }
      throw new UnrecoverableError(`Unknown job "${job.name}" on the step-tests queue`);
    },
    { connection, prefix: bullPrefix(env.REDIS_PREFIX), concurrency: 4 },
  );
  worker.on("error", (error) => logger.error("step test worker error", { error: errorMessage(error) }));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await closeRedis(connection);
    },
  };
}
