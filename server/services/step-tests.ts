/**
 * "Test step" (docs/run-engine.md R49): one step of the live draft run on sample input by a worker (executors,
 * credentials and SSRF guards live there), with no Run row. The worker side is worker/step-test.ts.
 */
import { isStepType, StepId, stepTypes, type WorkflowDefinition } from "@algorythmos/domain";
import {
  createStepTestQueue,
  loadLiveWorkflow,
  type StepTestJob,
  type StepTestResult,
  type TestCaseCheckJob,
  type TestCaseCheckResult,
} from "@algorythmos/platform";
import type { Job, Queue } from "bullmq";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole } from "./access.js";

/** How long the API waits for a worker's answer: the worker's own bound (60 s) and a margin. */
export const STEP_TEST_WAIT_MS = 70_000;
/** The sample input's size limit, as JSON. */
export const MAX_STEP_TEST_INPUT_BYTES = 256 * 1024;

/**
 * What expressions and templates of the tested step see — the run context `{ input, steps }`: `input` is the
 * run's input, `steps.<id>.output` an earlier step's output (only the steps it reads need to be there).
 */
export const StepTestContext = z
  .object({
    input: z.unknown().optional(),
    steps: z.record(StepId, z.object({ output: z.unknown() }).strict()).default({}),
  })
  .strict();
export type StepTestContext = z.infer<typeof StepTestContext>;

export const TestStepInput = z.object({
  workflowId: z.string().min(1, "workflowId is required"),
  stepId: z.string().min(1, "stepId is required"),
  /** The sample input; omitted: the last run's actual input for the step, else the pinned outputs. */
  input: z.unknown().optional(),
  /** Required for a step with side effects (registry sideEffects other than "none"): it really takes effect. */
  confirmSideEffects: z.boolean().default(false),
});

/** Where the sample input came from. */
export type StepTestInputSource = "typed" | "lastRun" | "pinned" | "empty";

export interface StepTestAnswer extends StepTestResult {
  /** The context the step saw. */
  input: StepTestContext;
  inputSource: StepTestInputSource;
}

/** The step-tests queue per server (a queue on the server's own connection; nothing to close but the queue). */
const queues = new WeakMap<ServerDeps, Queue<StepTestJob | TestCaseCheckJob, StepTestResult | TestCaseCheckResult>>();
export function stepTestQueue(deps: ServerDeps) {
  let queue = queues.get(deps);
  if (!queue) queues.set(deps, (queue = createStepTestQueue(deps.redis, deps.env.REDIS_PREFIX)));
  return queue;
}

/**
 * Adds a job to the step-tests queue and waits for its answer (polling the job: no blocking connection is
 * held for a rare request). "no-worker" at once when no worker listens on the queue, "timeout" when none
 * answered in time.
 */
export async function askWorker<R>(deps: ServerDeps, name: "test-step" | "check-test-case", data: StepTestJob | TestCaseCheckJob, waitMs: number): Promise<R | "no-worker" | "timeout"> {
  const queue = stepTestQueue(deps);
  if ((await queue.getWorkersCount()) === 0) return "no-worker";
  const job = await queue.add(name, data, { removeOnComplete: { age: 300 }, removeOnFail: { age: 300 } });
  const deadline = Date.now() + waitMs;
  let pause = 10;
  for (;;) {
    const current: Job | undefined = await queue.getJob(job.id!);
    if (current?.finishedOn) {
      if (current.failedReason) throw new Error(current.failedReason);
      return current.returnvalue as R;
    }
    if (Date.now() > deadline) {
      await current?.remove().catch(() => {}); // taken by a worker meanwhile: its answer is dropped
      return "timeout";
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 100);
  }
}

/**
 * R49: tests one step of the live draft (editor or owner). A step with side effects needs `confirmSideEffects`
 * (else CONFIRMATION_REQUIRED, which the studio turns into a confirmation).
 */
