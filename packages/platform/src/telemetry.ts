import { FINAL_RUN_STATUSES, isStepType } from "@algorythmos/domain";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Span } from "@opentelemetry/api";
import { Kind, type DocumentNode, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { createHash } from "node:crypto";
import type { Db } from "./db.js";
import type { Env } from "./env.js";
import type { Logger } from "./logger.js";
import { graphqlOperationDuration, graphqlOperations, httpRequestDuration, httpRequests, queueWait, runDuration, runsFinished, stepAttemptDuration, stepAttempts } from "./metrics.js";

/**
 * OpenTelemetry traces (docs/observability.md): off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then every
 * HTTP request, GraphQL operation and run is exported over OTLP/HTTP (JSON). With it off, the API below is
 * OpenTelemetry's no-op: spans cost nothing and no trace context is put into jobs.
 *
 * A run is one trace whose ids derive from the run id, so every delivery of its job (a delay, a crash, a
 * shutdown hand it to another worker) adds to the same trace: a `workflow.run` root span, exported when the
 * run is final, with a link to the request that enqueued it; a `run.delivery` span per delivery; under it a
 * `step.attempt` span per ledger row, with the ledger's timings.
 */
export const tracer = () => trace.getTracer("algorythmos");

/** Ids the next span must take (the run's root span); the SDK's random ones otherwise. */
let pinnedIds: { traceId: string; spanId: string } | null = null;

export interface Telemetry {
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for the process when OTEL_EXPORTER_OTLP_ENDPOINT is set; null (nothing registered) otherwise.
 * The SDK and its exporter are loaded only then: they are about a fifth of a process's start-up CPU (0.45 s of
 * ~2.5 s here), paid by every process and every crash test's spawn while tracing is off.
 */
export async function startTelemetry(env: Pick<Env, "OTEL_EXPORTER_OTLP_ENDPOINT">, serviceName: string, logger: Logger): Promise<Telemetry | null> {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return null;
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { NodeSDK }, { BatchSpanProcessor, RandomIdGenerator }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  const random = new RandomIdGenerator();
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: `algorythmos-${serviceName}` }),
    autoDetectResources: false,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
    idGenerator: {
      generateTraceId: () => pinnedIds?.traceId ?? random.generateTraceId(),
      generateSpanId: () => pinnedIds?.spanId ?? random.generateSpanId(),
    },
    // Traces only: no log or metric exporters from OTEL_* variables (metrics are Prometheus, at /metrics).
    logRecordProcessors: [],
    metricReaders: [],
    instrumentations: [],
  });
  sdk.start();
  logger.info("tracing on", { endpoint, service: `algorythmos-${serviceName}` });
  return { shutdown: () => sdk.shutdown().catch((error) => logger.warn("telemetry shutdown failed", { error })) };
}

// ---------- trace context in jobs ----------

/** W3C trace context, carried in a job's data (an optional field, so jobs from before it still parse). */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** The active span's context, to put into a job; undefined when tracing is off or nothing is active. */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) } : undefined;
}

function linkFrom(carrier: TraceCarrier | undefined): Link[] {
  if (!carrier) return [];
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, carrier));
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext, attributes: { "link.kind": "enqueued-by" } }] : [];
}

/** The run's trace and root span ids, the same in every process and delivery. */
export function runTraceIds(runId: string): { traceId: string; spanId: string } {
  const digest = createHash("sha256").update(`run:${runId}`).digest("hex");
  return { traceId: digest.slice(0, 32), spanId: digest.slice(32, 48) };
}

