import { z } from "zod";
import type { Edge, Step, WorkflowDefinitionInput } from "../definition.js";
import type { StepType } from "../step-types.js";
import type { ImportProblem } from "./problems.js";
import { isN8nExpression, jsonataPath, splitTemplate, toJsonata, toTemplate, translateJs, type DataRef, type ExpressionScope } from "./n8n-expressions.js";

/**
 * n8n workflow exports (the JSON of "Download" / copy in the n8n editor): `nodes[]` with `type`, `typeVersion`,
 * `parameters`, `position`, `name`, and `connections` keyed by node name. Nodes we have an equivalent for become
 * steps, keeping names and positions; every node, parameter, expression or connection that cannot be carried
 * over exactly is an ImportProblem, never a silent drop. n8n omits parameters left at their default, so each
 * mapper applies n8n's defaults for the node's version.
 */
export const N8N_WORKFLOW_DEFAULT_NAME = "Imported from n8n";

const N8nNode = z
  .object({
    name: z.string({ error: "Every n8n node needs a name" }).min(1, "Every n8n node needs a name"),
    type: z.string({ error: "Every n8n node needs a type" }).min(1, "Every n8n node needs a type"),
    typeVersion: z.number().positive().default(1),
    position: z.array(z.number().finite()).min(2).optional(),
    parameters: z.record(z.string(), z.unknown()).default({}),
    credentials: z.record(z.string(), z.object({ name: z.string().optional() }).loose()).optional(),
    disabled: z.boolean().optional(),
  })
  .loose();
type N8nNode = z.infer<typeof N8nNode>;

const N8nConnection = z.object({ node: z.string(), type: z.string().default("main"), index: z.number().int().min(0).default(0) }).loose();

export const N8nWorkflow = z
  .object({
    name: z.string().optional(),
    nodes: z.array(N8nNode, { error: "n8n nodes must be a list" }).max(500, "A workflow has at most 500 steps"),
    connections: z
      .record(z.string(), z.record(z.string(), z.array(z.array(N8nConnection).nullable())), { error: "n8n connections must be an object keyed by node name" })
      .default({}),
    settings: z.object({ timezone: z.string().optional() }).loose().optional(),
  })
  .loose();
export type N8nWorkflow = z.infer<typeof N8nWorkflow>;

/** Does this JSON look like an n8n export (rather than ours)? */
export function looksLikeN8n(raw: Record<string, unknown>): boolean {
  return "nodes" in raw || "connections" in raw;
}

type Params = Record<string, unknown>;
type Report = (problem: Omit<ImportProblem, "nodeName" | "nodeType" | "stepId">) => void;
/** What one node mapper returns: the step's type and config, or a reason it has no equivalent. */
type Mapped = { type: StepType; config: Record<string, unknown> } | { unsupported: string };
interface MapArgs {
  node: N8nNode;
  params: Params;
  scope: ExpressionScope;
  report: Report;
  workflow: N8nWorkflow;
}

const record = (value: unknown): Params => (value && typeof value === "object" && !Array.isArray(value) ? (value as Params) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const nameValueList = (value: unknown, key = "parameter") => list(record(value)[key]).map(record);
const describeValue = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** A template field (URL, header value, message): translated, or kept as written and reported. */
function templateField(value: unknown, scope: ExpressionScope, report: Report, parameter: string): string {
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  const translated = toTemplate(text, scope);
  if (translated.ok) return translated.text;
  report({ code: "EXPRESSION_NOT_TRANSLATED", parameter, message: `n8n expression in ${parameter} kept as written: ${translated.reason}` });
  return text.startsWith("=") ? text.slice(1) : text;
}

/** A JSONata expression field (transform, condition): translated, or the n8n text kept and reported. */
function jsonataField(value: unknown, scope: ExpressionScope, report: Report, parameter: string): string | null {
  const translated = toJsonata(value, scope);
  if (translated.ok) return translated.text;
  report({ code: "EXPRESSION_NOT_TRANSLATED", parameter, message: `n8n expression in ${parameter} not translated: ${translated.reason}` });
  return null;
}

// ---------------------------------------------------------------------------------------------- triggers

function mapWebhook({ params, report }: MapArgs): Mapped {
  const method = String(params.httpMethod ?? "GET");
  if (method !== "POST") {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "httpMethod", message: `n8n webhook method ${method}: webhook triggers here take POST only` });
  }
  if (typeof params.path === "string" && params.path) {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "path", message: `n8n webhook path "${params.path}" is not kept: the workflow's webhook URL is /hooks/<workflowId>/<secret>` });
  }
  const mode = String(params.responseMode ?? "onReceived");
  if (mode !== "onReceived" && mode !== "lastNode") {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "responseMode", message: `n8n webhook response mode "${mode}" has no equivalent; the webhook answers at once` });
  }
  return { type: "trigger.webhook", config: { responseMode: mode === "lastNode" ? "output" : "immediate" } };
}