export async function testStep(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<StepTestAnswer> {
  const parsed = TestStepInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { workflowId, stepId, input, confirmSideEffects } = parsed.data;
  await requireWorkflowRole(deps.db, caller, workflowId, "write");
  const workflow = await loadLiveWorkflow(deps.db, workflowId);
  if (!workflow) throw notFound("Workflow");
  const step = workflow.definition.steps.find((candidate) => candidate.id === stepId);
  if (!step) throw badInput(`The workflow has no step "${stepId}"`, [{ path: ["input", "stepId"], message: "No such step" }]);
  const sideEffects = isStepType(step.type) ? stepTypes[step.type].sideEffects : "none";
  if (sideEffects !== "none" && !confirmSideEffects) {
    throw new AppError(
      "CONFIRMATION_REQUIRED",
      `Testing "${step.name || step.id}" really runs it (${step.type} has side effects: ${sideEffects}); confirm to go on (confirmSideEffects: true)`,
      { sideEffects, stepType: step.type },
    );
  }
  const { context, source } = input === undefined ? await defaultContext(deps, workflowId, stepId, workflow.definition) : { context: typedContext(input), source: "typed" as const };
  const size = Buffer.byteLength(JSON.stringify(context));
  if (size > MAX_STEP_TEST_INPUT_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `The sample input is ${size} bytes; the limit is ${MAX_STEP_TEST_INPUT_BYTES} bytes`, { limitBytes: MAX_STEP_TEST_INPUT_BYTES, sizeBytes: size });
  }
  const job: StepTestJob = { workflowId, stepId, context: { input: context.input ?? null, steps: context.steps } };
  const result = await askWorker<StepTestResult>(deps, "test-step", job, STEP_TEST_WAIT_MS);
  const answer: StepTestResult =
    result === "no-worker"
      ? { output: null, error: "No worker is running to test the step; start one (npm run worker)", durationMs: 0, logs: [] }
      : result === "timeout"
        ? { output: null, error: `No worker answered within ${STEP_TEST_WAIT_MS / 1000} s`, durationMs: STEP_TEST_WAIT_MS, logs: [] }
        : result;
  return { ...answer, input: context, inputSource: source };
}

function typedContext(input: unknown): StepTestContext {
  const parsed = StepTestContext.safeParse(input);
  if (!parsed.success) throw fromZodError(parsed.error, ["input", "input"]);
  return parsed.data;
}

/**
 * The sample input when none is typed: the context the step saw in the latest run that reached it (the run's
 * input, and the outputs of the steps that had succeeded), else the pinned outputs of the other steps.
 */
async function defaultContext(
  deps: ServerDeps,
  workflowId: string,
  stepId: string,
  definition: WorkflowDefinition,
): Promise<{ context: StepTestContext; source: StepTestInputSource }> {
  const reached = await deps.db.runStep.findFirst({
    where: { stepId, run: { workflowId } },
    orderBy: [{ startedAt: { sort: "desc", nulls: "last" } }, { attempt: "desc" }],
    select: { runId: true, startedAt: true },
  });
  if (reached) {
    const run = await deps.db.run.findUniqueOrThrow({ where: { id: reached.runId }, select: { input: true } });
    const rows = await deps.db.runStep.findMany({
      where: { runId: reached.runId, status: "succeeded", stepId: { not: stepId }, ...(reached.startedAt ? { finishedAt: { lte: reached.startedAt } } : {}) },
      orderBy: { attempt: "asc" },
      select: { stepId: true, output: true },
    });
    const steps: StepTestContext["steps"] = {};
    // Sub-steps (`<id>@<i>`, `<id>/tool-<n>`) are not steps of the definition: only top-level ids are read.
    for (const row of rows) if (StepId.safeParse(row.stepId).success) steps[row.stepId] = { output: row.output };
    return { context: { input: run.input, steps }, source: "lastRun" };
  }
  const pins = Object.entries(definition.pinned ?? {}).filter(([id]) => id !== stepId);
  if (pins.length) return { context: { input: {}, steps: Object.fromEntries(pins.map(([id, output]) => [id, { output }])) }, source: "pinned" };
  return { context: { input: {}, steps: {} }, source: "empty" };
}
