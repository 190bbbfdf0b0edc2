/**
 * Static checks (docs/run-engine.md R52–R54, issue #17 defects 4 and 5): what the worker would refuse before a
 * step runs is a problem while editing; what a run never reaches is a warning; which trigger a run starts at (R4).
 */
import {
  credentialError,
  defaultStartTrigger,
  editorProblems,
  expressionSyntaxError,
  isBlockingProblem,
  reachabilityWarnings,
  runStartTriggers,
  urlTemplateError,
  validateDefinition,
  WorkflowDefinition,
  type WorkflowDefinitionInput,
} from "@algorythmos/domain";
import { describe, expect, it } from "vitest";

const parse = (input: WorkflowDefinitionInput) => WorkflowDefinition.parse(input);
const http = (id: string, url: string, extra: Record<string, unknown> = {}) => ({ id, type: "http.request", name: id, config: { url, ...extra } });

describe("R52: URL shape", () => {
  it("R52: accepts http(s) URLs with templates anywhere, and URLs that get their scheme and host from a template", () => {
    for (const url of [
      "https://api.example.com/users/{{ input.id }}",
      "http://127.0.0.1:8080/x?q={{ steps.fetch.output.body.items.0.name }}",
      "https://{{ input.tenant }}.example.com/v1",
      "{{ input.url }}",
      "{{ input.base }}/orders/{{input.id}}",
    ]) {
      expect(urlTemplateError(url), url).toBeNull();
    }
  });

  it("R52: refuses what the worker would refuse, in its words, and expressions where templates go", () => {
    expect(urlTemplateError("api.example.com/users")).toBe(`Invalid URL "api.example.com/users": start it with https:// or http://`);
    expect(urlTemplateError("htp//api.example.com")).toBe(`Invalid URL "htp//api.example.com": start it with https:// or http://`);
    expect(urlTemplateError("ftp://files.example.com/a")).toBe("Only http and https URLs are allowed, not ftp:");
    expect(urlTemplateError("https://user:secret@example.com/")).toBe("Credentials in the URL are not allowed; use a header");
    expect(urlTemplateError("https://example.com/{{ input.id + 1 }}")).toMatch(/^"\{\{ input\.id \+ 1 \}\}" is not a template: a template is a dotted path in double braces/);
    expect(urlTemplateError("https://example.com/{{ input.id")).toMatch(/^"\{\{ input\.id" is not a template/);
  });

  it("R52: a malformed URL is an INVALID_URL problem naming the step and field; an agent's HTTP tool URL is checked too", () => {
    const definition = parse({
      name: "URLs",
      steps: [
        { id: "start", type: "trigger.manual" },
        http("fetch", "example.com/x"),
        {
          id: "agent",
          type: "ai.agent",
          name: "Agent",
          config: { credentialId: "cred_1", task: "Go", tools: [{ kind: "http", name: "lookup", url: "mailto:someone@example.com" }] },
        },
      ],
      edges: [
        { id: "e1", source: "start", target: "fetch" },
        { id: "e2", source: "fetch", target: "agent" },
      ],
    });
    expect(validateDefinition(definition)).toEqual([
      { code: "INVALID_URL", stepId: "fetch", path: ["url"], message: `Step "fetch": url: Invalid URL "example.com/x": start it with https:// or http://` },
      { code: "INVALID_URL", stepId: "agent", path: ["tools", 0, "url"], message: `Step "Agent": tools.0.url: Only http and https URLs are allowed, not mailto:` },
    ]);
  });
});

describe("R52: expression syntax and credentials", () => {
  it("R52: the JSONata parser the worker uses decides, with the position", () => {
    expect(expressionSyntaxError("$sum(input.items")).toMatchObject({ message: `Expected ")" before end of expression`, position: 16 });
    expect(expressionSyntaxError("input.items[price > 10].name")).toBeNull();
    const definition = parse({
      name: "Expr",
      steps: [{ id: "start", type: "trigger.manual" }, { id: "shape", type: "transform", name: "Shape", config: { expression: "input.x +" } }],
      edges: [{ id: "e1", source: "start", target: "shape" }],
    });
    expect(validateDefinition(definition).map((p) => [p.code, p.stepId, p.message])).toEqual([
      ["INVALID_CONFIG", "shape", `Step "Shape": expression: Invalid expression: Unexpected end of expression (at 9)`],
    ]);
  });

  it("R52: with the workspace's credentials, a missing or wrong-type credential is a problem, worded as the worker fails it", () => {
    const credentials = [
      { id: "cred_ai", name: "Team key", type: "openai" },
      { id: "cred_mail", name: "Mailer", type: "postmark" },
    ];
    expect(credentialError("cred_nope", "openai", credentials)).toBe(`Credential "cred_nope" does not exist in this workspace`);
    expect(credentialError("cred_mail", "openai", credentials)).toBe(`Credential "Mailer" is a postmark credential, not openai`);
    expect(credentialError("cred_ai", "openai", credentials)).toBeNull();
    const definition = parse({
      name: "Creds",
      steps: [
        { id: "start", type: "trigger.manual" },
        { id: "chat", type: "openai.chat", name: "Chat", config: { credentialId: "cred_mail", messages: [{ role: "user", content: "hi" }] } },
        http("call", "https://example.com", { credentialId: "cred_gone" }),
      ],
      edges: [
        { id: "e1", source: "start", target: "chat" },
        { id: "e2", source: "chat", target: "call" },
      ],
    });
    // Without the context nothing can be said about credentials; with it, both references are checked.
    expect(validateDefinition(definition)).toEqual([]);
    expect(validateDefinition(definition, { credentials })).toEqual([
      { code: "MISSING_CREDENTIAL", stepId: "chat", path: ["credentialId"], message: `Step "Chat": credentialId: Credential "Mailer" is a postmark credential, not openai` },
      { code: "MISSING_CREDENTIAL", stepId: "call", path: ["credentialId"], message: `Step "call": credentialId: Credential "cred_gone" does not exist in this workspace` },
    ]);
  });
});

