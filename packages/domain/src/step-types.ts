import { parse as parseJavaScript } from "acorn";
import jsonata from "jsonata";
import { z } from "zod";
import type { CredentialType } from "./credentials.js";

/**
 * The step-type registry: every step type's config schema and UI hints, in one explicit map.
 * Executors live in `worker/` and are registered there against the same type names.
 */

/**
 * A JSONata expression. It is parsed here, so a syntax error (a garbled expression, say) is a problem the
 * studio shows and that blocks starting a run, rather than a step that fails at run time.
 */
const Expression = z
  .string()
  .trim()
  .min(1, "Expression is required")
  .max(10_000, "Expression is at most 10000 characters")
  .superRefine((expression, context) => {
    if (!expression || expression.length > 10_000) return; // reported above
    try {
      jsonata(expression);
    } catch (error) {
      const { message, position } = error as { message?: string; position?: number };
      context.addIssue({ code: "custom", message: `Invalid expression: ${message ?? "syntax error"}${typeof position === "number" ? ` (at ${position})` : ""}` });
    }
  });
/**
 * A code step's body (R44): JavaScript (ES2023) with `input` and `steps` in scope, `return` giving the result and
 * `await` allowed. Parsed here with acorn — a parser only: nothing runs, and the studio needs no eval under its
 * CSP — so a syntax error shows at edit time with its line:column; the sandbox parses it again at run time.
 */
const CodeBody = z
  .string()
  .max(100_000, "Code is at most 100000 characters")
  .refine((code) => code.trim().length > 0, "Code is required")
  .superRefine((code, context) => {
    if (!code.trim() || code.length > 100_000) return; // reported above
    try {
      parseJavaScript(code, { ecmaVersion: 2023, sourceType: "script", allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true, locations: true });
    } catch (error) {
      const { message, loc } = error as { message?: string; loc?: { line: number; column: number } };
      // acorn appends "(line:column)" with a 0-based column; the sandbox's and editors' columns start at 1.
      const text = (message ?? "syntax error").replace(/ \(\d+:\d+\)$/, "");
      context.addIssue({ code: "custom", message: `Syntax error${loc ? ` at ${loc.line}:${loc.column + 1}` : ""}: ${text}` });
    }
  });
// Missing (a step just added) and empty (cleared) read the same to the person: pick one.
const CredentialRef = z.string({ error: "Choose a credential" }).min(1, "Choose a credential");
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;
/**
 * Per-step retry policy for retryable failures (timeouts, connection errors, 408/429/5xx). Absent fields take
 * the engine's defaults (docs/run-engine.md, R17): 3 attempts for steps whose side effects are "none" or
 * "idempotent", 1 for "at-most-once"; backoff 1000 ms, doubled per attempt, with jitter.
 */
export const RetryPolicy = z.object({
  maxAttempts: z.number().int().min(1).max(10).optional(),
  backoffMs: z.number().int().min(0).max(60_000).optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** An ai.agent tool's name, as the model calls it (OpenAI's function-name rule). */
const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "A tool name may contain letters, digits, '_' and '-' (at most 64)");
/** A tool's arguments as a JSON Schema object (sent to the model as the function's parameters). */
const ToolInputSchema = z.record(z.string(), z.unknown()).default({ type: "object", properties: {} });
/** The tools an ai.agent may call (R43). */
export const AgentTool = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("workflow"),
    name: ToolName,
    description: z.string().max(2_000).default(""),
    /** A workflow of the same workspace; a call runs its published version as a child run. */
    workflowId: z.string().trim().min(1, "Choose a workflow"),
    inputSchema: ToolInputSchema,
  }),
  z.object({
    kind: z.literal("http"),
    name: ToolName,
    description: z.string().max(2_000).default(""),
    method: z.enum(HTTP_METHODS).default("POST"),
    /** `{{ args.x }}` (the model's arguments), `{{ input.x }}`, `{{ steps.id.output.x }}` templates (R12). */
    url: z.string().trim().min(1, "URL is required").max(8192),
    headers: z.record(z.string(), z.string()).default({}),
    /** An `httpHeader` credential, as http.request's. */
    credentialId: z.string().min(1).optional(),
    inputSchema: ToolInputSchema,
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  }),
  z.object({
    kind: z.literal("builtin"),
    name: z.enum(["current_time", "jsonata"]),
    description: z.string().max(2_000).optional(),
  }),
]);
export type AgentTool = z.infer<typeof AgentTool>;