const CRON_WEEKDAY = (day: unknown) => String(Number(day) % 7);

/** One n8n Schedule Trigger interval rule as a cron expression, or null with a reason. */
function scheduleRuleToCron(rule: Params): { cron: string } | { reason: string } {
  const field = String(rule.field ?? "days");
  const at = (key: string, fallback: number) => (rule[key] === undefined ? fallback : Number(rule[key]));
  const every = (key: string, fallback: number) => {
    const n = at(key, fallback);
    return n === 1 ? "*" : `*/${n}`;
  };
  const minute = at("triggerAtMinute", 0);
  const hour = at("triggerAtHour", 0);
  switch (field) {
    case "cronExpression":
      return typeof rule.expression === "string" && !rule.expression.startsWith("=") ? { cron: rule.expression.trim() } : { reason: "a cron expression that is itself an expression" };
    case "seconds":
      return { cron: `${every("secondsInterval", 30)} * * * * *` };
    case "minutes":
      return { cron: `${every("minutesInterval", 5)} * * * *` };
    case "hours":
      return { cron: `${minute} ${every("hoursInterval", 1)} * * *` };
    case "days":
      return { cron: `${minute} ${hour} ${every("daysInterval", 1)} * *` };
    case "weeks": {
      if (at("weeksInterval", 1) !== 1) return { reason: "a schedule every few weeks" };
      const days = list(rule.triggerAtDay ?? [0]).map(CRON_WEEKDAY);
      return { cron: `${minute} ${hour} * * ${days.length ? days.join(",") : "0"}` };
    }
    case "months":
      return { cron: `${minute} ${hour} ${at("triggerAtDayOfMonth", 1)} ${every("monthsInterval", 1)} *` };
    default:
      return { reason: `the interval "${field}"` };
  }
}

/** The legacy Cron node's trigger time as a cron expression. */
function cronTimeToCron(item: Params): { cron: string } | { reason: string } {
  const num = (key: string, fallback: number) => (item[key] === undefined ? fallback : Number(item[key]));
  const minute = num("minute", 0);
  const hour = num("hour", 14);
  switch (String(item.mode ?? "everyDay")) {
    case "everyMinute":
      return { cron: "* * * * *" };
    case "everyHour":
      return { cron: `${minute} * * * *` };
    case "everyDay":
      return { cron: `${minute} ${hour} * * *` };
    case "everyWeek":
      return { cron: `${minute} ${hour} * * ${CRON_WEEKDAY(item.weekday ?? 1)}` };
    case "everyMonth":
      return { cron: `${minute} ${hour} ${num("dayOfMonth", 1)} * *` };
    case "everyX":
      return String(item.unit ?? "hours") === "minutes" ? { cron: `*/${num("value", 2)} * * * *` } : { cron: `0 */${num("value", 2)} * * *` };
    case "custom":
      return typeof item.cronExpression === "string" ? { cron: item.cronExpression.trim() } : { reason: "a custom cron without an expression" };
    default:
      return { reason: `the mode "${String(item.mode)}"` };
  }
}

function mapSchedule({ node, params, report, workflow }: MapArgs): Mapped {
  const legacy = node.type === "n8n-nodes-base.cron";
  const rules = legacy ? nameValueList(params.triggerTimes, "item") : list(record(params.rule).interval).map(record);
  if (rules.length === 0) rules.push({});
  const crons = rules.map((rule) => (legacy ? cronTimeToCron(rule) : scheduleRuleToCron(rule)));
  const first = crons[0]!;
  if (!("cron" in first)) return { unsupported: `n8n schedule with ${first.reason} has no cron equivalent` };
  if (crons.length > 1) {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: legacy ? "triggerTimes" : "rule.interval", message: `n8n schedule has ${crons.length} rules; a schedule trigger here has one (the first, "${first.cron}", is kept)` });
  }
  const timezone = workflow.settings?.timezone;
  if (!timezone) {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "settings.timezone", message: "the export names no timezone (n8n used its instance's); the schedule runs in UTC" });
  }
  return { type: "trigger.cron", config: { cron: first.cron, timezone: timezone ?? "UTC" } };
}

// ---------------------------------------------------------------------------------------------- HTTP

