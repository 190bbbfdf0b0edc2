/**
 * n8n exports → our definitions (packages/domain/src/import): node mapping per n8n node version, expression
 * translation (exact or reported, never guessed), and what is reported instead of dropped. Translated JSONata
 * is evaluated with jsonata itself against a run context, so a wrong translation fails here.
 */
import { readWorkflowImport, validateDefinition, type ImportProblem, type WorkflowDefinition } from "@algorythmos/domain";
import jsonata from "jsonata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toJsonata, toTemplate, translateJs, type ExpressionScope } from "../../packages/domain/src/import/n8n-expressions.js";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/n8n/${name}`, import.meta.url), "utf8"));
function imported(json: unknown): { definition: WorkflowDefinition; problems: ImportProblem[] } {
  const result = readWorkflowImport(json);
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result)}`);
  expect(result.format).toBe("n8n");
  return result;
}
const stepNamed = (definition: WorkflowDefinition, name: string) => definition.steps.find((step) => step.name === name)!;
const evaluate = (expression: string, context: unknown) => jsonata(expression).evaluate(context);

const scope: ExpressionScope = {
  input: () => ({ segments: ["steps", "fetch", "output", "body"] }),
  node: (name) => (name === "Webhook" ? { segments: ["steps", "webhook", "output"] } : null),
};

describe("expressions", () => {
  it.each([
    ["$json.total", "steps.fetch.output.body.total"],
    ['$json["order id"]', "steps.fetch.output.body.`order id`"],
    ["$json.items[0].sku", "steps.fetch.output.body.items[0].sku"],
    ["$('Webhook').item.json.body.email", "steps.webhook.output.body.email"],
    ['$node["Webhook"].json.query.page', "steps.webhook.output.query.page"],
    ["$input.first().json.total", "steps.fetch.output.body.total"],
    ["$json.total > 100 && $json.status === 'paid'", 'steps.fetch.output.body.total > 100 and steps.fetch.output.body.status = "paid"'],
    ["!$json.done || $json.count !== 0", "$not(steps.fetch.output.body.done) or steps.fetch.output.body.count != 0"],
    ["$json.vip ? 'high' : 'normal'", '(steps.fetch.output.body.vip ? "high" : "normal")'],
  ])("%s → %s", (code, expected) => {
    const result = translateJs(code, scope);
    expect(result).toMatchObject({ ok: true, text: expected });
  });

  it.each([
    ["$json.name.toUpperCase()", /method call/],
    ["$json.a + $json.b", /"\+"/],
    ["$json.a == 1", /loose equality/],
    ["$now.toISO()", /"\$now"/],
    ["$('Slack').item.json.ts", /no step was imported/],
    ["$input.all()", /several items/],
    ["`a${1}`", /template literal/],
  ])("%s is reported, not guessed", (code, reason) => {
    const result = translateJs(code, scope);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it("translated JSONata computes what the n8n expression computes", async () => {
    const context = { input: {}, steps: { fetch: { output: { body: { total: 250, status: "paid", name: "Ada", items: [{ sku: "A1" }] } } } } };
    const cases: [unknown, unknown][] = [
      ["={{ $json.total }}", 250],
      ["=Order for {{ $json.name }}: {{ $json.total }}", "Order for Ada: 250"],
      ["={{ $json.total > 100 && $json.status === 'paid' }}", true],
      ["={{ $json.items[0].sku }}", "A1"],
      ["={{ ($json.total - 50) * 2 }}", 400],
      ["plain text", "plain text"],
      [42, 42],
    ];
    for (const [value, expected] of cases) {
      const translated = toJsonata(value, scope);
      expect(translated.ok).toBe(true);
      expect(await evaluate((translated as { text: string }).text, context)).toEqual(expected);
    }
  });

  it("templates take plain paths only: interpolation is exact, computation is reported", () => {
    expect(toTemplate("=https://x.test/{{ $json.id }}/items?page={{ $('Webhook').item.json.query.page }}", scope)).toEqual({
      ok: true,
      exact: true,
      text: "https://x.test/{{ steps.fetch.output.body.id }}/items?page={{ steps.webhook.output.query.page }}",
    });
    expect(toTemplate("={{ $json.total > 1 }}", scope)).toMatchObject({ ok: false, reason: expect.stringMatching(/plain path/) });
  });
});

describe("formats", () => {
  it("JSON that only happens to have a name (a package.json) is not an empty workflow", () => {
    const result = readWorkflowImport(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")));
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^Unknown workflow JSON: expected/) });
    expect(readWorkflowImport({ name: "Just a name" })).toMatchObject({ ok: true, format: "algorythmos", definition: { name: "Just a name", steps: [] } });
  });
});

describe("nodes, by n8n version", () => {
  it("HTTP Request v1, IF v1 and Set v1 (keepOnlySet and merge) map with n8n's defaults", async () => {
    const { definition } = imported(fixture("orders-v1.json"));
    const fetch = stepNamed(definition, "Fetch order");
    expect(fetch.config).toEqual({
      method: "GET",
      url: "https://shop.example.com/api/orders/{{ steps.when_clicking_execute_workflow.output.orderId }}",
      headers: { Accept: "application/json", "X-Order": "{{ steps.when_clicking_execute_workflow.output.orderId }}" },
      timeoutMs: 15000,
    });
    const condition = String(stepNamed(definition, "Paid and large?").config.expression);
    const body = (value: unknown) => ({ input: {}, steps: { fetch_order: { output: { body: value } } } });
    expect(await evaluate(condition, body({ status: "paid", total: 150 }))).toBe(true);
    expect(await evaluate(condition, body({ status: "paid", total: 50 }))).toBe(false);
    expect(await evaluate(condition, body({ status: "open", total: 150 }))).toBe(false);
    // keepOnlySet: true → only the set fields; v1's default (false) keeps the input's fields too.
    const order = { status: "paid", total: 150, customer: { email: "a@x.test" }, orderId: 7 };
    expect(await evaluate(String(stepNamed(definition, "Mark priority").config.expression), body(order))).toEqual({ priority: "high", customer: "a@x.test", total: 150, vip: true });
    expect(await evaluate(String(stepNamed(definition, "Mark normal").config.expression), body(order))).toEqual({ ...order, priority: "normal" });
  });

  it("Webhook v2, IF v2 (case-insensitive, or), HTTP Request v4.2 JSON body, OpenAI, Wait v1.1 and Set v3.4", async () => {
    const { definition, problems } = imported(fixture("webhook-v2-http-v4.json"));
    expect(stepNamed(definition, "Webhook").config).toEqual({ responseMode: "output" });
    const qualified = String(stepNamed(definition, "Qualified?").config.expression);
    const hook = (body: unknown) => ({ input: {}, steps: { webhook: { output: { body, query: {}, headers: {} } } } });
    expect(await evaluate(qualified, hook({ email: "Ann@Example.COM", score: 1 }))).toBe(true);
    expect(await evaluate(qualified, hook({ email: "ann@other.test", score: 70 }))).toBe(true);
    expect(await evaluate(qualified, hook({ email: "ann@other.test", score: 10 }))).toBe(false);
    expect(definition.edges.filter((edge) => edge.source === "qualified").map((edge) => [edge.target, edge.label])).toEqual([
      ["create_lead", "true"],
      ["wait", "false"],
    ]);
    expect(stepNamed(definition, "Create lead").config).toMatchObject({
      method: "POST",
      body: { email: "{{ steps.webhook.output.body.email }}", score: "{{ steps.webhook.output.body.score }}" },
      headers: { "X-Source": "n8n" },
      timeoutMs: 20000,
    });
    expect(stepNamed(definition, "Welcome note").config).toMatchObject({
      model: "gpt-4o-mini",
      temperature: 0.2,
      messages: [
        { role: "system", content: "You write one-line welcome notes." },
        { role: "user", content: "Welcome {{ steps.webhook.output.body.name }} from {{ steps.webhook.output.body.company }}" },
      ],
    });
    expect(stepNamed(definition, "Wait").config).toEqual({ durationMs: 600_000 });
    // Set v3.4 after Wait: n8n's Wait passes the webhook's item on, so $json is still the webhook's output.
    const fields = await evaluate(String(stepNamed(definition, "Edit Fields").config.expression), hook({ email: "e@x.test" }));
    expect(fields).toMatchObject({ email: "e@x.test", status: "nurture", meta: { attempts: 1 }, tags: ["cold", "inbound"], body: { email: "e@x.test" } });
    expect(problems.find((problem) => problem.code === "CREDENTIAL_NOT_IMPORTED")).toMatchObject({ nodeName: "Welcome note", stepId: "welcome_note" });
    // The OpenAI step needs a credential chosen; every other config is valid for its step type.
    expect(validateDefinition(definition).map((problem) => [problem.code, problem.stepId])).toEqual([["INVALID_CONFIG", "welcome_note"]]);
  });

  it("Schedule Trigger v1.2, HTTP Request v3 query, Code as transform where expressible, sticky note into the description", () => {
    const { definition, problems } = imported(fixture("schedule-v1.2-http-v3.json"));
    expect(stepNamed(definition, "Schedule Trigger").config).toEqual({ cron: "0 6 * * 1-5", timezone: "Europe/Berlin" });
    expect(stepNamed(definition, "HTTP Request").config).toEqual({ method: "GET", url: "https://metrics.example.com/api/daily?range=24h" });
    expect(stepNamed(definition, "Code").config.expression).toBe('{"total": steps.http_request.output.body.total * 100, "label": steps.http_request.output.body.name}');
    expect(definition.description).toContain("Runs at 06:00 on weekdays.");
    expect(problems.find((problem) => problem.nodeName === "Filter rows")).toMatchObject({ code: "UNSUPPORTED_NODE", message: expect.stringMatching(/JavaScript in a Code node/) });
  });

  it("Webhook v1 (GET by default), Cron v1, interval schedules and a clipboard copy without a name", () => {
    const { definition, problems } = imported(fixture("webhook-v1-cron-clipboard.json"));
    expect(definition.name).toBe("Imported from n8n");
    expect(stepNamed(definition, "Cron").config).toEqual({ cron: "30 9 * * *", timezone: "UTC" });
    expect(stepNamed(definition, "Every 15 minutes").config).toEqual({ cron: "*/15 * * * *", timezone: "UTC" });
    expect(problems.filter((problem) => problem.nodeName === "Webhook").map((problem) => problem.parameter)).toEqual(["httpMethod", "path"]);
    expect(problems.find((problem) => problem.nodeName === "Notify")).toMatchObject({ code: "EXPRESSION_NOT_TRANSLATED", parameter: "bodyParametersJson" });
  });

  it("Edit Fields v3.4 raw JSON mode: n8n renders the text and parses it, and so does the transform", async () => {
    const { definition } = imported({
      nodes: [
        { name: "Start", type: "n8n-nodes-base.manualTrigger", typeVersion: 1, position: [0, 0], parameters: {} },
        {
          name: "Raw",
          type: "n8n-nodes-base.set",
          typeVersion: 3.4,
          position: [200, 0],
          parameters: { mode: "raw", jsonOutput: '={\n  "total": {{ $json.total }},\n  "who": "{{ $json.name }}"\n}', options: {} },
        },
      ],
      connections: { Start: { main: [[{ node: "Raw", type: "main", index: 0 }]] } },
    });
    const expression = String(stepNamed(definition, "Raw").config.expression);
    expect(await evaluate(expression, { input: {}, steps: { start: { output: { total: 250, name: "Ada" } } } })).toEqual({ total: 250, who: "Ada" });
  });

  it("every node is a step or a problem: nothing is dropped silently", () => {
    for (const name of ["orders-v1.json", "webhook-v2-http-v4.json", "schedule-v1.2-http-v3.json", "webhook-v1-cron-clipboard.json"]) {
      const source = fixture(name);
      const { definition, problems } = imported(source);
      for (const node of source.nodes as { name: string; type: string }[]) {
        const accounted =
          definition.steps.some((step) => step.name === node.name) ||
          problems.some((problem) => problem.nodeName === node.name && problem.code === "UNSUPPORTED_NODE") ||
          (node.type === "n8n-nodes-base.stickyNote" && definition.description.length > 0);
        expect(accounted, `${name}: ${node.name}`).toBe(true);
      }
    }
  });
});