export type StepCategory = "trigger" | "action" | "logic";
/** How a step's side effects behave if a worker dies mid-step (see docs/run-engine.md). */
export type SideEffects = "none" | "idempotent" | "at-most-once";
/**
 * How the Y.Doc holds a config field people type into (docs/ydoc-layout.md, L5–L6): "text" is a Y.Text
 * while the value is a string; "textMap" is a Y.Map of name → Y.Text (header values); "textList" is an ordered
 * Y.Array of Y.Map items, each with a stable `id` and the item fields `textListFields` names as Y.Text (L11).
 */
export type TypedTextKind = "text" | "textMap" | "textList";

export interface StepTypeDefinition<Config extends z.ZodType = z.ZodType, Output extends z.ZodType = z.ZodType> {
  type: string;
  version: number;
  label: string;
  description: string;
  category: StepCategory;
  sideEffects: SideEffects;
  configSchema: Config;
  /**
   * What a succeeded step records as its output (its ledger row's `output`, what later steps see as
   * `steps.<id>.output`): the registry owns this shape, executors and engine handlers return it (R51).
   */
  outputSchema: Output;
  /** Config fields the studio edits as multi-line text (templates, expressions, bodies). */
  multilineFields?: readonly string[];
  /**
   * Config fields people type into, co-typed character by character (a Y.Text in the Y.Doc). Fields chosen
   * from a list (enums, credentials) and numbers are not here. The one place that says which fields are text.
   */
  typedText?: Readonly<Record<string, TypedTextKind>>;
  /** Config fields that are source code (among the typedText ones): the studio edits them in a code editor. */
  codeFields?: Readonly<Record<string, "javascript">>;
  /** For each "textList" field, the item fields people type (each a Y.Text in the item's Y.Map, L11). */
  textListFields?: Readonly<Record<string, readonly string[]>>;
  /** The credential type `config.credentialId` names (the studio offers those; static checks and the worker check it, R52). */
  credentialType?: CredentialType;
  /**
   * Config fields that are JSONata expressions (evaluated over `{ input, steps }`), as opposed to `{{ }}` templates:
   * the studio edits them in the expression editor. An item field of a "textList" is `<list>.<field>`.
   */
  expressionFields?: readonly string[];
}

function defineStepType<Config extends z.ZodType, Output extends z.ZodType>(definition: StepTypeDefinition<Config, Output>) {
  return definition;
}

/** Any JSON value whose shape the workflow decides (an input, an expression's value, a response body). */
const AnyJson = z.unknown();
/** An ISO 8601 timestamp as the engine writes it (`Date#toISOString`). */
const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, "An ISO 8601 UTC timestamp");
/** A trigger's output is the run's input, whatever JSON the caller sent (R4). */
const TriggerOutput = AnyJson.describe("The run's input");

/** Edge labels with a meaning of their own, so no switch case may use them. */
export const RESERVED_BRANCH_KEYS: readonly string[] = ["default", "error", "body"];