const OUR_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);
/** HTTP Request options that change behaviour we cannot reproduce (the timeout is mapped). */
const HTTP_OPTION_NAMES: Record<string, string> = {
  allowUnauthorizedCerts: "ignoring TLS errors",
  proxy: "a proxy",
  batching: "batching",
  batchSize: "batching",
  batchInterval: "batching",
  fullResponse: "the full response as output",
  response: "the response settings",
  redirect: "the redirect settings",
  followRedirect: "the redirect settings",
  queryParameterArrays: "query array formats",
  lowercaseHeaders: "lowercased headers",
  bodyContentType: "the body content type",
  splitIntoItems: "splitting the output into items",
};

/** An n8n JSON body with `{{ }}` inside (quoted or bare) as a JSON value whose strings are our templates. */
function jsonBodyWithTemplates(text: string, scope: ExpressionScope, report: Report, parameter: string): unknown {
  const body = text.startsWith("=") ? text.slice(1) : text;
  if (!text.startsWith("=")) {
    try {
      return JSON.parse(body);
    } catch {
      report({ code: "PARAMETER_NOT_TRANSLATED", parameter, message: `the n8n JSON body is not valid JSON; it is sent as text` });
      return body;
    }
  }
  // Each {{ }} becomes a placeholder: inside a JSON string as is, bare ones quoted, so the text parses as JSON.
  const codes: string[] = [];
  let json = "";
  let inString = false;
  for (const part of splitTemplate(body)) {
    if ("text" in part) {
      for (let i = 0; i < part.text.length; i++) {
        const char = part.text[i]!;
        if (char === '"' && part.text[i - 1] !== "\\") inString = !inString;
      }
      json += part.text;
      continue;
    }
    const placeholder = `\u0000${codes.length}\u0000`;
    codes.push(part.code);
    json += inString ? placeholder : `"${placeholder}"`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.replace(/\u0000/g, "\\u0000"));
  } catch {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter, message: "the n8n JSON body is not valid JSON once its expressions are set aside; it is sent as text" });
    return templateField(text, scope, report, parameter);
  }
  const render = (value: unknown): unknown => {
    if (typeof value === "string") {
      const expression = "=" + value.replace(/\u0000(\d+)\u0000/g, (_, index: string) => `{{ ${codes[Number(index)]} }}`);
      return value.includes("\u0000") ? templateField(expression, scope, report, parameter) : value;
    }
    if (Array.isArray(value)) return value.map(render);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item)]));
    return value;
  };
  return render(parsed);
}

/** Name/value pairs (headers, query, form fields) with their values translated to templates. */
function pairs(items: Params[], scope: ExpressionScope, report: Report, parameter: string): [string, string][] {
  return items
    .filter((item) => typeof item.name === "string" && item.name)
    .map((item) => [String(item.name), templateField(item.value ?? "", scope, report, `${parameter}.${String(item.name)}`)]);
}

function withQuery(url: string, query: [string, string][]): string {
  if (!query.length) return url;
  const encoded = query.map(([name, value]) => `${encodeURIComponent(name)}=${value.includes("{{") ? value : encodeURIComponent(value)}`);
  return `${url}${url.includes("?") ? "&" : "?"}${encoded.join("&")}`;
}

