/**
 * The templates gallery (issue #17): ready-made workflows people start from. Each is a plain definition that
 * parses and passes validateDefinition except for "Choose a credential" on steps that need one (the user picks
 * their own). Steps are laid out left to right, branches above and below, so the canvas reads without Tidy up.
 */
import type { CredentialType } from "./credentials.js";
import { WorkflowDefinition, type WorkflowDefinitionInput } from "./definition.js";
import { isStepType, stepTypes } from "./step-types.js";

export type TemplateCategory = "Notifications" | "AI" | "Approvals" | "Monitoring" | "Data";
export const TEMPLATE_CATEGORIES: readonly TemplateCategory[] = ["Notifications", "AI", "Approvals", "Monitoring", "Data"];

export interface WorkflowTemplate {
  /** Stable, kebab-case: what the API and the studio's "Use template" name. */
  id: string;
  title: string;
  /** One line for the gallery card. */
  description: string;
  category: TemplateCategory;
  /** The credential types its steps need before it can run (from the registry, in step order). */
  credentialTypes: CredentialType[];
  definition: WorkflowDefinition;
}

/** Horizontal and vertical spacing of the layout (a step node is about 220 × 70 on the canvas). */
const COLUMN = 280;
const ROW = 150;
const at = (column: number, row = 0) => ({ x: column * COLUMN, y: row * ROW });

type StepInput = NonNullable<WorkflowDefinitionInput["steps"]>[number];
/** A step whose id is its key, so expressions read `steps.<key>` and the API shows the same name. */
const step = (key: string, type: string, name: string, config: Record<string, unknown>, position: { x: number; y: number }, extra: Partial<StepInput> = {}): StepInput => ({
  id: key,
  key,
  type,
  name,
  config,
  position,
  ...extra,
});
const edge = (source: string, target: string, label?: string) => ({ id: `${source}-${label ?? "to"}-${target}`, source, target, ...(label && { label }) });
/** Edges along a straight path: chain("a", "b", "c") is a → b → c. */
const chain = (...keys: string[]) => keys.slice(1).map((target, i) => edge(keys[i]!, target));

/** Triggers start the flow, in the first column. */
const webhookTrigger = (key: string, name: string, responseMode: "immediate" | "output") => step(key, "trigger.webhook", name, { responseMode }, at(0));
const manualTrigger = (key: string, name: string) => step(key, "trigger.manual", name, {}, at(0));

/** Left empty on purpose: the user picks their own credential, and the step shows "Choose a credential" until then. */
const CHOOSE_CREDENTIAL = { credentialId: "" };
/** http.request configs for a JSON API. */
const postJson = (url: string, body: unknown, extra: Record<string, unknown> = {}) => ({ method: "POST", url, headers: { "Content-Type": "application/json" }, body, ...extra });
const getJson = (url: string, extra: Record<string, unknown> = {}) => ({ method: "GET", url, headers: { Accept: "application/json" }, ...extra });
/** Where a Slack-compatible incoming webhook URL goes (the user pastes theirs). */
const CHAT_WEBHOOK_URL = "https://hooks.slack.com/services/YOUR/WEBHOOK/URL";

/** Which credential types a definition still needs: those whose step says "Choose a credential" (the registry's schema). */
function neededCredentialTypes(definition: WorkflowDefinition): CredentialType[] {
  const types: CredentialType[] = [];
  for (const s of definition.steps) {
    if (!isStepType(s.type)) continue;
    const type = (stepTypes[s.type] as { credentialType?: CredentialType }).credentialType;
    if (!type || types.includes(type)) continue;
    const parsed = stepTypes[s.type].configSchema.safeParse(s.config);
    if (!parsed.success && parsed.error.issues.some((issue) => issue.path[0] === "credentialId")) types.push(type);
  }
  return types;
}

/** A template: its definition is named after its title (the created workflow's name). */
function template(meta: Omit<WorkflowTemplate, "definition" | "credentialTypes">, definition: Omit<WorkflowDefinitionInput, "name">): WorkflowTemplate {
  const parsed = WorkflowDefinition.parse({ ...definition, name: meta.title });
  return { ...meta, credentialTypes: neededCredentialTypes(parsed), definition: parsed };
}

const webhookToChat = template(
  { id: "webhook-to-chat", title: "Post new signups to a chat channel", description: "Receive a webhook, format a message and post it to a Slack-style incoming webhook.", category: "Notifications" },
  {
    description: "A webhook receives a signup ({ name, email, plan }); the message is formatted and posted to a Slack-compatible incoming webhook URL.",
    steps: [
      webhookTrigger("signup", "New signup", "immediate"),
      step("format_message", "transform", "Format message", { expression: '{ "text": ":tada: New signup: " & input.name & " <" & input.email & "> on the " & (input.plan ? input.plan : "free") & " plan" }' }, at(1)),
      step("post_to_channel", "http.request", "Post to channel", postJson(CHAT_WEBHOOK_URL, "{{ steps.format_message.output }}"), at(2)),
    ],
    edges: chain("signup", "format_message", "post_to_channel"),
  },
);