describe("R53 R54: reachability warnings and what the editor lists", () => {
  const definition = parse({
    name: "Reach",
    steps: [
      { id: "start", type: "trigger.manual", name: "Start" },
      { id: "hook", type: "trigger.webhook", name: "Hook" },
      { id: "a", type: "transform", name: "A", config: { expression: "1" } },
      { id: "b", type: "transform", name: "B", config: { expression: "2" } },
      { id: "c", type: "transform", name: "C", config: { expression: "3" } },
    ],
    // b → c: no trigger leads to b, so neither runs.
    edges: [
      { id: "e1", source: "start", target: "a" },
      { id: "e2", source: "b", target: "c" },
    ],
  });

  it("R53: steps no trigger reaches and triggers with nothing after them are warnings, never blocking", () => {
    const warnings = reachabilityWarnings(definition);
    expect(warnings.map((w) => [w.code, w.stepId])).toEqual([
      ["UNCONNECTED_TRIGGER", "hook"],
      ["UNREACHABLE_STEP", "b"],
      ["UNREACHABLE_STEP", "c"],
    ]);
    expect(warnings.every((w) => w.severity === "warning" && !isBlockingProblem(w))).toBe(true);
    expect(warnings[1]!.message).toBe(`Step "B" never runs: no trigger leads to it. Connect it to a trigger or a step after one`);
    // They do not block running: validateDefinition (the server's and the worker's check) has none of them.
    expect(validateDefinition(definition)).toEqual([]);
    // A fresh workflow (a trigger alone) has nothing to warn about.
    expect(reachabilityWarnings(parse({ name: "New", steps: [{ id: "t", type: "trigger.manual" }] }))).toEqual([]);
  });

  it("R54: the editor lists the document's problems, then the credential checks, then the warnings", () => {
    const withChat = parse({
      ...definition,
      steps: [...definition.steps, { id: "chat", type: "openai.chat", name: "Chat", config: { credentialId: "cred_x", messages: [{ role: "user", content: "hi" }] } }],
      edges: [...definition.edges, { id: "e3", source: "a", target: "chat" }],
    });
    const listed = editorProblems([{ code: "INVALID_DEFINITION", message: "from the document" }], withChat, { credentials: [] });
    expect(listed.map((p) => p.code)).toEqual(["INVALID_DEFINITION", "MISSING_CREDENTIAL", "UNCONNECTED_TRIGGER", "UNREACHABLE_STEP", "UNREACHABLE_STEP"]);
    expect(editorProblems([], withChat).map((p) => p.code)).not.toContain("MISSING_CREDENTIAL");
  });
});

describe("R4: the trigger a run starts at", () => {
  const steps = [
    { id: "m1", type: "trigger.manual", name: "By hand" },
    { id: "hook", type: "trigger.webhook", name: "Hook" },
    { id: "nightly", type: "trigger.cron", name: "Nightly", config: { cron: "0 3 * * *" } },
  ];
  const definition = parse({ name: "Triggers", steps });

  it("R4: a recorded trigger step wins; otherwise the run's kind picks the triggers of its type", () => {
    expect([...runStartTriggers(definition, "webhook", "nightly").ids]).toEqual(["nightly"]);
    expect([...runStartTriggers(definition, "manual", null).ids]).toEqual(["m1"]);
    expect([...runStartTriggers(definition, "webhook", null).ids]).toEqual(["hook"]);
    expect([...runStartTriggers(definition, "test", null).ids]).toEqual(["m1"]);
    // No trigger of the kind's type (a child run of a webhook-only workflow): every trigger, as before.
    const hookOnly = parse({ name: "Hook only", steps: [steps[1]!] });
    expect([...runStartTriggers(hookOnly, "call", null).ids]).toEqual(["hook"]);
    expect(runStartTriggers(definition, "manual", "ghost").error).toBe(`The run starts at step "ghost", which is not a trigger of this definition`);
  });

  it("R4: a new manual run defaults to the only manual trigger (or the only trigger); several are an error naming them", () => {
    expect(defaultStartTrigger(definition, "manual")).toEqual({ stepId: "m1" });
    expect(defaultStartTrigger(parse({ name: "Hook only", steps: [steps[1]!] }), "manual")).toEqual({ stepId: "hook" });
    const two = parse({ name: "Two", steps: [...steps, { id: "m2", type: "trigger.manual", name: "Backfill" }] });
    expect(defaultStartTrigger(two, "manual")).toEqual({
      error: `The workflow has 2 trigger.manual triggers ("By hand", "Backfill"): choose the one that starts the run (triggerStepId)`,
    });
    expect(defaultStartTrigger(parse({ name: "No manual", steps: steps.slice(1) }), "manual").error).toBe(
      `The workflow has no manual trigger: choose the trigger the run starts at (triggerStepId), one of "Hook", "Nightly"`,
    );
  });
});