function mapHttpRequest({ node, params, scope, report }: MapArgs): Mapped {
  const legacy = node.typeVersion < 3;
  const method = String((legacy ? params.requestMethod : params.method) ?? "GET").toUpperCase();
  const config: Record<string, unknown> = { method: OUR_METHODS.has(method) ? method : "GET" };
  if (!OUR_METHODS.has(method)) report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "method", message: `HTTP method ${method} is not supported here; GET is used` });
  let url = templateField(params.url ?? "", scope, report, "url");
  let headers: [string, string][] = [];
  let body: unknown;

  const authentication = String(params.authentication ?? "none");
  if (authentication !== "none" || node.credentials) {
    const names = Object.entries(node.credentials ?? {}).map(([type, credential]) => `"${credential.name ?? type}" (${type})`);
    report({
      code: "CREDENTIAL_NOT_IMPORTED",
      parameter: "authentication",
      message: `n8n credential ${names.join(", ") || authentication} is not imported; create an httpHeader credential and choose it on the step`,
    });
  }

  if (legacy) {
    const json = params.jsonParameters === true;
    headers = json ? Object.entries(record(jsonBodyWithTemplates(String(params.headerParametersJson ?? "{}"), scope, report, "headerParametersJson"))).map(([k, v]) => [k, String(v)]) : pairs(nameValueList(params.headerParametersUi), scope, report, "headers");
    url = withQuery(url, json ? Object.entries(record(jsonBodyWithTemplates(String(params.queryParametersJson ?? "{}"), scope, report, "queryParametersJson"))).map(([k, v]) => [k, String(v)]) : pairs(nameValueList(params.queryParametersUi), scope, report, "query"));
    if (json && params.bodyParametersJson !== undefined) body = jsonBodyWithTemplates(String(params.bodyParametersJson), scope, report, "bodyParametersJson");
    else if (!json && nameValueList(params.bodyParametersUi).length) body = Object.fromEntries(pairs(nameValueList(params.bodyParametersUi), scope, report, "body"));
    if (params.responseFormat !== undefined && params.responseFormat !== "json") {
      report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "responseFormat", message: `n8n response format "${String(params.responseFormat)}": the body is read by its content type here` });
    }
  } else {
    if (params.sendQuery === true) url = withQuery(url, pairs(nameValueList(params.queryParameters, "parameters"), scope, report, "query"));
    if (params.sendHeaders === true) {
      headers =
        params.specifyHeaders === "json"
          ? Object.entries(record(jsonBodyWithTemplates(String(params.jsonHeaders ?? "{}"), scope, report, "jsonHeaders"))).map(([k, v]) => [k, String(v)])
          : pairs(nameValueList(params.headerParameters, "parameters"), scope, report, "headers");
    }
    if (params.sendBody === true) {
      const contentType = String(params.contentType ?? "json");
      if (contentType === "json") {
        body =
          params.specifyBody === "json"
            ? jsonBodyWithTemplates(String(params.jsonBody ?? "{}"), scope, report, "jsonBody")
            : Object.fromEntries(pairs(nameValueList(params.bodyParameters, "parameters"), scope, report, "body"));
      } else if (contentType === "form-urlencoded") {
        const fields = pairs(nameValueList(params.bodyParameters, "parameters"), scope, report, "body");
        body = fields.map(([name, value]) => `${encodeURIComponent(name)}=${value.includes("{{") ? value : encodeURIComponent(value)}`).join("&");
        headers.push(["content-type", "application/x-www-form-urlencoded"]);
      } else if (contentType === "raw") {
        body = templateField(params.body ?? "", scope, report, "body");
        headers.push(["content-type", String(params.rawContentType ?? "text/plain")]);
      } else {
        report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "contentType", message: `n8n body type "${contentType}" (files, multipart) has no equivalent; no body is sent` });
      }
    }
  }
  const options = record(params.options);
  const timeout = Number(options.timeout);
  if (Number.isInteger(timeout) && timeout >= 100 && timeout <= 300_000) config.timeoutMs = timeout;
  const ignored = [...new Set(Object.keys(options).filter((key) => key !== "timeout").map((key) => HTTP_OPTION_NAMES[key] ?? `"${key}"`))];
  if (ignored.length) report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "options", message: `n8n HTTP options not carried over: ${ignored.join(", ")}` });

  config.url = url;
  if (headers.length) config.headers = Object.fromEntries(headers);
  if (body !== undefined) config.body = body;
  return { type: "http.request", config };
}

// ---------------------------------------------------------------------------------------------- IF

/** One comparison as JSONata, `a` and `b` already JSONata; null when the operation has no equivalent. */
function comparison(kind: string, operation: string, a: string, b: string): string | null {
  const empty = `($not($exists(${a})) or ${a} = null or ${a} = "" or ${a} = [] or ${a} = {})`;
  const table: Record<string, string> = {
    equals: `${a} = ${b}`,
    notEquals: `${a} != ${b}`,
    contains: `$contains(${a}, ${b})`,
    notContains: `$not($contains(${a}, ${b}))`,
    startsWith: `$substring(${a}, 0, $length(${b})) = ${b}`,
    notStartsWith: `$substring(${a}, 0, $length(${b})) != ${b}`,
    endsWith: `$substring(${a}, $length(${a}) - $length(${b})) = ${b}`,
    notEndsWith: `$substring(${a}, $length(${a}) - $length(${b})) != ${b}`,
    exists: `$exists(${a})`,
    notExists: `$not($exists(${a}))`,
    empty,
    notEmpty: `$not(${empty})`,
    gt: `${a} > ${b}`,
    lt: `${a} < ${b}`,
    gte: `${a} >= ${b}`,
    lte: `${a} <= ${b}`,
    true: `${a} = true`,
    false: `${a} = false`,
  };
  if (kind === "dateTime" || kind === "array" || kind === "object") return null;
  return Object.hasOwn(table, operation) ? table[operation]! : null;
}

/** IF v1 operation names → the v2 names used by `comparison`. */
const IF_V1_OPERATIONS: Record<string, string> = {
  equal: "equals",
  notEqual: "notEquals",
  smaller: "lt",
  smallerEqual: "lte",
  larger: "gt",
  largerEqual: "gte",
  isEmpty: "empty",
  isNotEmpty: "notEmpty",
};
const IF_V1_DEFAULT_OPERATION: Record<string, string> = { string: "equal", number: "smaller", boolean: "equal", dateTime: "after" };