/** A context whose parent is the run's root span (which is exported once the run is final). */
export function runContext(runId: string): Context {
  const { traceId, spanId } = runTraceIds(runId);
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/** Records a span that already happened (times from the database). */
export function recordSpan(name: string, parent: Context, timing: { start: Date; end: Date }, attributes: Attributes, failed?: string, links: Link[] = []): Span {
  const span = tracer().startSpan(name, { startTime: timing.start, attributes, links, kind: SpanKind.INTERNAL }, parent);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
  span.end(timing.end);
  return span;
}

/** The run's root span, with the run's ids, linked to the request that enqueued it. */
export function recordRunSpan(runId: string, timing: { start: Date; end: Date }, attributes: Attributes, failed: string | undefined, enqueuedBy: TraceCarrier | undefined): void {
  pinnedIds = runTraceIds(runId);
  try {
    const span = tracer().startSpan("workflow.run", { root: true, startTime: timing.start, attributes, links: linkFrom(enqueuedBy), kind: SpanKind.CONSUMER });
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    span.end(timing.end);
  } finally {
    pinnedIds = null;
  }
}

/** Runs `work` inside a new active span, ending it (with an error status when `work` throws). */
export async function inSpan<T>(name: string, options: { parent?: Context; attributes?: Attributes; kind?: SpanKind }, work: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { attributes: options.attributes, kind: options.kind }, options.parent ?? context.active());
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), () => work(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

// ---------- HTTP requests (server) ----------

const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

/**
 * Hono middleware: a span per request (continuing a caller's `traceparent`) and the request metrics, by
 * route pattern — never the path itself, which holds ids. The query string is never recorded (tokens).
 */
export function requestTelemetry(): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = performance.now();
    const method = c.req.method;
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const span = tracer().startSpan(`${method}`, { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": c.req.path } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routePath(c) || "unmatched";
      const status = c.res.status;
      span.updateName(`${method} ${route}`);
      span.setAttributes({ "http.route": route, "http.response.status_code": status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      httpRequests.inc({ method, route, status: String(status) });
      httpRequestDuration.observe({ method, route }, (performance.now() - startedAt) / 1000);
    }
  };
}

// ---------- GraphQL operations (server) ----------

/** The operation's type and first root field (a schema name: bounded, unlike client-chosen operation names). */
export function describeOperation(document: DocumentNode, operationName?: string | null): { type: string; field: string; name: string } {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((candidate) => !operationName || candidate.name?.value === operationName) ?? operations[0];
  const first = operation?.selectionSet.selections[0];
  return { type: operation?.operation ?? "unknown", field: first?.kind === Kind.FIELD ? first.name.value : first ? "fragment" : "none", name: operation?.name?.value ?? "" };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> => typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/** Yoga plugin: a span per GraphQL operation (under the request's span; resolvers run inside it) and its metrics. */
export function graphqlTelemetry(): Plugin {
  const measure = <Args extends { document: DocumentNode; operationName?: string | null }>(run: (args: Args) => unknown) => async (args: Args) => {
    const { type, field, name } = describeOperation(args.document, args.operationName);
    const startedAt = performance.now();
    const span = tracer().startSpan(`graphql.${type} ${field}`, {
      attributes: { "graphql.operation.type": type, "graphql.operation.name": name, "graphql.field": field },
    });
    let outcome = "error";
    try {
      const result = await context.with(trace.setSpan(context.active(), span), () => run(args));
      const errors = isAsyncIterable(result) ? undefined : (result as { errors?: readonly unknown[] }).errors;
      outcome = errors?.length ? "error" : "ok";
      if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: String((errors[0] as { message?: string }).message ?? "error") });
      return result;
    } finally {
      span.end();
      graphqlOperations.inc({ type, field, outcome });
      graphqlOperationDuration.observe({ type, field }, (performance.now() - startedAt) / 1000);
    }
  };
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(measure(executeFn as never) as never);
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(measure(subscribeFn as never) as never);
    },
  };
}

// ---------- runs (worker) ----------

/** A step type as a label: the registry's names only (a captured definition could hold anything). */
export const stepTypeLabel = (type: string) => (isStepType(type) ? type : "unknown");

export interface DeliveredJob {
  data: { runId: string; trace?: TraceCarrier };
  timestamp: number;
  processedOn?: number;
  attemptsStarted?: number;
  opts: { delay?: number };
}


/**
 * Observes one delivery of a run's job: the queue wait (first delivery), a `run.delivery` span in the run's
 * trace around `execute`, and — read from the ledger afterwards, in the background, so the job's slot is not
 * held — a `step.attempt` span and the step metrics for every attempt started in this delivery, and, when the
 * run became final, the `workflow.run` root span and the run metrics. `pending` lets shutdown wait for them.
 */
