import { RUN_STATUSES } from "@algorythmos/domain";
import { z } from "zod";
import { ERROR_CODES, ERROR_STATUS, INTERNAL_ERROR, type ErrorCode } from "../errors.js";
import { MAX_WEBHOOK_BODY_BYTES, WEBHOOK_WAIT_MS } from "../hooks.js";
import { REST_ROUTES, type Method, type RestRoute } from "./routes.js";
import { WebhookAccepted, WebhookOutput } from "./schemas.js";

/**
 * The OpenAPI 3.1 document of the REST routes, served at /api/openapi.json, generated from the route table
 * (routes.ts): request bodies from the domain schemas the services validate with, query parameters and
 * responses from the REST schemas the handlers parse with and answer by. Nothing here is written by hand
 * but the prose, so it cannot drift from what the server does.
 */

type JsonSchema = Record<string, unknown>;
type AnyCode = (typeof ERROR_CODES)[number];

/** Timestamps are `Date`s in the schemas and ISO 8601 strings once serialised. */
const dateAsString = (context: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }) => {
  if (context.zodSchema._zod.def.type === "date") Object.assign(context.jsonSchema, { type: "string", format: "date-time" });
};

/** zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect); schemas with a `meta({ id })` become shared components. */
class Schemas {
  readonly components: Record<string, JsonSchema> = {};
  of(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const generated = z.toJSONSchema(schema, { io, unrepresentable: "any", override: dateAsString, target: "draft-2020-12" }) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = generated;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const component = toComponentRefs(definition);
      const existing = this.components[name];
      if (existing && JSON.stringify(existing) !== JSON.stringify(component)) throw new Error(`Two different schemas are named ${name}`);
      this.components[name] = component;
    }
    return toComponentRefs(root);
  }
}
const toComponentRefs = (schema: JsonSchema): JsonSchema => JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/'));

const ERROR_RESPONSE_NAMES: Record<AnyCode, string> = {
  BAD_USER_INPUT: "BadUserInput",
  UNAUTHENTICATED: "Unauthenticated",
  FORBIDDEN: "Forbidden",
  NOT_FOUND: "NotFound",
  METHOD_NOT_ALLOWED: "MethodNotAllowed",
  CONFLICT: "Conflict",
  PAYLOAD_TOO_LARGE: "PayloadTooLarge",
  UNPROCESSABLE: "Unprocessable",
  CONFIRMATION_REQUIRED: "ConfirmationRequired",
  TEST_CASES_FAILED: "TestCasesFailed",
  RATE_LIMITED: "RateLimited",
  RUN_FAILED: "RunFailed",
  SERVICE_UNAVAILABLE: "ServiceUnavailable",
  INTERNAL_SERVER_ERROR: "InternalServerError",
};
const ERROR_DESCRIPTIONS: Record<AnyCode, string> = {
  BAD_USER_INPUT: "Invalid input; `details.fields` lists `{ path, message }`",
  UNAUTHENTICATED: "No, invalid, expired or revoked credentials (a bearer token sent to a public route must be valid too)",
  FORBIDDEN: "The role does not allow it, or a cookie-authenticated write without the CSRF header or from another origin",
  NOT_FOUND: "Missing, or in a workspace the caller does not belong to",
  METHOD_NOT_ALLOWED: "The path does not take this method; `Allow` lists the ones it takes",
  CONFLICT: "A duplicate name or email, or a run that is already final",
  PAYLOAD_TOO_LARGE: "A body over 1 MiB (the connection is closed after the answer), or a workflow document that would pass 2 MiB",
  UNPROCESSABLE: "The workflow cannot run; `details.problems` says why",
  CONFIRMATION_REQUIRED: "Testing a step with side effects needs `confirmSideEffects: true`; `details.sideEffects` says which",
  TEST_CASES_FAILED: "A test case failed, so the draft was not published; `details.testResults` has each case's result (`overrideFailingTests: true` publishes anyway)",
  RATE_LIMITED: "Over a rate limit; retry after `Retry-After` seconds",
  RUN_FAILED: "The webhook's run failed or was canceled; `details` has its `runId` and `status`",
  SERVICE_UNAVAILABLE: "PostgreSQL or Redis is unreachable; retry after `Retry-After` seconds",
  INTERNAL_SERVER_ERROR: "A bug on our side; it has been logged",
};
const statusOf = (code: AnyCode) => (code === INTERNAL_ERROR.code ? INTERNAL_ERROR.status : ERROR_STATUS[code as ErrorCode]);

