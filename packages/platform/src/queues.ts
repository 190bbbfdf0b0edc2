import { Queue, type ConnectionOptions } from "bullmq";
import { z } from "zod";
import { currentTraceCarrier } from "./telemetry.js";

/**
 * The job catalog: every BullMQ queue, its job names and their payloads. Jobs carry ids only, never
 * secrets or bodies; new payload fields must be optional so jobs already queued still parse.
 */
export const jobCatalog = {
  runs: {
    /** `trace`: the enqueuing request's trace context (W3C), when tracing is on (platform telemetry.ts). */
    "execute-run": z.object({ runId: z.string().min(1), trace: z.object({ traceparent: z.string().max(256), tracestate: z.string().max(512).optional() }).optional() }),
  },
  /** Worker housekeeping: one `reconcile` job scheduler, and one `cron-run` job scheduler per cron trigger step. */
  maintenance: {
    reconcile: z.object({}),
    "cron-run": z.object({ workflowId: z.string().min(1), stepId: z.string().min(1) }),
  },
  /** "Test connection" from the studio and the API: the worker runs it with the executors' own guards. */
  connectors: {
    "test-connector": z.object({
      type: z.string().min(1),
      config: z.unknown(),
      credentialId: z.string().nullish(),
      workspaceId: z.string().nullish(),
    }),
  },
  /**
   * "Test step" and test case checks (docs/run-engine.md R49, R50), run on a worker because executors,
   * credentials, SSRF guards and the expression sandbox live there. `context` is the sample input
   * `{ input, steps }` the step sees (bounded by the API); the step itself is read from the live draft.
   */
  "step-tests": {
    "test-step": z.object({ workflowId: z.string().min(1), stepId: z.string().min(1), context: z.object({ input: z.unknown(), steps: z.record(z.string(), z.object({ output: z.unknown() })) }) }),
    "check-test-case": z.object({ runId: z.string().min(1), assertions: z.array(z.unknown()) }),
  },
} as const;

export type StepTestJob = z.infer<(typeof jobCatalog)["step-tests"]["test-step"]>;
export type TestCaseCheckJob = z.infer<(typeof jobCatalog)["step-tests"]["check-test-case"]>;
/** A log line the tested step's executor wrote (redacted). */
export interface StepTestLog {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
}
export interface StepTestResult {
  output: unknown;
  error: string | null;
  durationMs: number;
  logs: StepTestLog[];
}
export interface TestCaseCheckResult {
  failures: string[];
}

export type ConnectorTestJob = z.infer<(typeof jobCatalog)["connectors"]["test-connector"]>;
export interface ConnectorTestResult {
  ok: boolean;
  message: string;
}

export type QueueName = keyof typeof jobCatalog;
export type RunJob = z.infer<(typeof jobCatalog)["runs"]["execute-run"]>;
export type CronRunJob = z.infer<(typeof jobCatalog)["maintenance"]["cron-run"]>;
export type MaintenanceJob = CronRunJob | Record<string, never>;

/** BullMQ's key prefix under our Redis prefix (BullMQ adds its own ":" separators). */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}bull`;
}

export function createRunQueue(connection: ConnectionOptions, redisPrefix: string) {
  return new Queue<RunJob>("runs", { connection, prefix: bullPrefix(redisPrefix) });
}

export function createMaintenanceQueue(connection: ConnectionOptions, redisPrefix: string) {
  return new Queue<MaintenanceJob>("maintenance", { connection, prefix: bullPrefix(redisPrefix) });
}

export function createConnectorQueue(connection: ConnectionOptions, redisPrefix: string) {
  return new Queue<ConnectorTestJob, ConnectorTestResult>("connectors", { connection, prefix: bullPrefix(redisPrefix) });
}

export function createStepTestQueue(connection: ConnectionOptions, redisPrefix: string) {
  return new Queue<StepTestJob | TestCaseCheckJob, StepTestResult | TestCaseCheckResult>("step-tests", { connection, prefix: bullPrefix(redisPrefix) });
}

/** The job scheduler id of a cron trigger step. */
export const cronSchedulerId = (workflowId: string, stepId: string) => `cron:${workflowId}:${stepId}`;

/** Enqueues a run; the job id is the run id, so enqueueing twice is harmless. */
export async function enqueueRun(queue: Queue<RunJob>, runId: string): Promise<void> {
  await queue.add("execute-run", jobCatalog.runs["execute-run"].parse({ runId, trace: currentTraceCarrier() }), {
    jobId: runId,
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600 },
  });
}