const llmSummarise = template(
  { id: "llm-summarise", title: "Summarise text with an LLM", description: "Send a webhook payload to an OpenAI model and get a three-bullet summary back.", category: "AI" },
  {
    description: "POST { title, text } to the webhook; the model answers with a short summary, returned as the webhook's response.",
    steps: [
      webhookTrigger("document", "Document received", "output"),
      step(
        "summarise",
        "openai.chat",
        "Summarise",
        {
          ...CHOOSE_CREDENTIAL,
          model: "gpt-4o-mini",
          temperature: 0.2,
          messages: [
            { role: "system", content: "You summarise documents for busy readers. Answer with exactly three short bullet points." },
            { role: "user", content: "Title: {{ input.title }}\n\n{{ input.text }}" },
          ],
        },
        at(1),
      ),
      step("result", "transform", "Shape the answer", { expression: '{ "title": input.title, "summary": steps.summarise.output.content, "tokens": steps.summarise.output.usage.total_tokens }' }, at(2)),
    ],
    edges: chain("document", "summarise", "result"),
  },
);

const expenseApproval = template(
  { id: "expense-approval", title: "Expense approval", description: "Pause for a person to approve an expense, then pay it or email the requester.", category: "Approvals" },
  {
    description: "A webhook submits an expense ({ amount, currency, reason, requesterEmail }); an editor approves or rejects it. Approved ones are sent to the payments API, rejected ones get an email.",
    steps: [
      webhookTrigger("expense", "Expense submitted", "immediate"),
      step(
        "review",
        "approval",
        "Review expense",
        { title: "Approve this expense?", instructions: "Check the amount and the reason in the run's input, then approve or reject. Without a decision in 3 days it is rejected.", timeoutMs: 3 * 24 * 3600 * 1000, timeoutDecision: "reject" },
        at(1),
      ),
      step("approved", "condition", "Approved?", { expression: 'steps.review.output.decision = "approved"' }, at(2)),
      step(
        "record_payment",
        "http.request",
        "Record payment",
        postJson("https://payments.example.com/api/expenses", { amount: "{{ input.amount }}", currency: "{{ input.currency }}", reason: "{{ input.reason }}", approvedBy: "{{ steps.review.output.decidedBy.name }}" }),
        at(3, -0.6),
      ),
      step(
        "notify_rejection",
        "email.postmark",
        "Email the requester",
        { ...CHOOSE_CREDENTIAL, from: "finance@example.com", to: "{{ input.requesterEmail }}", subject: "Your expense was not approved", textBody: "Your expense of {{ input.amount }} {{ input.currency }} for \"{{ input.reason }}\" was rejected.\n\nComment: {{ steps.review.output.comment }}" },
        at(3, 0.6),
      ),
    ],
    edges: [...chain("expense", "review", "approved"), edge("approved", "record_payment", "true"), edge("approved", "notify_rejection", "false")],
  },
);

const statusMonitor = template(
  { id: "scheduled-status-check", title: "Scheduled status check", description: "Every weekday at 9:00, fetch a status page and email when something is degraded.", category: "Monitoring" },
  {
    description: "A schedule fetches GitHub's status API; when its indicator is not \"none\", an alert email goes out.",
    steps: [
      step("every_morning", "trigger.cron", "Weekdays at 9:00", { cron: "0 9 * * 1-5", timezone: "UTC" }, at(0)),
      step("fetch_status", "http.request", "Fetch status", getJson("https://www.githubstatus.com/api/v2/status.json", { timeoutMs: 10_000 }), at(1)),
      step("is_degraded", "condition", "Degraded?", { expression: 'steps.fetch_status.output.body.status.indicator != "none"' }, at(2)),
      step(
        "send_alert",
        "email.postmark",
        "Send alert",
        { ...CHOOSE_CREDENTIAL, from: "alerts@example.com", to: "oncall@example.com", subject: "GitHub status: {{ steps.fetch_status.output.body.status.description }}", textBody: "The status page reports \"{{ steps.fetch_status.output.body.status.description }}\" (indicator {{ steps.fetch_status.output.body.status.indicator }}).\n\nhttps://www.githubstatus.com" },
        at(3),
      ),
    ],
    edges: [...chain("every_morning", "fetch_status", "is_degraded"), edge("is_degraded", "send_alert", "true")],
  },
);

const weatherAgent = template(
  { id: "agent-with-http-tool", title: "AI agent with an HTTP tool", description: "An agent that calls a weather API as a tool to answer a travel question.", category: "AI" },
  {
    description: "Run it with { \"question\": \"Do I need an umbrella in Lisbon tomorrow?\" }. The agent calls the Open-Meteo forecast API as a tool and answers.",
    steps: [
      manualTrigger("ask", "Question"),
      step(
        "travel_agent",
        "ai.agent",
        "Travel assistant",
        {
          ...CHOOSE_CREDENTIAL,
          model: "gpt-4o-mini",
          systemPrompt: "You are a concise travel assistant. Use the forecast tool for any weather question; give temperatures in °C.",
          task: "{{ input.question }}",
          maxIterations: 6,
          tools: [
            {
              kind: "http",
              name: "get_forecast",
              description: "Daily weather forecast for a place, by latitude and longitude.",
              method: "GET",
              url: "https://api.open-meteo.com/v1/forecast?latitude={{ args.latitude }}&longitude={{ args.longitude }}&daily=temperature_2m_max,precipitation_probability_max&timezone=auto",
              inputSchema: { type: "object", properties: { latitude: { type: "number" }, longitude: { type: "number" } }, required: ["latitude", "longitude"] },
            },
            { kind: "builtin", name: "current_time" },
          ],
        },
        at(1),
      ),
      step("answer", "transform", "Answer", { expression: '{ "answer": steps.travel_agent.output.content, "toolCalls": steps.travel_agent.output.toolCalls }' }, at(2)),
    ],
    edges: chain("ask", "travel_agent", "answer"),
  },
);