export const stepTypes = {
  "trigger.manual": defineStepType({
    type: "trigger.manual",
    version: 1,
    label: "Manual trigger",
    description: "Starts a run from the studio or the API with a JSON input.",
    category: "trigger",
    sideEffects: "none",
    outputSchema: TriggerOutput,
    configSchema: z.object({}).loose(),
  }),
  "trigger.webhook": defineStepType({
    type: "trigger.webhook",
    version: 1,
    label: "Webhook trigger",
    description: "Starts a run when POST /hooks/:workflowId/:secret is called.",
    category: "trigger",
    sideEffects: "none",
    outputSchema: TriggerOutput,
    configSchema: z.object({
      responseMode: z.enum(["immediate", "output"]).default("immediate"),
    }),
  }),
  "trigger.cron": defineStepType({
    type: "trigger.cron",
    version: 1,
    label: "Schedule trigger",
    description: "Starts a run on a cron schedule.",
    category: "trigger",
    sideEffects: "none",
    outputSchema: TriggerOutput,
    configSchema: z.object({
      cron: z
        .string()
        .trim()
        .regex(/^(\S+\s+){4,5}\S+$/, "Cron needs 5 or 6 space-separated fields, e.g. '*/5 * * * *'"),
      timezone: z.string().default("UTC"),
    }),
    typedText: { cron: "text", timezone: "text" },
  }),
  "http.request": defineStepType({
    type: "http.request",
    version: 1,
    label: "HTTP request",
    description: "Calls an HTTP endpoint; private addresses are refused unless allow-listed.",
    category: "action",
    credentialType: "httpHeader",
    sideEffects: "idempotent",
    outputSchema: z.object({
      status: z.number().int(),
      /** Response headers, names lower-cased. */
      headers: z.record(z.string(), z.string()),
      /** Parsed JSON when the response is JSON, else its text; null for HEAD. */
      body: AnyJson,
    }),
    configSchema: z.object({
      method: z.enum(HTTP_METHODS).default("GET"),
      url: z.string().trim().min(1, "URL is required").max(8192),
      headers: z.record(z.string(), z.string()).default({}),
      body: z.unknown().optional(),
      /** An `httpHeader` credential (e.g. Authorization), added at run time and redacted from the ledger. */
      credentialId: z.string().min(1).optional(),
      timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
      retry: RetryPolicy.optional(),
    }),
    multilineFields: ["body"],
    // A body is text while it is a string; a JSON body (object, array, number) stays a plain JSON value.
    typedText: { url: "text", headers: "textMap", body: "text" },
  }),
  "openai.chat": defineStepType({
    type: "openai.chat",
    version: 1,
    label: "OpenAI chat completion",
    description: "Calls a chat completion on OpenAI or any OpenAI-compatible server.",
    category: "action",
    credentialType: "openai",
    sideEffects: "idempotent",
    outputSchema: z.object({
      content: z.string(),
      /** Only in JSON mode: the content parsed. */
      json: AnyJson.optional(),
      model: z.string(),
      finishReason: z.string().nullable(),
      usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }).nullable(),
    }),
    configSchema: z.object({
      credentialId: CredentialRef,
      model: z.string().trim().min(1, "Model is required").default("gpt-4o-mini"),
      messages: z
        .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().max(100_000) }))
        .min(1, "At least one message is required"),
      temperature: z.number().min(0).max(2).optional(),
      jsonMode: z.boolean().default(false),
      /** The whole completion, streaming included; the engine's default (120 s) when absent. */
      timeoutMs: z.number().int().min(1_000).max(600_000).optional(),
      retry: RetryPolicy.optional(),
    }),
    // messages: collaborative prompts (Y.Array of Y.Map { role, content: Y.XmlFragment }), see ydoc.ts.
    typedText: { model: "text" },
  }),
  "email.postmark": defineStepType({
    type: "email.postmark",
    version: 1,
    label: "Postmark email",
    description: "Sends an email through Postmark.",
    category: "action",
    credentialType: "postmark",
    sideEffects: "at-most-once",
    outputSchema: z.object({
      messageId: z.string(),
      to: z.string(),
      submittedAt: z.string(),
      /** Postmark's ErrorCode: 0 when accepted. */
      errorCode: z.number().int(),
      message: z.string(),
    }),
    configSchema: z
      .object({
        credentialId: CredentialRef,
        from: z.string().trim().min(3, "From is required"),
        to: z.string().trim().min(3, "To is required"),
        subject: z.string().min(1, "Subject is required").max(2000),
        textBody: z.string().max(500_000).optional(),
        htmlBody: z.string().max(500_000).optional(),
        messageStream: z.string().optional(),
        /** The engine's default (30 s) when absent. A send that times out has an unknown outcome. */
        timeoutMs: z.number().int().min(1_000).max(120_000).optional(),
        retry: RetryPolicy.optional(),
      })
      .refine((c) => c.textBody || c.htmlBody, { message: "Give a text or an HTML body", path: ["textBody"] }),
    multilineFields: ["textBody", "htmlBody"],
    typedText: { from: "text", to: "text", subject: "text", textBody: "text", htmlBody: "text", messageStream: "text" },
  }),
  transform: defineStepType({
    type: "transform",
    version: 1,
    label: "Transform",
    description: "Computes a value with an expression over the input and earlier steps' outputs.",
    category: "logic",
    sideEffects: "none",
    outputSchema: AnyJson.describe("The expression's value"),
    configSchema: z.object({ expression: Expression }),
    multilineFields: ["expression"],
    typedText: { expression: "text" },
    expressionFields: ["expression"],
  }),
  condition: defineStepType({
    type: "condition",
    version: 1,
    label: "Condition",
    description: "Follows the edges labelled true or false depending on an expression.",
    category: "logic",
    sideEffects: "none",
    // value: absent when the expression matches nothing (JSONata undefined).
    outputSchema: z.object({ result: z.boolean(), value: AnyJson.describe("The expression's value").optional() }),
    configSchema: z.object({ expression: Expression }),
    multilineFields: ["expression"],
    typedText: { expression: "text" },
    expressionFields: ["expression"],
  }),
  delay: defineStepType({
    type: "delay",
    version: 1,
    label: "Delay",
    description: "Waits before the next steps run, without holding a worker.",
    category: "logic",
    sideEffects: "none",
    outputSchema: z.object({ waitedMs: z.number().int().min(0), resumeAt: Timestamp }),
    configSchema: z.object({ durationMs: z.number().int().min(0).max(30 * 24 * 3600 * 1000).default(1000) }),
  }),
  code: defineStepType({
    type: "code",
    version: 1,
    label: "Code",
    description: "Runs JavaScript in a sandbox over the input and earlier steps' outputs; what it returns (JSON) is the output.",
    category: "logic",
    sideEffects: "none",
    outputSchema: z.object({
      result: AnyJson.describe("What the code returned (JSON)"),
      logs: z.array(z.object({ level: z.enum(["log", "info", "warn", "error", "debug"]), message: z.string() })),
    }),
    configSchema: z.object({
      code: CodeBody,
      /** The step's time budget (R19, R45): the code is stopped before it and the step fails, not retried. */
      timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
      /** The sandbox's heap (R45). */
      memoryLimitMb: z.number().int().min(8).max(256).default(64),
    }),
    multilineFields: ["code"],
    typedText: { code: "text" },
    codeFields: { code: "javascript" },
  }),
  "workflow.call": defineStepType({
    type: "workflow.call",
    version: 1,
    label: "Call workflow",
    description: "Runs another workflow's published version as a child run and waits for its output, without holding a worker.",
    category: "logic",
    // The child run's id is derived from the parent run and step: a repeated start finds the child it started (R30).
    sideEffects: "idempotent",
    outputSchema: z.union([
      z.object({ runId: z.string() }).describe("waitForCompletion false: the child run started"),
      z.record(z.string(), AnyJson).nullable().describe("The child run's output (its sink steps' outputs by step id)"),
    ]),
    configSchema: z.object({
      /** A workflow of the same workspace; it runs its published version. */
      workflowId: z.string().trim().min(1, "Choose a workflow"),
      /** The child run's input: an expression over `{ input, steps }` (default: this run's input). */
      input: Expression.default("input"),
      /** false: start the child and go on at once (output `{ runId }`). */
      waitForCompletion: z.boolean().default(true),
    }),
    multilineFields: ["input"],
    typedText: { input: "text" },
    expressionFields: ["input"],
  }),
  approval: defineStepType({
    type: "approval",
    version: 1,
    label: "Approval",
    description: "Pauses the run, without holding a worker, until a person approves or rejects (studio, API or a signed link).",
    category: "logic",
    // The approval's row and its waiting ledger row are one statement (R33): nothing happens twice.
    sideEffects: "idempotent",
    outputSchema: z.object({
      decision: z.enum(["approved", "rejected"]),
      comment: z.string().nullable(),
      /** The JSON given with the decision (resumeRun data), or null. */
      data: AnyJson,
      /** null for a decision by signed URL or by timeout. */
      decidedBy: z.object({ id: z.string(), name: z.string() }).nullable(),
      decidedVia: z.enum(["user", "link", "timeout"]),
      decidedAt: Timestamp,
    }),
    configSchema: z.object({
      title: z.string().trim().min(1, "Title is required").max(200),
      instructions: z.string().max(10_000).default(""),
      /** Without a decision by then, `timeoutDecision` is taken (decidedVia "timeout"). */
      timeoutMs: z.number().int().min(1_000).max(30 * 24 * 3600 * 1000).optional(),
      timeoutDecision: z.enum(["approve", "reject"]).default("reject"),
      /** Who may decide in the studio and API: the workflow's editors (and owners). The signed URL works for whoever holds it. */
      approvers: z.enum(["editors"]).default("editors"),
    }),
    multilineFields: ["instructions"],
    typedText: { title: "text", instructions: "text" },
  }),
  "ai.agent": defineStepType({
    type: "ai.agent",
    version: 1,
    label: "AI agent",
    description: "Lets an OpenAI model call tools (workflows, HTTP endpoints, built-ins) in a loop until it answers the task.",
    category: "action",
    // Each model call and tool call is a durable sub-step (R41): a re-delivery goes on after the last completed
    // one; an interrupted HTTP tool call is repeated with its own Idempotency-Key.
    credentialType: "openai",
    sideEffects: "idempotent",
    outputSchema: z.object({
      /** The final answer's text. */
      content: z.string(),
      /** Only with the config's outputSchema: the answer parsed, satisfying it (R40). */
      json: AnyJson.optional(),
      usage: z.object({
        promptTokens: z.number().int().min(0),
        completionTokens: z.number().int().min(0),
        costUsd: z.number().min(0),
        /** Model calls without a price in the table (their cost is not in costUsd, R42). */
        unpricedCalls: z.number().int().min(0),
      }),
      modelCalls: z.number().int().min(0),
      toolCalls: z.number().int().min(0),
      /** The sub-steps in order (R41): their ledger ids, under this step's. */
      calls: z.array(z.object({ id: z.string(), kind: z.enum(["model", "tool"]), name: z.string().optional(), status: z.enum(["succeeded", "failed"]) })),
    }),
    configSchema: z.object({
      credentialId: CredentialRef,
      model: z.string().trim().min(1, "Model is required").default("gpt-4o-mini"),
      systemPrompt: z.string().max(100_000).default(""),
      /** The task given to the model as the user's message; `{{ path }}` templates (R12). */
      task: z.string().trim().min(1, "Task is required").max(100_000),
      /** Model calls that may ask for tools; the answer must come by then (R40). */
      maxIterations: z.number().int().min(1).max(50).default(8),
      maxTokens: z.number().int().min(1).max(200_000).optional(),
      temperature: z.number().min(0).max(2).optional(),
      /** A JSON Schema the final answer (JSON) must satisfy; one repair call on a mismatch (R40). */
      outputSchema: z.record(z.string(), z.unknown()).optional(),
      tools: z
        .array(AgentTool)
        .max(64, "At most 64 tools")
        .default([])
        .superRefine((tools, context) => {
          // The model calls a tool by its name: two with one name would make the call ambiguous.
          const seen = new Set<string>();
          tools.forEach((tool, index) => {
            if (seen.has(tool.name)) context.addIssue({ code: "custom", path: [index, "name"], message: `Two tools are named "${tool.name}"` });
            seen.add(tool.name);
          });
        }),
      /** Per model call: the default (120 s) when absent. */
      timeoutMs: z.number().int().min(1_000).max(600_000).optional(),
      /** Attempts per model call on 408/429/5xx (Retry-After honoured) and per HTTP tool call on a retryable error. */
      retry: RetryPolicy.optional(),
    }),
    multilineFields: ["systemPrompt", "task"],
    typedText: { model: "text", systemPrompt: "text", task: "text" },
  }),
  loop: defineStepType({
    type: "loop",
    version: 1,
    label: "Loop",
    description: "Runs the steps of its body (the edge labelled body and what follows it) once per item of an array.",
    category: "logic",
    // The loop records nothing outside its body's steps, which carry their own side effects (R25).
    sideEffects: "none",
    outputSchema: z
      .array(AnyJson)
      .describe("Per item, in order: its one sink step's output, or its sinks' outputs by step id; { error } for a failed item with onItemError continue"),
    configSchema: z.object({
      /** JSONata giving the array; null or nothing is no items, any other single value is one item. */
      items: Expression,
      concurrency: z.number().int().min(1, "At least 1").max(20, "At most 20").default(1),
      maxItems: z.number().int().min(1, "At least 1").max(10_000, "At most 10000").default(1000),
      /** "fail": an item's failure fails the loop; "continue": its place in the output is `{ error }`. */
      onItemError: z.enum(["fail", "continue"]).default("fail"),
    }),
    multilineFields: ["items"],
    typedText: { items: "text" },
    expressionFields: ["items"],
  }),
  switch: defineStepType({
    type: "switch",
    version: 1,
    label: "Switch",
    description: "Follows the edges labelled with the first case whose expression is true, else those labelled default.",
    category: "logic",
    sideEffects: "none",
    outputSchema: z.object({
      /** The matching case's key, or "default". */
      branch: z.string(),
      /** The matching expression's value (absent for default). */
      value: AnyJson.optional(),
    }),
    configSchema: z.object({
      cases: z
        .array(
          z.object({
            key: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/, "A case key is 1–64 letters, digits, '_' or '-'")
              .refine((key) => !RESERVED_BRANCH_KEYS.includes(key), { message: `A case key cannot be ${RESERVED_BRANCH_KEYS.join(", ")}` }),
            expression: Expression,
          }),
        )
        .min(1, "At least one case")
        .max(50, "At most 50 cases")
        .superRefine((cases, context) => {
          const seen = new Set<string>();
          cases.forEach((entry, index) => {
            if (seen.has(entry.key)) context.addIssue({ code: "custom", path: [index, "key"], message: `Two cases share the key "${entry.key}"` });
            seen.add(entry.key);
          });
        }),
    }),
    // Each case's key and expression are co-typed; the cases are an ordered list of items with stable ids (L11).
    typedText: { cases: "textList" },
    textListFields: { cases: ["key", "expression"] },
    expressionFields: ["cases.expression"],
  }),
} as const satisfies Record<string, StepTypeDefinition>;

