import { describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ZodError } from "zod";
import {
  isStepType,
  isTriggerType,
  parseStepConfig,
  STEP_TYPE_NAMES,
  stepConfigJsonSchema,
  stepOutputJsonSchema,
  stepTypes,
  type StepOutput,
  type StepType,
} from "@algorythmos/domain";

const EXPECTED_TYPES = [
  "trigger.manual",
  "trigger.webhook",
  "trigger.cron",
  "http.request",
  "openai.chat",
  "email.postmark",
  "transform",
  "condition",
  "delay",
  "loop",
  "switch",
  "workflow.call",
  "approval",
  "code",
  "ai.agent",
];

/** The messages of the ZodError that `fn` throws, as "path: message". */
function thrownIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ZodError);
    return (error as ZodError).issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`);
  }
  throw new Error("expected a ZodError, nothing was thrown");
}

describe("step-type registry", () => {
  it("holds exactly the fifteen step types, each keyed by its own type name", () => {
    expect([...STEP_TYPE_NAMES].sort()).toEqual([...EXPECTED_TYPES].sort());
    for (const name of STEP_TYPE_NAMES) {
      const definition = stepTypes[name];
      expect(definition.type).toBe(name);
      expect(definition.version).toBeGreaterThanOrEqual(1);
      expect(definition.label.length).toBeGreaterThan(0);
      expect(definition.description.length).toBeGreaterThan(0);
    }
  });

  it("the three trigger.* types are the triggers; the rest are not", () => {
    expect(STEP_TYPE_NAMES.filter(isTriggerType).sort()).toEqual(["trigger.cron", "trigger.manual", "trigger.webhook"]);
    expect(isTriggerType("trigger.unknown")).toBe(false);
  });

  it("isStepType accepts registered names only, not prototype keys", () => {
    for (const name of EXPECTED_TYPES) expect(isStepType(name)).toBe(true);
    for (const name of ["", "http", "toString", "__proto__", "constructor", "HTTP.REQUEST"]) expect(isStepType(name), name).toBe(false);
  });

  it("multiline fields name real config fields", () => {
    for (const name of STEP_TYPE_NAMES) {
      const definition = stepTypes[name] as { multilineFields?: readonly string[] };
      const properties = stepConfigJsonSchema(name).properties as Record<string, unknown>;
      for (const field of definition.multilineFields ?? []) expect(Object.keys(properties), `${name}.${field}`).toContain(field);
    }
  });
});

describe("parseStepConfig", () => {
  it("applies defaults", () => {
    expect(parseStepConfig("trigger.webhook", {})).toEqual({ responseMode: "immediate" });
    expect(parseStepConfig("trigger.cron", { cron: " */5 * * * * " })).toEqual({ cron: "*/5 * * * *", timezone: "UTC" });
    expect(parseStepConfig("http.request", { url: "https://example.com" })).toEqual({
      method: "GET",
      url: "https://example.com",
      headers: {},
      timeoutMs: 30_000,
    });
    expect(parseStepConfig("openai.chat", { credentialId: "cred_1", messages: [{ role: "user", content: "hi" }] })).toEqual({
      credentialId: "cred_1",
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      jsonMode: false,
    });
    expect(parseStepConfig("delay", {})).toEqual({ durationMs: 1000 });
  });

  it("keeps unknown fields of a manual trigger, strips them elsewhere", () => {
    expect(parseStepConfig("trigger.manual", { sample: { a: 1 } })).toEqual({ sample: { a: 1 } });
    expect(parseStepConfig("delay", { durationMs: 5, extra: true })).toEqual({ durationMs: 5 });
  });

  it("throws a ZodError whose messages name the field and what to do", () => {
    expect(thrownIssues(() => parseStepConfig("http.request", { url: "  " }))).toEqual(["url: URL is required"]);
    expect(thrownIssues(() => parseStepConfig("transform", { expression: "" }))).toEqual(["expression: Expression is required"]);
    expect(thrownIssues(() => parseStepConfig("trigger.cron", { cron: "* * *" }))).toEqual([
      "cron: Cron needs 5 or 6 space-separated fields, e.g. '*/5 * * * *'",
    ]);
    expect(
      thrownIssues(() => parseStepConfig("openai.chat", { credentialId: "", messages: [] })),
    ).toEqual(["credentialId: Choose a credential", "messages: At least one message is required"]);
    // A step added from the palette has no credentialId at all yet: the same message, not a type error.
    expect(thrownIssues(() => parseStepConfig("openai.chat", { messages: [{ role: "user", content: "hi" }] }))).toEqual(["credentialId: Choose a credential"]);
  });

  it("accepts 5- and 6-field cron expressions only", () => {
    expect(parseStepConfig("trigger.cron", { cron: "0 0 * * * *" }).cron).toBe("0 0 * * * *");
    expect(() => parseStepConfig("trigger.cron", { cron: "* * * *" })).toThrow(ZodError);
    expect(() => parseStepConfig("trigger.cron", { cron: "* * * * * * *" })).toThrow(ZodError);
  });

  it("bounds numbers: HTTP timeout 100ms..300s, delay 0..30 days, temperature 0..2", () => {
    expect(thrownIssues(() => parseStepConfig("http.request", { url: "u", timeoutMs: 99 }))[0]).toMatch(/^timeoutMs: /);
    expect(thrownIssues(() => parseStepConfig("http.request", { url: "u", method: "TRACE" }))[0]).toMatch(/^method: /);
    expect(thrownIssues(() => parseStepConfig("delay", { durationMs: -1 }))[0]).toMatch(/^durationMs: /);
    expect(thrownIssues(() => parseStepConfig("delay", { durationMs: 30 * 24 * 3600 * 1000 + 1 }))[0]).toMatch(/^durationMs: /);
    expect(parseStepConfig("delay", { durationMs: 30 * 24 * 3600 * 1000 }).durationMs).toBe(30 * 24 * 3600 * 1000);
    expect(
      thrownIssues(() =>
        parseStepConfig("openai.chat", { credentialId: "c", messages: [{ role: "user", content: "x" }], temperature: 2.5 }),
      )[0],
    ).toMatch(/^temperature: /);
  });

  it("email needs a text or an HTML body, reported on textBody", () => {
    const email = { credentialId: "cred_1", from: "a@b.c", to: "d@e.f", subject: "Hi" };
    expect(thrownIssues(() => parseStepConfig("email.postmark", email))).toEqual(["textBody: Give a text or an HTML body"]);
    expect(parseStepConfig("email.postmark", { ...email, htmlBody: "<p>x</p>" })).toMatchObject({ htmlBody: "<p>x</p>" });
    expect(parseStepConfig("email.postmark", { ...email, textBody: "x" })).toMatchObject({ textBody: "x" });
  });
});

describe("stepConfigJsonSchema", () => {
  it("is a JSON Schema object with properties for every type", () => {
    for (const name of STEP_TYPE_NAMES) {
      const schema = stepConfigJsonSchema(name);
      expect(schema.type, name).toBe("object");
      expect(schema.properties, name).toBeTypeOf("object");
      expect(JSON.parse(JSON.stringify(schema)), `${name} survives JSON`).toEqual(schema);
    }
  });

  it("lists each type's fields, required fields and defaults", () => {
    const expectedFields: Record<StepType, string[]> = {
      "trigger.manual": [],
      "trigger.webhook": ["responseMode"],
      "trigger.cron": ["cron", "timezone"],
      "http.request": ["method", "url", "headers", "body", "credentialId", "timeoutMs", "retry"],
      "openai.chat": ["credentialId", "model", "messages", "temperature", "jsonMode", "timeoutMs", "retry"],
      "email.postmark": ["credentialId", "from", "to", "subject", "textBody", "htmlBody", "messageStream", "timeoutMs", "retry"],
      transform: ["expression"],
      condition: ["expression"],
      delay: ["durationMs"],
      code: ["code", "timeoutMs", "memoryLimitMb"],
      loop: ["items", "concurrency", "maxItems", "onItemError"],
      switch: ["cases"],
      "workflow.call": ["workflowId", "input", "waitForCompletion"],
      approval: ["title", "instructions", "timeoutMs", "timeoutDecision", "approvers"],
      "ai.agent": ["credentialId", "model", "systemPrompt", "task", "maxIterations", "maxTokens", "temperature", "outputSchema", "tools", "timeoutMs", "retry"],
    };
    for (const name of STEP_TYPE_NAMES) {
      expect(Object.keys(stepConfigJsonSchema(name).properties as object).sort(), name).toEqual([...expectedFields[name]].sort());
    }
    const http = stepConfigJsonSchema("http.request") as { required: string[]; properties: Record<string, { default?: unknown; enum?: string[] }> };
    // io: "input" — fields with defaults are optional for the caller.
    expect(http.required).toEqual(["url"]);
    expect(http.properties.method).toMatchObject({ default: "GET", enum: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] });
    expect(http.properties.timeoutMs).toMatchObject({ default: 30_000, minimum: 100, maximum: 300_000 });
    expect((stepConfigJsonSchema("openai.chat") as { required: string[] }).required.sort()).toEqual(["credentialId", "messages"]);
  });
});

describe("R51: stepOutputJsonSchema", () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });

  it("R51: every type has an output schema: a zod schema in the registry, a JSON Schema object ajv compiles (strict)", () => {
    for (const name of STEP_TYPE_NAMES) {
      expect(stepTypes[name].outputSchema, name).toBeDefined();
      const schema = stepOutputJsonSchema(name);
      expect(schema, name).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema" });
      expect(() => ajv.compile(schema), name).not.toThrow();
    }
  });

  it("R51: engine-built outputs are closed objects with their fields; user-defined outputs (triggers, transform) take any JSON", () => {
    const expectedFields: Partial<Record<StepType, string[]>> = {
      "http.request": ["status", "headers", "body"],
      "openai.chat": ["content", "json", "model", "finishReason", "usage"],
      "email.postmark": ["messageId", "to", "submittedAt", "errorCode", "message"],
      condition: ["result", "value"],
      delay: ["waitedMs", "resumeAt"],
      code: ["result", "logs"],
      switch: ["branch", "value"],
      approval: ["decision", "comment", "data", "decidedBy", "decidedVia", "decidedAt"],
      "ai.agent": ["content", "json", "usage", "modelCalls", "toolCalls", "calls"],
    };
    for (const [name, fields] of Object.entries(expectedFields) as [StepType, string[]][]) {
      const schema = stepOutputJsonSchema(name) as { type: string; properties: object; additionalProperties: unknown };
      expect(schema.type, name).toBe("object");
      expect(Object.keys(schema.properties).sort(), name).toEqual([...fields].sort());
      expect(schema.additionalProperties, name).toBe(false);
    }
    for (const name of ["trigger.manual", "trigger.webhook", "trigger.cron", "transform"] as const) {
      const validate = ajv.compile(stepOutputJsonSchema(name));
      for (const value of [null, 3, "text", [1, 2], { any: { nested: true } }]) expect(validate(value), `${name} ${JSON.stringify(value)}`).toBe(true);
    }
    expect((stepOutputJsonSchema("loop") as { type: string }).type).toBe("array");
  });

  it("R51: the schemas reject drift: a missing field, an extra field, a wrong type, an unknown enum value", () => {
    const http = ajv.compile(stepOutputJsonSchema("http.request"));
    expect(http({ status: 200, headers: { "content-type": "text/plain" }, body: "ok" })).toBe(true);
    expect(http({ status: 200, headers: {} })).toBe(false); // body missing (null for HEAD, never absent)
    expect(http({ status: 200, headers: {}, body: null, statusCode: 200 })).toBe(false);
    expect(http({ status: "200", headers: {}, body: null })).toBe(false);
    const approval = ajv.compile(stepOutputJsonSchema("approval"));
    const decided = { decision: "approved", comment: null, data: null, decidedBy: null, decidedVia: "link", decidedAt: "2026-12-02T02:40:00.000Z" };
    expect(approval(decided)).toBe(true);
    expect(approval({ ...decided, decision: "approve" })).toBe(false);
    expect(approval({ ...decided, decidedAt: "yesterday" })).toBe(false);
    const call = ajv.compile(stepOutputJsonSchema("workflow.call"));
    expect(call({ runId: "run_1" })).toBe(true);
    expect(call({ out: { doubled: 42 } })).toBe(true);
    expect(call(null)).toBe(true);
    expect(call("a string")).toBe(false);
  });

  it("R51: StepOutput<T> is the registry's output type", () => {
    const output: StepOutput<"http.request"> = { status: 200, headers: {}, body: null };
    expect(stepTypes["http.request"].outputSchema.parse(output)).toEqual(output);
    // @ts-expect-error a field the registry does not have
    const wrong: StepOutput<"delay"> = { waitedMs: 1, resumeAt: "2026-12-02T00:00:00Z", extra: true };
    expect(wrong).toBeDefined();
  });
});
