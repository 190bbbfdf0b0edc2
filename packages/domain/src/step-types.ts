import jsonata from "jsonata";
import { z } from "zod";

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
const CredentialRef = z.string().min(1, "Choose a credential");
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

export type StepCategory = "trigger" | "action" | "logic";
/** How a step's side effects behave if a worker dies mid-step (see docs/run-engine.md). */
export type SideEffects = "none" | "idempotent" | "at-most-once";
/**
 * How the Y.Doc holds a config field people type into (docs/ydoc-layout.md, L5–L6): "text" is a Y.Text
 * while the value is a string; "textMap" is a Y.Map of name → Y.Text (header values).
 */
export type TypedTextKind = "text" | "textMap";

export interface StepTypeDefinition<Config extends z.ZodType = z.ZodType> {
  type: string;
  version: number;
  label: string;
  description: string;
  category: StepCategory;
  sideEffects: SideEffects;
  configSchema: Config;
  /** Config fields the studio edits as multi-line text (templates, expressions, bodies). */
  multilineFields?: readonly string[];
  /**
   * Config fields people type into, co-typed character by character (a Y.Text in the Y.Doc). Fields chosen
   * from a list (enums, credentials) and numbers are not here. The one place that says which fields are text.
   */
  typedText?: Readonly<Record<string, TypedTextKind>>;
}

function defineStepType<Config extends z.ZodType>(definition: StepTypeDefinition<Config>) {
  return definition;
}

export const stepTypes = {
  "trigger.manual": defineStepType({
    type: "trigger.manual",
    version: 1,
    label: "Manual trigger",
    description: "Starts a run from the studio or the API with a JSON input.",
    category: "trigger",
    sideEffects: "none",
    configSchema: z.object({}).loose(),
  }),
  "trigger.webhook": defineStepType({
    type: "trigger.webhook",
    version: 1,
    label: "Webhook trigger",
    description: "Starts a run when POST /hooks/:workflowId/:secret is called.",
    category: "trigger",
    sideEffects: "none",
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
    sideEffects: "idempotent",
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
    sideEffects: "idempotent",
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
    sideEffects: "at-most-once",
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
    configSchema: z.object({ expression: Expression }),
    multilineFields: ["expression"],
    typedText: { expression: "text" },
  }),
  condition: defineStepType({
    type: "condition",
    version: 1,
    label: "Condition",
    description: "Follows the edges labelled true or false depending on an expression.",
    category: "logic",
    sideEffects: "none",
    configSchema: z.object({ expression: Expression }),
    multilineFields: ["expression"],
    typedText: { expression: "text" },
  }),
  delay: defineStepType({
    type: "delay",
    version: 1,
    label: "Delay",
    description: "Waits before the next steps run, without holding a worker.",
    category: "logic",
    sideEffects: "none",
    configSchema: z.object({ durationMs: z.number().int().min(0).max(30 * 24 * 3600 * 1000).default(1000) }),
  }),
} as const satisfies Record<string, StepTypeDefinition>;

export type StepType = keyof typeof stepTypes;
export type StepConfig<T extends StepType> = z.output<(typeof stepTypes)[T]["configSchema"]>;
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