function mapIf({ node, params, scope, report }: MapArgs): Mapped {
  const clauses: string[] = [];
  let combinator: "and" | "or";
  const add = (kind: string, operation: string, left: unknown, right: unknown, caseSensitive: boolean, where: string) => {
    let a = jsonataField(left, scope, report, `${where}.left`);
    let b = jsonataField(right ?? null, scope, report, `${where}.right`);
    if (a === null || b === null) return false;
    if (kind === "string" && !caseSensitive) [a, b] = [`$lowercase(${a})`, `$lowercase(${b})`];
    const clause = comparison(kind, operation, a, b);
    if (clause === null) {
      report({ code: "PARAMETER_NOT_TRANSLATED", parameter: where, message: `n8n IF operation ${kind} "${operation}" has no exact JSONata equivalent` });
      return false;
    }
    clauses.push(`(${clause})`);
    return true;
  };
  let complete = true;
  if (node.typeVersion < 2) {
    combinator = params.combineOperation === "any" ? "or" : "and";
    const conditions = record(params.conditions);
    for (const kind of ["boolean", "dateTime", "number", "string"]) {
      list(conditions[kind]).map(record).forEach((condition, index) => {
        const v1 = String(condition.operation ?? IF_V1_DEFAULT_OPERATION[kind]);
        const operation = IF_V1_OPERATIONS[v1] ?? v1;
        complete = add(kind, operation, condition.value1 ?? "", condition.value2 ?? (kind === "boolean" ? false : kind === "number" ? 0 : ""), true, `conditions.${kind}[${index}]`) && complete;
      });
    }
  } else {
    const conditions = record(params.conditions);
    combinator = conditions.combinator === "or" ? "or" : "and";
    const caseSensitive = record(conditions.options).caseSensitive !== false;
    list(conditions.conditions).map(record).forEach((condition, index) => {
      const operator = record(condition.operator);
      complete = add(String(operator.type ?? "string"), String(operator.operation ?? "equals"), condition.leftValue ?? "", condition.rightValue ?? "", caseSensitive, `conditions.conditions[${index}]`) && complete;
    });
  }
  if (!clauses.length) return { unsupported: "n8n IF node with no condition that could be translated" };
  if (!complete) report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "conditions", message: "the condition keeps only the comparisons that could be translated; check it" });
  return { type: "condition", config: { expression: clauses.join(` ${combinator} `) } };
}

// ---------------------------------------------------------------------------------------------- Set / Code

/** Nests `a.b.c` names (n8n's dot notation) into a tree of JSONata objects. */
function objectExpression(fields: [string, string][], dotNotation: boolean): string {
  type Tree = Map<string, Tree | string>;
  const tree: Tree = new Map();
  for (const [name, value] of fields) {
    const path = dotNotation ? name.split(".") : [name];
    let level = tree;
    path.forEach((key, index) => {
      if (index === path.length - 1) level.set(key, value);
      else {
        const next = level.get(key);
        if (next instanceof Map) level = next;
        else {
          const created: Tree = new Map();
          level.set(key, created);
          level = created;
        }
      }
    });
  }
  const write = (level: Tree): string => `{${[...level].map(([key, value]) => `${JSON.stringify(key)}: ${value instanceof Map ? write(value) : value}`).join(", ")}}`;
  return write(tree);
}

function literalOfType(type: string, value: unknown): unknown {
  if (isN8nExpression(value)) return value;
  if (type === "number" || type === "numberValue") return Number(value);
  if (type === "boolean" || type === "booleanValue") return value === true || value === "true";
  if (type === "array" || type === "object" || type === "arrayValue" || type === "objectValue") {
    if (typeof value !== "string") return value;
    return JSON.parse(value);
  }
  return value === undefined || value === null ? "" : String(value);
}

