/**
 * Test cases (docs/run-engine.md R50): named run inputs with assertions, held in the draft (Y.Doc `testCases`,
 * L10). Running them starts one draft run per case (trigger "test"; pins are not used, R48, so a case tests
 * the real steps), waits for them (bounded) and checks the assertions on a worker. Publishing runs them too.
 */
import { FINAL_RUN_STATUSES, newId, withoutPins, type TestCase, type WorkflowDefinition } from "@algorythmos/domain";
import { createRun, enqueueRun, loadLiveWorkflow, type TestCaseCheckResult } from "@algorythmos/platform";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole } from "./access.js";
import { askWorker } from "./step-tests.js";
import { liveDefinition, type LiveWorkflowReads } from "./workflows.js";

/** How long a test case run may take before it counts as failed (the cases run concurrently). */
export const TEST_CASE_RUN_WAIT_MS = 60_000;
const CHECK_WAIT_MS = 30_000;

export const RunTestCasesInput = z.object({
  workflowId: z.string().min(1, "workflowId is required"),
  /** Only these cases (default: every case). */
  caseIds: z.array(z.string().min(1)).max(100).nullish(),
});

export interface TestCaseResult {
  caseId: string;
  name: string;
  /** The case's run (trigger "test"): its trace shows what happened; null when it could not start. */
  runId: string | null;
  passed: boolean;
  /** Why it failed, one line each (the run's error, each failed assertion); empty when it passed. */
  failures: string[];
}

/** The draft's test cases (read access). */
export async function listTestCases(deps: ServerDeps, caller: Caller, workflowId: string, reads?: LiveWorkflowReads): Promise<TestCase[]> {
  await requireWorkflowRole(deps.db, caller, workflowId, "read");
  return (await liveDefinition(deps.db, workflowId, reads)).testCases ?? [];
}

/** R50: runs the draft's test cases (all, or `caseIds`) and answers one result per case (editor or owner). */
export async function runTestCases(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<TestCaseResult[]> {
  const parsed = RunTestCasesInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const { workflowId, caseIds } = parsed.data;
  await requireWorkflowRole(deps.db, caller, workflowId, "write");
  const workflow = await loadLiveWorkflow(deps.db, workflowId);
  if (!workflow) throw notFound("Workflow");
  if (workflow.problems.length) {
    throw new AppError("UNPROCESSABLE", `The workflow cannot run: ${workflow.problems.map((p) => p.message).join("; ")}`, { problems: workflow.problems });
  }
  const cases = workflow.definition.testCases ?? [];
  if (caseIds) {
    const unknown = caseIds.filter((id) => !cases.some((testCase) => testCase.id === id));
    if (unknown.length) throw badInput(`No such test case: ${unknown.join(", ")}`, [{ path: ["input", "caseIds"], message: `No such test case: ${unknown.join(", ")}` }]);
  }
  const chosen = caseIds ? cases.filter((testCase) => caseIds.includes(testCase.id)) : cases;
  return runCases(deps, workflow.workspaceId, workflowId, workflow.definition, chosen);
}

/**
 * R50, for publishWorkflow: runs every test case of `definition` (what is about to be published) and answers
 * the results; `passed` is false when any case failed. No cases: passed, no results.
 */
export async function runTestCasesForPublish(deps: ServerDeps, workflowId: string, definition: WorkflowDefinition): Promise<{ passed: boolean; results: TestCaseResult[] }> {
  const cases = definition.testCases ?? [];
  if (!cases.length) return { passed: true, results: [] };
  const row = await deps.db.workflow.findUnique({ where: { id: workflowId }, select: { workspaceId: true } });
  if (!row) throw notFound("Workflow");
  const results = await runCases(deps, row.workspaceId, workflowId, definition, cases);
  return { passed: results.every((result) => result.passed), results };
}

/** One line per failing case, for an error message. */
export function failingCasesSummary(results: TestCaseResult[]): string {
  return results
    .filter((result) => !result.passed)
    .map((result) => `"${result.name || result.caseId}": ${result.failures[0] ?? "failed"}`)
    .join("; ");
}

async function runCases(deps: ServerDeps, workspaceId: string, workflowId: string, definition: WorkflowDefinition, cases: TestCase[]): Promise<TestCaseResult[]> {
  // R48: a case tests the real steps — the run captures the definition without pins (and the engine ignores
  // pins of a "test" run anyway).
  const captured = withoutPins(definition);
  const lifecycle = { db: deps.db, redis: deps.redis, redisPrefix: deps.env.REDIS_PREFIX, logger: deps.logger };
  const started = await Promise.all(
    cases.map(async (testCase) => {
      const id = newId("run");
      await createRun(lifecycle, { id, workflowId, workspaceId, definition: captured, trigger: "test", input: testCase.input ?? {} });
      await enqueueRun(deps.runQueue, id).catch((error) => deps.logger.warn("enqueue failed; the reconciler will retry", { runId: id, error }));
      return { testCase, runId: id };
    }),
  );
  const finished = await waitForRuns(deps, started.map((item) => item.runId), TEST_CASE_RUN_WAIT_MS);
  return Promise.all(
    started.map(async ({ testCase, runId }): Promise<TestCaseResult> => {
      const base = { caseId: testCase.id, name: testCase.name, runId };
      if (!finished.has(runId)) return { ...base, passed: false, failures: [`The run did not finish within ${TEST_CASE_RUN_WAIT_MS / 1000} s`] };
      const check = await askWorker<TestCaseCheckResult>(deps, "check-test-case", { runId, assertions: testCase.assertions }, CHECK_WAIT_MS);
      if (check === "no-worker") return { ...base, passed: false, failures: ["No worker is running to check the assertions"] };
      if (check === "timeout") return { ...base, passed: false, failures: [`No worker checked the assertions within ${CHECK_WAIT_MS / 1000} s`] };
      return { ...base, passed: check.failures.length === 0, failures: check.failures };
    }),
  );
}

/** The runs that reached a final status within `waitMs` (polled). */
async function waitForRuns(deps: ServerDeps, runIds: string[], waitMs: number): Promise<Set<string>> {
  const done = new Set<string>();
  const deadline = Date.now() + waitMs;
  let pause = 25;
  while (done.size < runIds.length && Date.now() < deadline) {
    const rows = await deps.db.run.findMany({ where: { id: { in: runIds.filter((id) => !done.has(id)) } }, select: { id: true, status: true } });
    for (const row of rows) if (FINAL_RUN_STATUSES.includes(row.status)) done.add(row.id);
    if (done.size < runIds.length) await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 200);
  }
  return done;
}
