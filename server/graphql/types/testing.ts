/** Testing workflows (#16; docs/run-engine.md R47–R50): testStep, Workflow.testCases, runTestCases. */
import type { TestAssertion, TestCase } from "@algorythmos/domain";
import type { StepTestLog } from "@algorythmos/platform";
import { builder } from "../builder.js";
import { testStep, type StepTestAnswer } from "../../services/step-tests.js";
import { listTestCases, runTestCases, type TestCaseResult } from "../../services/test-cases.js";
import { WorkflowRef } from "./workflow.js";

const StepTestLogRef = builder.objectRef<StepTestLog>("StepTestLog").implement({
  description: "A log line the tested step wrote (secrets redacted).",
  fields: (t) => ({
    level: t.exposeString("level", { description: "One of debug, info, warn or error." }),
    message: t.exposeString("message", { description: "The line." }),
    fields: t.field({ type: "JSON", nullable: true, description: "Its structured fields, if any.", resolve: (log) => log.fields ?? null }),
  }),
});

const StepTestResultRef = builder.objectRef<StepTestAnswer>("StepTestResult").implement({
  description: "What one step did on sample input, run by a worker without a run (nothing is recorded).",
  fields: (t) => ({
    output: t.field({ type: "JSON", nullable: true, description: "The step's output; null when it failed (or the output its error carried).", resolve: (r) => r.output }),
    error: t.exposeString("error", { nullable: true, description: "Why the step failed; null when it succeeded." }),
    durationMs: t.exposeInt("durationMs", { description: "How long the step took on the worker." }),
    logs: t.field({ type: [StepTestLogRef], description: "What the step logged.", resolve: (r) => r.logs }),
    input: t.field({ type: "JSON", description: "The context the step saw: { input, steps: { <stepId>: { output } } }.", resolve: (r) => r.input }),
    inputSource: t.exposeString("inputSource", { description: "Where that input came from: typed, lastRun, pinned or empty." }),
  }),
});

const TestStepInputRef = builder.inputType("TestStepInput", {
  description: "The step to test and its sample input.",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow (its live draft)." }),
    stepId: t.id({ required: true, description: "The step to run." }),
    input: t.field({
      type: "JSON",
      description: "What the step sees: { input, steps: { <stepId>: { output } } }. Omitted: the last run's actual input for the step, else the pinned outputs.",
    }),
    confirmSideEffects: t.boolean({ description: "Required for a step with side effects (it really sends the request or email)." }),
  }),
});

builder.mutationField("testStep", (t) =>
  t.field({
    type: StepTestResultRef,
    description: "Runs one step of the draft on sample input, on a worker, without a run (editors and owners). A step with side effects needs confirmSideEffects (else CONFIRMATION_REQUIRED).",
    args: { input: t.arg({ type: TestStepInputRef, required: true, description: "The step and its input." }) },
    resolve: (_root, { input }, ctx) => testStep(ctx.deps, ctx.caller, input),
  }),
);

const TestAssertionRef = builder.objectRef<TestAssertion>("TestAssertion").implement({
  description: "What a test case checks: the run's output, or one step's output.",
  fields: (t) => ({
    kind: t.exposeString("kind", { description: "One of equals, jsonata or schema." }),
    stepId: t.exposeID("stepId", { nullable: true, description: "The step whose output is checked; null: the run's output." }),
    expected: t.field({ type: "JSON", nullable: true, description: "For equals: the value expected.", resolve: (a) => (a.kind === "equals" ? (a.expected ?? null) : null) }),
    expression: t.string({ nullable: true, description: "For jsonata: a predicate over { value, input, steps }; passes when truthy.", resolve: (a) => (a.kind === "jsonata" ? a.expression : null) }),
    schema: t.field({ type: "JSON", nullable: true, description: "For schema: a JSON Schema the value must match.", resolve: (a) => (a.kind === "schema" ? a.schema : null) }),
  }),
});

const TestCaseRef = builder.objectRef<TestCase>("TestCase").implement({
  description: "A named test case of the draft: a run input and assertions on what the run produces.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The case's id (a key of the Y.Doc's testCases map)." }),
    name: t.exposeString("name", { description: "Its name." }),
    input: t.field({ type: "JSON", nullable: true, description: "The run's input.", resolve: (c) => c.input ?? null }),
    assertions: t.field({ type: [TestAssertionRef], description: "What the run must produce.", resolve: (c) => c.assertions }),
  }),
});

builder.objectField(WorkflowRef, "testCases", (t) =>
  t.field({
    type: [TestCaseRef],
    description: "The draft's test cases (ordered by id).",
    resolve: (workflow, _args, ctx) => listTestCases(ctx.deps, ctx.caller, workflow.id, ctx.liveReads),
  }),
);

export const TestCaseResultRef = builder.objectRef<TestCaseResult>("TestCaseResult").implement({
  description: "How one test case went.",
  fields: (t) => ({
    caseId: t.exposeID("caseId", { description: "The case." }),
    name: t.exposeString("name", { description: "Its name." }),
    runId: t.exposeID("runId", { nullable: true, description: "Its run (trigger test), with a trace." }),
    passed: t.exposeBoolean("passed", { description: "The run succeeded and every assertion held." }),
    failures: t.exposeStringList("failures", { description: "Why it failed, one line each; empty when it passed." }),
  }),
});

const RunTestCasesInputRef = builder.inputType("RunTestCasesInput", {
  description: "Which test cases to run.",
  fields: (t) => ({
    workflowId: t.id({ required: true, description: "The workflow (its live draft)." }),
    caseIds: t.idList({ description: "Only these cases; default every case." }),
  }),
});

builder.mutationField("runTestCases", (t) =>
  t.field({
    type: [TestCaseResultRef],
    description: "Runs the draft's test cases: one draft run per case (trigger test, pins not used), waits for them and checks their assertions.",
    args: { input: t.arg({ type: RunTestCasesInputRef, required: true, description: "The cases." }) },
    resolve: (_root, { input }, ctx) => runTestCases(ctx.deps, ctx.caller, input),
  }),
);