export function runDeliveryObserver(db: Db, logger: Logger) {
  const pending = new Set<Promise<void>>();
  return {
    async observe<T>(job: DeliveredJob, execute: () => Promise<T>): Promise<T> {
      const { runId } = job.data;
      const deliveredAt = new Date();
      if ((job.attemptsStarted ?? 1) <= 1) {
        queueWait.observe({ queue: "runs" }, Math.max(0, ((job.processedOn ?? deliveredAt.getTime()) - job.timestamp - (job.opts.delay ?? 0)) / 1000));
      }
      const span = tracer().startSpan("run.delivery", { kind: SpanKind.CONSUMER, attributes: { "run.id": runId, "run.delivery": job.attemptsStarted ?? 1 } }, runContext(runId));
      let outcome = "error";
      try {
        const result = await context.with(trace.setSpan(runContext(runId), span), execute);
        outcome = String(result);
        return result;
      } catch (error) {
        outcome = error instanceof Error ? error.constructor.name : "error"; // SuspendRun, ShutdownAbort: handed back, not failed
        throw error;
      } finally {
        span.setAttribute("run.delivery.outcome", outcome);
        const recording = recordDelivery(db, runId, deliveredAt, span, job.data.trace)
          .catch((error) => logger.warn("run telemetry not recorded", { runId, error }))
          .finally(() => {
            span.end();
            pending.delete(recording);
          });
        pending.add(recording);
      }
    },
    /** Resolves once every delivery's background recording is done. */
    async flush(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
}

async function recordDelivery(db: Db, runId: string, deliveredAt: Date, delivery: Span, enqueuedBy: TraceCarrier | undefined): Promise<void> {
  const [run, rows] = await Promise.all([
    db.run.findUnique({ where: { id: runId }, select: { status: true, trigger: true, workflowId: true, createdAt: true, startedAt: true, finishedAt: true, error: true } }),
    db.runStep.findMany({
      where: { runId, startedAt: { gte: deliveredAt } },
      orderBy: [{ startedAt: "asc" }, { attempt: "asc" }],
      select: { stepId: true, type: true, attempt: true, status: true, error: true, startedAt: true, finishedAt: true },
    }),
  ]);
  if (!run) return;
  const parent = trace.setSpan(runContext(runId), delivery);
  const lastAttempt = new Map<string, number>();
  for (const row of rows) lastAttempt.set(row.stepId, Math.max(lastAttempt.get(row.stepId) ?? 0, row.attempt));
  for (const row of rows) {
    const type = stepTypeLabel(row.type);
    const end = row.finishedAt ?? new Date();
    stepAttempts.inc({ type, status: row.status });
    if (row.finishedAt && row.startedAt) stepAttemptDuration.observe({ type, status: row.status }, (end.getTime() - row.startedAt.getTime()) / 1000);
    recordSpan(
      "step.attempt",
      parent,
      { start: row.startedAt!, end },
      {
        "step.id": row.stepId,
        "step.type": row.type,
        "step.attempt": row.attempt,
        "step.status": row.status,
        "step.retried": row.attempt < (lastAttempt.get(row.stepId) ?? row.attempt),
        ...(row.error ? { "step.error": row.error.slice(0, 500) } : {}),
      },
      row.status === "failed" ? (row.error ?? "failed") : undefined,
    );
  }
  // Final in this delivery: the run's root span and its metrics (once — a later delivery finds it final before it began).
  if (FINAL_RUN_STATUSES.includes(run.status) && run.finishedAt && run.finishedAt >= deliveredAt) {
    const start = run.startedAt ?? run.createdAt;
    runsFinished.inc({ status: run.status });
    runDuration.observe({ status: run.status }, Math.max(0, run.finishedAt.getTime() - start.getTime()) / 1000);
    recordRunSpan(
      runId,
      { start, end: run.finishedAt },
      { "run.id": runId, "workflow.id": run.workflowId, "run.status": run.status, "run.trigger": run.trigger, ...(run.error ? { "run.error": run.error.slice(0, 500) } : {}) },
      run.status === "succeeded" ? undefined : (run.error ?? run.status),
      enqueuedBy,
    );
  }
}
