/**
 * The trace of an ai.agent run in the built studio (R41, R42): the agent step's detail shows its nested
 * timeline — each model call with tokens and cost, each tool call with its name — and the totals. Real stack, real Chromium, the model a local Chat Completions
 * server (tests/worker/fakes.ts).
 */
import path from "node:path";
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { ok, gql } from "../support/api.js";
import { launchBrowser, recordConsoleErrors, signUpInBrowser, textOf, until, untilCount } from "../support/browser.js";
import { startTestStack } from "../support/stack.js";
import { startScriptedOpenAiServer } from "../worker/fakes.js";

const artifacts = path.resolve("tests/artifacts");
let stack: Stack;
let browser: Browser;
let page: Page;
let openai: Awaited<ReturnType<typeof startScriptedOpenAiServer>>;
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await buildStudioIfStale(process.cwd(), () => {});
  openai = await startScriptedOpenAiServer((_request, n) => {
    if (n === 1) return { content: "Checking the clock. ", toolCalls: [{ name: "current_time", arguments: {} }] };
    return { content: "It is time to ship the agent timeline today", usage: { prompt_tokens: 2000, completion_tokens: 300 } };
  });
  [stack, browser] = await Promise.all([startTestStack({ studio: true }), launchBrowser()]);
  page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  recordConsoleErrors(page, consoleErrors);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await openai?.close();
});

describe("ai.agent trace", () => {
  it("R41 R42: the agent step shows its model and tool calls with tokens, cost and latency, and the totals; Run.usage has them", async () => {
    const user = { name: "Agent Ada", email: `agent-ada-${Date.now()}@example.test`, password: "correct horse battery" };
    await signUpInBrowser(page, stack.url, user);
    const { logIn } = ok(await gql(stack.url, `mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email: user.email, password: user.password } }));
    const token = logIn.token as string;
    const { me } = ok(await gql(stack.url, `{ me { workspaces { id } } }`, {}, token));
    const workspaceId = me.workspaces[0].id as string;
    const { createCredential } = ok(
      await gql(
        stack.url,
        `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }`,
        { input: { workspaceId, name: "Local model", type: "openai", secret: { apiKey: "sk-test", baseURL: `${openai.url}/v1` } } },
        token,
      ),
    );
    const definition = {
      name: "Agent",
      steps: [
        { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
        {
          id: "agent",
          type: "ai.agent",
          name: "Planner",
          config: { credentialId: createCredential.id, model: "gpt-4o-mini", task: "What time is it?", tools: [{ kind: "builtin", name: "current_time" }] },
          position: { x: 260, y: 0 },
        },
      ],
      edges: [{ id: "e1", source: "start", target: "agent" }],
    };
    const { createWorkflow } = ok(
      await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId, name: "Agent", definition } }, token),
    );
    const { startRun } = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId: createWorkflow.id, input: {} } }, token));

    await page.goto(`${stack.url}/runs/${startRun.id}`);
    await until(page.getByTestId("trace-run-status"), textOf, "succeeded", 30_000);
    await page.reload(); // the loader's rows, with every sub-step's input and output
    await page.getByTestId("trace-step-agent").click();
    const timeline = page.getByTestId("agent-timeline");
    await timeline.waitFor();
    await untilCount(timeline.getByTestId("agent-call"), 3);
    const ids = await timeline.getByTestId("agent-call").evaluateAll((items) => items.map((item) => item.getAttribute("data-step-id")));
    expect(ids).toEqual(["agent/model-1", "agent/tool-1", "agent/model-2"]);
    const texts = await timeline.getByTestId("agent-call").allTextContents();
    expect(texts[0]).toMatch(/Model call 1 \(gpt-4o-mini\).*100 \+ 20 tokens · \$0\.000027.*asks for current_time/);
    expect(texts[1]).toMatch(/succeeded Tool call 1: current_time \(builtin\)/);
    expect(texts[2]).toMatch(/Model call 2 \(gpt-4o-mini\).*2000 \+ 300 tokens · \$0\.000480/);
    // 2100 prompt + 320 completion tokens: 2100 × 0.15 + 320 × 0.6 = 507 µUSD
    expect(await textOf(timeline.getByTestId("agent-totals"))).toBe("2 model calls · 1 tool calls · 2100 prompt + 320 completion tokens · $0.000507");
    // A call opens to its input and output.
    await timeline.getByTestId("agent-call").nth(1).locator("summary").first().click();
    expect(await timeline.getByRole("group", { name: "agent/tool-1 output" }).textContent()).toContain("utc");
    await page.screenshot({ path: path.join(artifacts, "run-trace-agent-timeline.png") });
    // The same totals through the API: Run.usage (R42).
    const { run } = ok(await gql(stack.url, `query($id: ID!) { run(id: $id) { usage { promptTokens completionTokens costUsd calls unpricedCalls } } }`, { id: startRun.id }, token));
    expect(run.usage).toEqual({ promptTokens: 2100, completionTokens: 320, costUsd: 0.000507, calls: 2, unpricedCalls: 0 });
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