function mapSet({ node, params, scope, report }: MapArgs): Mapped {
  const options = record(params.options);
  const dotNotation = options.dotNotation !== false;
  let keepInput: boolean;
  const fields: [string, string][] = [];
  const addField = (name: string, type: string, raw: unknown, where: string) => {
    let value: unknown;
    try {
      value = literalOfType(type, raw);
    } catch {
      report({ code: "PARAMETER_NOT_TRANSLATED", parameter: where, message: `the ${type} value of "${name}" is not valid JSON; the field is not set` });
      return;
    }
    const text = jsonataField(value, scope, report, where);
    if (text !== null) fields.push([name, text]);
  };

  if (node.typeVersion < 3) {
    keepInput = params.keepOnlySet !== true;
    const values = record(params.values);
    for (const type of ["boolean", "number", "string"]) {
      list(values[type]).map(record).forEach((item, index) => addField(String(item.name ?? "propertyName"), type, item.value ?? (type === "number" ? 0 : type === "boolean" ? false : ""), `values.${type}[${index}]`));
    }
  } else {
    const mode = String(params.mode ?? "manual");
    keepInput = node.typeVersion >= 3.3 ? params.includeOtherFields === true : String(params.include ?? "none") === "all";
    if (params.include === "selected" || params.include === "except") {
      report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "include", message: `n8n "include ${String(params.include)} fields" is not translated; only the set fields are output` });
    }
    if (mode === "raw") {
      // n8n renders the text, then parses it as JSON; JSON is JSONata, so $eval of the same text is the same.
      const text = String(params.jsonOutput ?? "{}");
      let object: string | null;
      if (isN8nExpression(text)) {
        const rendered = jsonataField(text, scope, report, "jsonOutput");
        object = rendered === null ? null : `$eval(${rendered})`;
      } else {
        try {
          object = JSON.stringify(JSON.parse(text));
        } catch {
          object = null;
        }
      }
      if (object === null) return { unsupported: "n8n Edit Fields JSON output that is not valid JSON or has expressions that could not be translated" };
      return { type: "transform", config: { expression: keepInput ? `$merge([${inputOf(scope)}, ${object}])` : object } };
    }
    const assignments = node.typeVersion >= 3.3 ? list(record(params.assignments).assignments).map(record) : list(record(params.fields).values).map(record);
    assignments.forEach((item, index) => {
      const type = String(item.type ?? "stringValue");
      const raw = node.typeVersion >= 3.3 ? item.value : item[type];
      addField(String(item.name ?? ""), type.replace(/Value$/, ""), raw, `assignments[${index}]`);
    });
  }
  if (keepInput && dotNotation && fields.some(([name]) => name.includes("."))) {
    report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "options.dotNotation", message: "nested field names replace the whole input field here ($merge is shallow); n8n sets them inside it" });
  }
  const object = objectExpression(fields, dotNotation);
  return { type: "transform", config: { expression: keepInput ? `$merge([${inputOf(scope)}, ${object}])` : object } };
}

/** The node's input item as JSONata (what n8n's Set keeps when it includes the other fields). */
function inputOf(scope: ExpressionScope): string {
  const input = scope.input();
  return input && !input.inexact && !input.openai ? jsonataPath(input.segments) : "{}";
}

/** A Code node whose whole program is `return { json: … }` (or `return [{ json: … }]`) over plain references. */
function mapCode({ params, scope, report }: MapArgs): Mapped {
  const code = String(params.jsCode ?? params.functionCode ?? params.code ?? "");
  if (params.language === "python" || params.pythonCode !== undefined) return { unsupported: "Python in a Code node is not translated to JSONata" };
  const program = code
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
    .trim()
    .replace(/;\s*$/, "");
  const match = /^return\s+(\[\s*)?\{\s*json\s*:\s*([\s\S]+)\}(\s*\])?$/.exec(program);
  if (!match || Boolean(match[1]) !== Boolean(match[3])) {
    return { unsupported: 'JavaScript in a Code node is not translated to JSONata (only a program that is "return { json: … }" with plain field references is)' };
  }
  const translated = translateJs(match[2]!.trim(), scope);
  if (!translated.ok) {
    report({ code: "EXPRESSION_NOT_TRANSLATED", parameter: "jsCode", message: `n8n Code not translated: ${translated.reason}` });
    return { unsupported: "JavaScript in a Code node that could not be translated to JSONata" };
  }
  return { type: "transform", config: { expression: translated.text } };
}

// ---------------------------------------------------------------------------------------------- OpenAI, Wait

function mapOpenAi({ node, params, scope, report }: MapArgs): Mapped {
  const langchain = node.type === "@n8n/n8n-nodes-langchain.openAi";
  const resource = String(params.resource ?? (langchain ? "text" : "text"));
  const operation = String(params.operation ?? (langchain ? "message" : "complete"));
  const chat = langchain ? resource === "text" && operation === "message" : resource === "chat" && operation === "complete";
  if (!chat) return { unsupported: `OpenAI ${resource} ${operation} has no equivalent (openai.chat makes chat completions)` };
  const model = langchain ? (typeof params.modelId === "object" ? record(params.modelId).value : params.modelId) : params.model;
  const rawMessages = langchain ? list(record(params.messages).values).map(record) : list(record(params.prompt).messages).map(record);
  const messages = rawMessages.map((message, index) => ({
    role: ["system", "assistant"].includes(String(message.role)) ? String(message.role) : "user",
    content: templateField(message.content ?? "", scope, report, `messages[${index}].content`),
  }));
  const config: Record<string, unknown> = { model: typeof model === "string" && model && !isN8nExpression(model) ? model : langchain ? "gpt-4o-mini" : "gpt-3.5-turbo", messages };
  if (params.jsonOutput === true) config.jsonMode = true;
  const options = record(params.options);
  if (typeof options.temperature === "number") config.temperature = options.temperature;
  const ignored = Object.keys(options).filter((key) => key !== "temperature");
  if (ignored.length) report({ code: "PARAMETER_NOT_TRANSLATED", parameter: "options", message: `n8n OpenAI options not carried over: ${ignored.join(", ")}` });
  const credentials = Object.entries(node.credentials ?? {}).map(([type, credential]) => `"${credential.name ?? type}" (${type})`);
  report({
    code: "CREDENTIAL_NOT_IMPORTED",
    parameter: "credentials",
    message: `n8n credential ${credentials.join(", ") || "(none)"} is not imported; create an OpenAI credential and choose it on the step`,
  });
  return { type: "openai.chat", config };
}