const enrichEach = template(
  { id: "loop-over-items", title: "Enrich a list of records", description: "Loop over user ids, fetch each user from an API and collect the names and emails.", category: "Data" },
  {
    description: "Run it with { \"userIds\": [1, 2, 3] }. The loop fetches each user (3 at a time) and the last step collects them.",
    steps: [
      manualTrigger("start", "User ids"),
      step("each_user", "loop", "For each user", { items: "input.userIds", concurrency: 3, maxItems: 100, onItemError: "continue" }, at(1)),
      step("fetch_user", "http.request", "Fetch user", getJson("https://jsonplaceholder.typicode.com/users/{{ item }}"), at(2, 1)),
      step("collect", "transform", "Collect contacts", { expression: 'steps.each_user.output.{ "name": body.name, "email": body.email, "company": body.company.name }' }, at(2)),
    ],
    edges: [edge("start", "each_user"), edge("each_user", "fetch_user", "body"), edge("each_user", "collect")],
  },
);

const errorBranch = template(
  { id: "error-branch", title: "Handle API failures", description: "Call an API; if it fails, post the error to a chat channel instead of failing the run.", category: "Notifications" },
  {
    description: "The order is forwarded to the fulfilment API. The call branches on errors: a failure follows the error edge and reports it.",
    steps: [
      webhookTrigger("order", "Order placed", "immediate"),
      step(
        "create_shipment",
        "http.request",
        "Create shipment",
        postJson("https://fulfilment.example.com/api/shipments", "{{ input }}", { retry: { maxAttempts: 3, backoffMs: 2000 } }),
        at(1),
        { onError: "branch" },
      ),
      step("shipment_created", "transform", "Shipment created", { expression: '{ "orderId": input.id, "shipmentId": steps.create_shipment.output.body.id }' }, at(2, -0.6)),
      step(
        "report_failure",
        "http.request",
        "Report failure",
        postJson(CHAT_WEBHOOK_URL, { text: ":warning: Shipment for order {{ input.id }} failed: {{ steps.create_shipment.output.error.message }}" }),
        at(2, 0.6),
      ),
    ],
    edges: [edge("order", "create_shipment"), edge("create_shipment", "shipment_created"), edge("create_shipment", "report_failure", "error")],
  },
);

const codeTransform = template(
  { id: "code-transform", title: "Clean up data with code", description: "Normalise an order list in JavaScript, then total it with an expression. No credentials needed.", category: "Data" },
  {
    description: "Run it with the sample input below. A code step trims and normalises each order; a transform totals them per currency.",
    steps: [
      manualTrigger("orders", "Orders"),
      step(
        "normalise",
        "code",
        "Normalise orders",
        {
          code: [
            "// input.orders: [{ id, customer, amount, currency }] — amounts may be strings like \"12.50\"",
            "const orders = Array.isArray(input.orders) ? input.orders : [];",
            "return orders.map((order) => ({",
            "  id: String(order.id),",
            "  customer: String(order.customer ?? \"\").trim().toLowerCase(),",
            "  amount: Math.round(Number(order.amount) * 100) / 100,",
            "  currency: String(order.currency ?? \"EUR\").toUpperCase(),",
            "}));",
          ].join("\n"),
        },
        at(1),
      ),
      step("totals", "transform", "Totals", { expression: '{ "count": $count(steps.normalise.output.result), "total": $sum(steps.normalise.output.result.amount), "customers": $distinct(steps.normalise.output.result.customer) }' }, at(2)),
    ],
    edges: chain("orders", "normalise", "totals"),
    testCases: [
      {
        id: "sample",
        name: "Sample orders",
        input: { orders: [{ id: 1, customer: " Ada@Example.com ", amount: "12.50", currency: "eur" }, { id: 2, customer: "grace@example.com", amount: 30, currency: "EUR" }] },
        assertions: [{ kind: "jsonata", stepId: "totals", expression: "value.total = 42.5 and value.count = 2" }],
      },
    ],
  },
);

/** The gallery, in the order it is shown. */
export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [webhookToChat, llmSummarise, expenseApproval, statusMonitor, weatherAgent, enrichEach, errorBranch, codeTransform];

export function findTemplate(id: string): WorkflowTemplate | undefined {
  return WORKFLOW_TEMPLATES.find((entry) => entry.id === id);
}