const retryAfter = { description: "Seconds to wait before retrying", required: true, schema: { type: "integer", minimum: 1 } };
const errorSchema = (code: AnyCode) =>
  z.object({
    error: z.object({
      code: z.literal(code),
      message: z.string(),
      details: z.unknown().meta({ description: "More about the error (an object), or null" }),
    }),
  });

/**
 * What an operation can answer beyond its own `errors`. Every /api route resolves the caller first, so any of
 * them refuses an invalid bearer token (401) and a cookie-authenticated write without the CSRF header (403).
 */
function errorsOf(route: Pick<RestRoute, "method" | "body" | "query" | "errors">, resolvesCaller: boolean): AnyCode[] {
  const codes = new Set<AnyCode>(route.errors ?? []);
  if (route.body || route.query) codes.add("BAD_USER_INPUT");
  if (resolvesCaller) codes.add("UNAUTHENTICATED");
  if (resolvesCaller && route.method !== "get") codes.add("FORBIDDEN");
  if (route.body) codes.add("PAYLOAD_TOO_LARGE");
  for (const code of ["RATE_LIMITED", "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR"] as const) codes.add(code);
  return [...codes].sort((a, b) => statusOf(a) - statusOf(b));
}
/** Error answers by status, as references to the shared responses (only those referenced are emitted). */
function errorRefs(used: Set<AnyCode>, codes: AnyCode[]) {
  for (const code of codes) used.add(code);
  return Object.fromEntries(codes.map((code) => [String(statusOf(code)), { $ref: `#/components/responses/${ERROR_RESPONSE_NAMES[code]}` }]));
}