const WAIT_UNITS: Record<string, number> = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

function mapWait({ params }: MapArgs): Mapped {
  const resume = String(params.resume ?? "timeInterval");
  if (resume !== "timeInterval") return { unsupported: `n8n Wait "${resume}" (resume at a time, on a webhook or a form) has no equivalent; delay waits a duration` };
  const amount = params.amount ?? 1;
  const unit = String(params.unit ?? "hours");
  if (typeof amount !== "number" || !(unit in WAIT_UNITS)) return { unsupported: `n8n Wait of ${describeValue(amount)} ${unit} is not a fixed duration` };
  return { type: "delay", config: { durationMs: Math.round(amount * WAIT_UNITS[unit]!) } };
}

/** n8n node types we have an equivalent for, and how each maps. */
const MAPPERS: Record<string, (args: MapArgs) => Mapped> = {
  "n8n-nodes-base.manualTrigger": () => ({ type: "trigger.manual", config: {} }),
  "n8n-nodes-base.webhook": mapWebhook,
  "n8n-nodes-base.scheduleTrigger": mapSchedule,
  "n8n-nodes-base.cron": mapSchedule,
  "n8n-nodes-base.httpRequest": mapHttpRequest,
  "n8n-nodes-base.if": mapIf,
  "n8n-nodes-base.set": mapSet,
  "n8n-nodes-base.code": mapCode,
  "n8n-nodes-base.openAi": mapOpenAi,
  "@n8n/n8n-nodes-langchain.openAi": mapOpenAi,
  "n8n-nodes-base.wait": mapWait,
};

/** What n8n's item data is after a step of this type: where `$json` of the next node points. */
function outputRef(type: StepType, stepId: string, inputRef: DataRef | null): DataRef | null {
  const output = ["steps", stepId, "output"];
  switch (type) {
    case "http.request":
      return { segments: [...output, "body"] };
    case "openai.chat":
      return { segments: output, openai: true };
    // IF and Wait pass their input items on in n8n; ours output a result of their own.
    case "condition":
    case "delay":
      return inputRef;
    default:
      return { segments: output };
  }
}