export type StepType = keyof typeof stepTypes;
export type StepConfig<T extends StepType> = z.output<(typeof stepTypes)[T]["configSchema"]>;
/** What a succeeded step of type T records as its output (`steps.<id>.output`), from the registry (R51). */
export type StepOutput<T extends StepType> = z.output<(typeof stepTypes)[T]["outputSchema"]>;
export const STEP_TYPE_NAMES = Object.keys(stepTypes) as StepType[];

export function isStepType(type: string): type is StepType {
  return Object.hasOwn(stepTypes, type);
}

/** How a config field of this step type is co-typed, or null when it is not text people type. */
export function typedTextKind(type: unknown, key: string): TypedTextKind | null {
  if (typeof type !== "string" || !isStepType(type)) return null;
  const fields: Readonly<Record<string, TypedTextKind>> | undefined = stepTypes[type].typedText;
  return fields && Object.hasOwn(fields, key) ? fields[key]! : null;
}

/** The item fields people type in a "textList" config field (L11), or [] when it is not one. */
export function textListFields(type: unknown, key: string): readonly string[] {
  if (typedTextKind(type, key) !== "textList") return [];
  const lists: Readonly<Record<string, readonly string[]>> | undefined = stepTypes[type as StepType].textListFields;
  return lists?.[key] ?? [];
}

