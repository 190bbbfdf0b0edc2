/**
 * The studio's testing actions (#16): "Test step" and "Run test cases" of a workflow's draft, called by
 * StepTest and TestCasesPanel through fetchers; the API does the work in-process as the signed-in user.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { execute } from "~/lib/graphql.server";
import type { Operation } from "~/lib/operations";
import { RUN_TEST_CASES_INTENT, TEST_STEP_INTENT, type StepTestAnswer, type TestCaseResultView, type TestingActionResult } from "~/components/editor/StepTest";

// Hand-typed until the SDK's documents are regenerated from schema.graphql (the shapes are the API's).
const TEST_STEP: Operation<{ testStep: StepTestAnswer }, { input: Record<string, unknown> }> = {
  query: `mutation StudioTestStep($input: TestStepInput!) { testStep(input: $input) { output error durationMs logs { level message } input inputSource } }`,
};
const RUN_TEST_CASES: Operation<{ runTestCases: TestCaseResultView[] }, { input: Record<string, unknown> }> = {
  query: `mutation StudioRunTestCases($input: RunTestCasesInput!) { runTestCases(input: $input) { caseId name runId passed failures } }`,
};

export async function action({ context, request, params }: ActionFunctionArgs): Promise<TestingActionResult> {
  const form = await request.formData();
  const workflowId = params.id ?? "";
  const intent = form.get("intent");
  if (intent === TEST_STEP_INTENT) {
    const raw = form.get("input");
    let input: unknown;
    if (typeof raw === "string" && raw.trim()) {
      try {
        input = JSON.parse(raw);
      } catch {
        return { ok: false, error: { code: "BAD_USER_INPUT", message: "The sample input is not valid JSON", fields: {}, problems: [] } };
      }
    }
    return execute(context, request, TEST_STEP, {
      input: { workflowId, stepId: String(form.get("stepId") ?? ""), ...(input === undefined ? {} : { input }), confirmSideEffects: form.get("confirm") === "true" },
    });
  }
  if (intent === RUN_TEST_CASES_INTENT) {
    const caseIds = form.getAll("caseId").map(String);
    return execute(context, request, RUN_TEST_CASES, { input: { workflowId, ...(caseIds.length ? { caseIds } : {}) } });
  }
  throw new Response("Unknown action", { status: 400 });
}