/** A readable, unique step id from an n8n node name (letters, digits, '_', so JSONata paths stay plain). */
function stepIdFor(name: string, taken: Set<string>): string {
  let base = name
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase()
    .slice(0, 48);
  if (!base) base = "step";
  if (/^[0-9]/.test(base)) base = `n${base}`;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

export interface N8nConversion {
  definition: WorkflowDefinitionInput;
  problems: ImportProblem[];
}

/** An n8n workflow (already parsed by N8nWorkflow) as our definition, with what could not be carried over. */
export function convertN8nWorkflow(workflow: N8nWorkflow): N8nConversion {
  const problems: ImportProblem[] = [];
  const taken = new Set<string>();
  const nodes = new Map(workflow.nodes.map((node) => [node.name, node]));
  const ids = new Map(workflow.nodes.map((node) => [node.name, stepIdFor(node.name, taken)]));
  const notes: string[] = [];

  // Main-connection predecessors of every node, by name (to know what `$json` is).
  const predecessors = new Map<string, string[]>();
  for (const [source, outputs] of Object.entries(workflow.connections)) {
    for (const target of (outputs.main ?? []).flatMap((targets) => targets ?? [])) {
      predecessors.set(target.node, [...(predecessors.get(target.node) ?? []), source]);
    }
  }

  const steps = new Map<string, Step>();
  const types = new Map<string, StepType>();
  const refs = new Map<string, DataRef | null>();
  const visiting = new Set<string>();

  /** `$json` of a node: the output of its one predecessor, mapped first. */
  const inputRefOf = (name: string): DataRef | null => {
    const sources = predecessors.get(name) ?? [];
    if (sources.length === 0) return { segments: ["input"] };
    const first = outputRefOf(sources[0]!);
    if (sources.length > 1) return { segments: first?.segments ?? ["input"], inexact: `$json of a node with ${sources.length} inputs (n8n gives whichever item arrives)` };
    return first;
  };
  const outputRefOf = (name: string): DataRef | null => {
    mapNode(name);
    return refs.get(name) ?? null;
  };

  function mapNode(name: string): void {
    if (refs.has(name) || visiting.has(name)) return;
    const node = nodes.get(name);
    if (!node) return;
    visiting.add(name);
    const stepId = ids.get(name)!;
    const where = { nodeName: node.name, nodeType: node.type };
    const pending: ImportProblem[] = [];
    const report: Report = (problem) => pending.push({ ...problem, ...where, stepId });
    const scope: ExpressionScope = {
      input: () => inputRefOf(name),
      node: (other) => (nodes.has(other) ? outputRefOf(other) : null),
    };
    const mapper = MAPPERS[node.type];
    let mapped: Mapped;
    if (node.type === "n8n-nodes-base.stickyNote") {
      const content = String(node.parameters.content ?? "").trim();
      if (content) notes.push(content);
      refs.set(name, null);
      visiting.delete(name);
      return;
    }
    if (!mapper) mapped = { unsupported: `unsupported n8n node "${node.type}" (${node.name})` };
    else {
      try {
        mapped = mapper({ node, params: node.parameters, scope, report, workflow });
      } catch (error) {
        mapped = { unsupported: `n8n node could not be read: ${(error as Error).message}` };
      }
    }
    if ("unsupported" in mapped) {
      problems.push(...pending.map((problem) => ({ ...problem, stepId: undefined })));
      problems.push({ code: "UNSUPPORTED_NODE", message: mapped.unsupported.startsWith("unsupported") ? mapped.unsupported : `n8n node "${node.name}" (${node.type}) not imported: ${mapped.unsupported}`, ...where });
      refs.set(name, null);
      visiting.delete(name);
      return;
    }
    if (node.disabled) pending.push({ code: "PARAMETER_NOT_TRANSLATED", message: "the node is disabled in n8n; the step here is active", parameter: "disabled", ...where, stepId });
    problems.push(...pending);
    const [x = 0, y = 0] = node.position ?? [];
    steps.set(name, { id: stepId, type: mapped.type, name: node.name.slice(0, 200), config: mapped.config, position: { x, y } });
    types.set(name, mapped.type);
    refs.set(name, outputRef(mapped.type, stepId, mapped.type === "condition" || mapped.type === "delay" ? inputRefOf(name) : null));
    visiting.delete(name);
  }

  for (const node of workflow.nodes) mapNode(node.name);

  const edges: Edge[] = [];
  const edgeIds = new Set<string>();
  for (const [sourceName, outputs] of Object.entries(workflow.connections)) {
    for (const [kind, byOutput] of Object.entries(outputs)) {
      byOutput.forEach((targets, outputIndex) => {
        for (const target of targets ?? []) {
          const source = steps.get(sourceName);
          const destination = steps.get(target.node);
          const arrow = `"${sourceName}" → "${target.node}"`;
          if (kind !== "main") {
            problems.push({ code: "CONNECTION_NOT_IMPORTED", message: `n8n ${kind} connection ${arrow} not imported: only main connections have an equivalent`, nodeName: sourceName, nodeType: nodes.get(sourceName)?.type });
            continue;
          }
          if (!source || !destination) {
            const missing = !source ? sourceName : target.node;
            problems.push({ code: "CONNECTION_NOT_IMPORTED", message: `connection ${arrow} not imported: "${missing}" was not imported`, nodeName: missing, nodeType: nodes.get(missing)?.type });
            continue;
          }
          const label = source.type === "condition" ? (outputIndex === 0 ? "true" : outputIndex === 1 ? "false" : undefined) : undefined;
          if (source.type !== "condition" && outputIndex > 0) {
            problems.push({ code: "CONNECTION_NOT_IMPORTED", message: `connection ${arrow} from output ${outputIndex + 1} not imported: the step has one output`, nodeName: sourceName, nodeType: nodes.get(sourceName)?.type, stepId: source.id });
            continue;
          }
          let id = `${source.id}-${destination.id}`.slice(0, 120);
          for (let n = 2; edgeIds.has(id); n++) id = `${source.id}-${destination.id}`.slice(0, 116) + `-${n}`;
          edgeIds.add(id);
          edges.push({ id, source: source.id, target: destination.id, ...(label && { label }) });
        }
      });
    }
  }

  return {
    definition: {
      name: workflow.name?.trim() ? workflow.name : N8N_WORKFLOW_DEFAULT_NAME,
      description: notes.join("\n\n").slice(0, 5000),
      steps: [...steps.values()],
      edges,
    },
    problems,
  };
}