/** Whether a config field (`key`, or `key.itemField` in a "textList") is a JSONata expression rather than a template. */
export function isExpressionField(type: unknown, field: string): boolean {
  if (typeof type !== "string" || !isStepType(type)) return false;
  const fields: readonly string[] | undefined = stepTypes[type].expressionFields;
  return !!fields?.includes(field);
}

/** The language of a config field that is source code (edited in a code editor), or null. */
export function codeFieldLanguage(type: unknown, key: string): "javascript" | null {
  if (typeof type !== "string" || !isStepType(type)) return null;
  const fields: Readonly<Record<string, "javascript">> | undefined = stepTypes[type].codeFields;
  return fields && Object.hasOwn(fields, key) ? fields[key]! : null;
}

export function isTriggerType(type: string): boolean {
  return isStepType(type) && stepTypes[type].category === "trigger";
}

/** Parses a step's config against its type, with defaults applied. Throws ZodError when invalid. */
export function parseStepConfig<T extends StepType>(type: T, config: unknown): StepConfig<T> {
  return stepTypes[type].configSchema.parse(config) as StepConfig<T>;
}

/** The config schema as JSON Schema, for API consumers and the studio's generated forms. */
export function stepConfigJsonSchema(type: StepType): Record<string, unknown> {
  return z.toJSONSchema(stepTypes[type].configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/**
 * The output schema as JSON Schema (R51): what a succeeded step's ledger row holds. Objects the engine builds are
 * closed (additionalProperties false), so a field an executor adds or drops shows as a mismatch.
 */
export function stepOutputJsonSchema(type: StepType): Record<string, unknown> {
  return z.toJSONSchema(stepTypes[type].outputSchema, { io: "output", unrepresentable: "any" }) as Record<string, unknown>;
}

/**
 * The step library's view of a step type (UI hints, issue #17): which palette group it sits in, its icon and
 * the words a search for it should also match. Keyed by type with `satisfies`, so a new step type without hints
 * fails the type-check. The studio draws the icons (its icon set names them); the words here are the one list.
 */
export type StepPaletteGroup = "Triggers" | "AI" | "Integrations" | "Flow control" | "Data";
export const STEP_PALETTE_GROUPS: readonly StepPaletteGroup[] = ["Triggers", "AI", "Integrations", "Flow control", "Data"];
export type StepIcon =
  | "play" | "webhook" | "clock" | "globe" | "sparkles" | "mail" | "braces" | "branch" | "hourglass" | "code"
  | "workflow" | "check-circle" | "bot" | "repeat" | "switch";
export interface StepUiHints {
  group: StepPaletteGroup;
  icon: StepIcon;
  /** Other words people search for (synonyms, product names); the label and description match anyway. */
  keywords: readonly string[];
}
export const STEP_UI_HINTS = {
  "trigger.manual": { group: "Triggers", icon: "play", keywords: ["start", "button", "run", "input"] },
  "trigger.webhook": { group: "Triggers", icon: "webhook", keywords: ["http", "post", "hook", "callback", "api"] },
  "trigger.cron": { group: "Triggers", icon: "clock", keywords: ["schedule", "cron", "timer", "every", "daily", "interval"] },
  "http.request": { group: "Integrations", icon: "globe", keywords: ["api", "rest", "fetch", "get", "post", "url", "curl", "slack"] },
  "openai.chat": { group: "AI", icon: "sparkles", keywords: ["llm", "gpt", "chat", "prompt", "summarise", "summarize", "model"] },
  "email.postmark": { group: "Integrations", icon: "mail", keywords: ["email", "mail", "send", "smtp", "notify"] },
  transform: { group: "Data", icon: "braces", keywords: ["jsonata", "map", "set", "expression", "data", "edit fields"] },
  condition: { group: "Flow control", icon: "branch", keywords: ["if", "else", "branch", "filter", "true", "false"] },
  delay: { group: "Flow control", icon: "hourglass", keywords: ["wait", "sleep", "pause", "timer"] },
  code: { group: "Data", icon: "code", keywords: ["javascript", "js", "script", "function"] },
  "workflow.call": { group: "Flow control", icon: "workflow", keywords: ["sub-workflow", "subworkflow", "child", "execute workflow"] },
  approval: { group: "Flow control", icon: "check-circle", keywords: ["human", "review", "approve", "reject", "manual", "wait"] },
  "ai.agent": { group: "AI", icon: "bot", keywords: ["agent", "tools", "llm", "gpt", "assistant", "function calling"] },
  loop: { group: "Flow control", icon: "repeat", keywords: ["for each", "foreach", "iterate", "items", "array", "batch"] },
  switch: { group: "Flow control", icon: "switch", keywords: ["case", "route", "router", "branch", "match"] },
} as const satisfies Record<StepType, StepUiHints>;

/** A step type's library hints; an unknown type (a document from a newer studio) sits in Data with a generic icon. */
export function stepUiHints(type: string): StepUiHints {
  return isStepType(type) ? STEP_UI_HINTS[type] : { group: "Data", icon: "braces", keywords: [] };
}