function queryParameters(schemas: Schemas, query: z.ZodObject | undefined) {
  if (!query) return [];
  const object = schemas.of(query, "output") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: (object.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}
const pathParameters = (path: string) =>
  [...path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string", minLength: 1 } }));

const TAGS = [
  { name: "auth", description: "Accounts, sessions (access + refresh tokens) and personal API tokens" },
  { name: "workspaces", description: "Workspaces and their members" },
  { name: "credentials", description: "Encrypted secrets steps use; never readable back" },
  { name: "workflows", description: "Workflows: create, read, edit (as live edits), copy, export and import" },
  { name: "versions", description: "Named versions, their diff and restore" },
  { name: "runs", description: "Runs and their step attempts" },
  { name: "steps", description: "The step-type registry and connector tests" },
  { name: "templates", description: "The templates gallery: ready-made workflow definitions, the same for everyone" },
  { name: "webhooks", description: "Webhook triggers: the URL holds the workflow's secret" },
];

export function openApiDocument(): Record<string, unknown> {
  const schemas = new Schemas();
  const usedErrors = new Set<AnyCode>();
  const paths: Record<string, Partial<Record<Method, unknown>>> = {};

  for (const route of REST_ROUTES) {
    (paths[`/api${route.path}`] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.public && { security: [] }),
      parameters: [...pathParameters(route.path), ...queryParameters(schemas, route.query)],
      ...(route.body && {
        requestBody: { required: true, content: { "application/json": { schema: schemas.of(route.body, "input") } } },
      }),
      responses: {
        [String(route.status)]: {
          description: route.status === 201 ? "Created" : "OK",
          content: { "application/json": { schema: schemas.of(route.response, "output") } },
        },
        ...errorRefs(usedErrors, errorsOf(route, true)),
      },
    };
  }

  paths["/hooks/{workflowId}/{secret}"] = {
    post: {
      operationId: "triggerWebhook",
      summary: "Start a run of the published version of a workflow with a trigger.webhook step; its input is { body, query, headers }",
      description:
        "The path is `Workflow.webhookPath` (it holds the secret, so no other credentials are needed). " +
        "The run runs the workflow's published version; never published or deactivated: 409 NOT_PUBLISHED / INACTIVE. " +
        "An `Idempotency-Key` header (1 to 255 printable ASCII characters) returns the run the first request with that key started, for 24 h " +
        "(with `Idempotent-Replayed: true`). " +
        'With the trigger\'s `responseMode: "output"` the answer is the run\'s output (200) once it succeeds, ' +
        `502 RUN_FAILED when it fails, or 202 when it takes longer than ${WEBHOOK_WAIT_MS / 1000} s; otherwise 202 at once. ` +
        `Bodies up to ${MAX_WEBHOOK_BODY_BYTES} bytes of UTF-8 text; JSON when sent as JSON.`,
      tags: ["webhooks"],
      security: [],
      parameters: [
        ...pathParameters("/hooks/{workflowId}/{secret}"),
        {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description: "The same key (per workflow) returns the same run for 24 h",
          schema: { type: "string", minLength: 1, maxLength: 255 },
        },
      ],
      requestBody: {
        required: false,
        content: {
          "application/json": { schema: {} },
          "application/x-www-form-urlencoded": { schema: { type: "string" } },
          "text/plain": { schema: { type: "string" } },
        },
      },
      responses: {
        "200": { description: "Output mode: the run succeeded; this is its output", content: { "application/json": { schema: schemas.of(WebhookOutput, "output") } } },
        "202": {
          description: `The run is queued (or, in output mode, still running after ${WEBHOOK_WAIT_MS / 1000} s)`,
          content: { "application/json": { schema: schemas.of(WebhookAccepted, "output") } },
        },
        ...errorRefs(usedErrors, errorsOf({ method: "post", body: WebhookOutput, errors: ["NOT_FOUND", "UNPROCESSABLE", "RUN_FAILED"] }, false)),
        "409": {
          description: "NOT_PUBLISHED: the workflow was never published (publish it); INACTIVE: it is deactivated (activate it). No run is started",
          content: {
            "application/json": {
              schema: schemas.of(
                z.object({ error: z.object({ code: z.enum(["NOT_PUBLISHED", "INACTIVE"]), message: z.string(), details: z.null() }) }),
                "output",
              ),
            },
          },
        },
      },
    },
  };

  const responses = Object.fromEntries(
    ERROR_CODES.filter((code) => usedErrors.has(code)).map((code) => [
      ERROR_RESPONSE_NAMES[code],
      {
        description: `${code}: ${ERROR_DESCRIPTIONS[code]}`,
        ...((code === "RATE_LIMITED" || code === "SERVICE_UNAVAILABLE") && { headers: { "Retry-After": retryAfter } }),
        content: { "application/json": { schema: schemas.of(errorSchema(code), "output") } },
      },
    ]),
  );

  return {
    openapi: "3.1.0",
    info: {
      title: "Algorythmos Studio REST API",
      version: "1",
      description:
        "REST compatibility routes over the same services as GraphQL (/graphql, the full API). Errors are " +
        "`{ error: { code, message, details } }`. A path that exists answers other methods with 405 and `Allow`; " +
        `anything else under /api/ and /hooks/ is 404. Run statuses: ${RUN_STATUSES.join(", ")}.`,
    },
    servers: [{ url: "/", description: "The server this document is served by" }],
    tags: TAGS,
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A JWT from signup, login or refresh, or a personal API token (alg_pat_…)" },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "algo_session",
          description: "The studio's session cookie; writes must also send the x-algorythmos-csrf header",
        },
      },
      schemas: schemas.components,
      responses,
    },
  };
}
