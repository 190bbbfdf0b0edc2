import {
  credentialTypes,
  FINAL_RUN_STATUSES,
  isStepType,
  newId,
  outgoingEdges,
  parseStepConfig,
  stepTypes,
  topologicalOrder,
  validateDefinition,
  WorkflowDefinition,
  type CredentialSecret,
  type CredentialType,
  type Edge,
  type RunEvent,
  type RunStatus,
  type Step,
  type StepStatus,
  type StepType,
} from "@algorythmos/domain";
import { decryptSecret, isUniqueViolation, Prisma, publishRunEvent, type Db, type Env, type Logger, type Redis } from "@algorythmos/platform";
import { DuplicateDelivery, ShutdownAbort, StepError, errorMessage } from "./errors.js";
import { executors, type ExecutorArgs, type ExecutorResult, type RunContext } from "./executors/index.js";

/**
 * The run engine (docs/run-engine.md): executes one run from its captured definition, step by step in
 * topological order, recording every attempt in the RunStep ledger. No BullMQ in here — the worker calls
 * `executeRun` for each delivered job, and a re-delivered job resumes from the ledger.
 */
export interface EngineDeps {
  env: Env;
  db: Db;
  /** Non-blocking connection, for publishing run events. */
  redis: Redis;
  logger: Logger;
  /** Aborted when the worker shuts down: the run is left for the next delivery (R10). */
  signal: AbortSignal;
}

export type RunOutcome = RunStatus | "missing" | "skipped";

interface LedgerRow {
  id: string;
  stepId: string;
  attempt: number;
  status: StepStatus;
  output: unknown;
  error: string | null;
}

interface Settled {
  status: "succeeded" | "failed" | "skipped";
  output?: unknown;
  branch?: "true" | "false";
}

type EventInput = Pick<RunEvent, "type" | "stepId" | "status"> & Partial<Pick<RunEvent, "output" | "error">>;

export async function executeRun(deps: EngineDeps, runId: string): Promise<RunOutcome> {
  const { db, logger } = deps;
  const run = await db.run.findUnique({
    where: { id: runId },
    select: { id: true, workflowId: true, workspaceId: true, status: true, definition: true, input: true },
  });
  if (!run) {
    logger.warn("run not found; job dropped", { runId });
    return "missing";
  }
  // R1: a final run is never touched again.
  if (FINAL_RUN_STATUSES.includes(run.status)) return "skipped";

  const publish = (event: EventInput) =>
    publishRunEvent(deps.db, deps.redis, deps.env.REDIS_PREFIX, {
      ...event,
      runId,
      workflowId: run.workflowId,
      at: new Date().toISOString(),
    });

  // R2: queued → running (once; a re-delivery finds it running and continues).
  if (run.status === "queued") {
    const started = await db.run.updateMany({ where: { id: runId, status: "queued" }, data: { status: "running", startedAt: new Date() } });
    if (started.count === 0) return executeRun(deps, runId); // changed under us (canceled, or another delivery): look again
    await publish({ type: "run.started", stepId: null, status: "running" });
  }

  const finish = async (status: "succeeded" | "failed", result: { output?: unknown; error?: string }): Promise<RunOutcome> => {
    const done = await db.run.updateMany({
      where: { id: runId, status: "running" },
      data: {
        status,
        output: result.output === undefined ? undefined : jsonValue(result.output),
        error: result.error ?? null,
        finishedAt: new Date(),
      },
    });
    if (done.count === 0) return (await currentStatus(db, runId)) ?? "missing";
    await publish({ type: "run.finished", stepId: null, status, output: result.output, error: result.error ?? null });
    logger.info("run finished", { runId, status, error: result.error });
    return status;
  };

  try {
    // R3: the captured definition must parse and validate, else the run fails with the reasons.
    const parsed = WorkflowDefinition.safeParse(run.definition);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join(".") || "definition"}: ${issue.message}`);
      return await finish("failed", { error: `Invalid workflow definition: ${reasons.join("; ")}` });
    }
    const definition = parsed.data;
    const problems = validateDefinition(definition);
    if (problems.length) {
      return await finish("failed", { error: `Invalid workflow definition: ${problems.map((p) => p.message).join("; ")}` });
    }
    return await walk(deps, { runId, workspaceId: run.workspaceId, input: run.input, definition }, publish, finish);
  } catch (error) {
    if (error instanceof ShutdownAbort || error instanceof DuplicateDelivery) throw error;
    // R9: every unexpected error still ends the run in a recorded failed state.
    logger.error("run crashed", { runId, error });
    return finish("failed", { error: `Internal error: ${errorMessage(error)}` });
  }
}

async function walk(
  deps: EngineDeps,
  run: { runId: string; workspaceId: string; input: unknown; definition: WorkflowDefinition },
  publish: (event: EventInput) => Promise<unknown>,
  finish: (status: "succeeded" | "failed", result: { output?: unknown; error?: string }) => Promise<RunOutcome>,
): Promise<RunOutcome> {
  const { db } = deps;
  const { runId, definition } = run;
  const steps = new Map(definition.steps.map((step) => [step.id, step]));
  const outgoing = outgoingEdges(definition);
  const incoming = new Map<string, Edge[]>(definition.steps.map((step) => [step.id, []]));
  for (const edges of outgoing.values()) for (const edge of edges) incoming.get(edge.target)!.push(edge);

  // R5: the ledger — the latest attempt of every step recorded so far.
  const rows = await db.runStep.findMany({
    where: { runId },
    orderBy: { attempt: "asc" },
    select: { id: true, stepId: true, attempt: true, status: true, output: true, error: true },
  });
  const latest = new Map<string, LedgerRow>();
  for (const row of rows) latest.set(row.stepId, row);

  const settled = new Map<string, Settled>();
  const context: RunContext = { input: run.input, steps: {} };
  let failure: { stepId: string; message: string } | null = null;

  const label = (step: Step) => (step.name && step.name !== step.id ? `"${step.name}" (${step.id})` : `"${step.id}"`);
  const skip = async (step: Step, prior: LedgerRow | undefined) => {
    settled.set(step.id, { status: "skipped" });
    try {
      await db.runStep.create({
        data: { id: newId("rst"), runId, stepId: step.id, type: step.type, attempt: (prior?.attempt ?? 0) + 1, status: "skipped", finishedAt: new Date() },
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateDelivery(runId, step.id);
      throw error;
    }
    await publish({ type: "step.skipped", stepId: step.id, status: "skipped" });
  };

  for (const stepId of topologicalOrder(definition)) {
    const step = steps.get(stepId)!;
    const prior = latest.get(stepId);

    // R5: a settled attempt is reused, never executed again.
    if (prior?.status === "succeeded") {
      settled.set(stepId, { status: "succeeded", output: prior.output, branch: branchOf(step, prior.output) });
      context.steps[stepId] = { output: prior.output };
      continue;
    }
    if (prior?.status === "skipped") {
      settled.set(stepId, { status: "skipped" });
      continue;
    }
    if (prior?.status === "failed" && !failure) {
      // Recorded failed before a crash, the run not yet finished: no retries yet, so the run fails (R8).
      settled.set(stepId, { status: "failed" });
      failure = { stepId, message: `Step ${label(step)} failed: ${prior.error ?? "unknown error"}` };
      continue;
    }

    // R8: after a failure nothing else starts; every step not yet settled is skipped.
    if (failure) {
      await skip(step, prior);
      continue;
    }
    // R6: a step with incoming edges runs when at least one of them is taken, else it is skipped.
    const edges = incoming.get(stepId)!;
    if (edges.length && !edges.some((edge) => taken(edge, steps, settled))) {
      await skip(step, prior);
      continue;
    }
    // R15: a run canceled meanwhile stops here; the canceller owns its final state.
    const status = await currentStatus(db, runId);
    if (status !== "running") return status ?? "missing";

    const result = await attempt(deps, { runId, workspaceId: run.workspaceId, step, prior, context, publish });
    if (result.status === "succeeded") {
      settled.set(stepId, { status: "succeeded", output: result.output, branch: result.branch });
      context.steps[stepId] = { output: result.output };
    } else {
      settled.set(stepId, { status: "failed" });
      failure = { stepId, message: `Step ${label(step)} failed: ${result.error}` };
    }
  }

  if (failure) return finish("failed", { error: failure.message });
  // R16: the run's output is the outputs of its succeeded sink steps (no outgoing edges), by step id.
  const output: Record<string, unknown> = {};
  for (const step of definition.steps) {
    if (outgoing.get(step.id)!.length === 0 && settled.get(step.id)?.status === "succeeded") output[step.id] = settled.get(step.id)!.output;
  }
  return finish("succeeded", { output });
}

function taken(edge: Edge, steps: Map<string, Step>, settled: Map<string, Settled>): boolean {
  const source = settled.get(edge.source);
  if (source?.status !== "succeeded") return false;
  if (steps.get(edge.source)!.type !== "condition") return true;
  return edge.label === source.branch;
}

function branchOf(step: Step, output: unknown): "true" | "false" | undefined {
  if (step.type !== "condition") return undefined;
  return (output as { result?: unknown } | null)?.result === true ? "true" : "false";
}

type AttemptResult = { status: "succeeded"; output: unknown; branch?: "true" | "false" } | { status: "failed"; error: string };

/** One attempt of one step: a ledger row, step.started, the executor, then step.succeeded or step.failed (R5, R9). */
async function attempt(
  deps: EngineDeps,
  args: {
    runId: string;
    workspaceId: string;
    step: Step;
    prior: LedgerRow | undefined;
    context: RunContext;
    publish: (event: EventInput) => Promise<unknown>;
  },
): Promise<AttemptResult> {
  const { db, logger } = deps;
  const { runId, step, prior, context, publish } = args;
  const type = step.type as StepType; // validated in executeRun (R3)

  // R10: an attempt left `running` was interrupted (crash or shutdown). Close it; repeat the step only when
  // repeating it is safe (sideEffects "none" or "idempotent").
  if (prior && (prior.status === "running" || prior.status === "pending" || prior.status === "retrying")) {
    const atMostOnce = isStepType(type) && stepTypes[type].sideEffects === "at-most-once";
    const error = atMostOnce
      ? "Interrupted while running; not repeated because it may already have taken effect"
      : "Interrupted while running (the worker stopped); attempted again";
    await db.runStep.updateMany({ where: { id: prior.id, status: prior.status }, data: { status: "failed", error, finishedAt: new Date() } });
    if (atMostOnce) {
      await publish({ type: "step.failed", stepId: step.id, status: "failed", error });
      return { status: "failed", error };
    }
  }

  const rowId = newId("rst");
  let config: unknown;
  try {
    config = parseStepConfig(type, step.config);
  } catch {
    config = step.config;
  }
  try {
    await db.runStep.create({
      data: {
        id: rowId,
        runId,
        stepId: step.id,
        type: step.type,
        attempt: (prior?.attempt ?? 0) + 1,
        status: "running",
        input: jsonValue(config),
        startedAt: new Date(),
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DuplicateDelivery(runId, step.id);
    throw error;
  }
  await publish({ type: "step.started", stepId: step.id, status: "running" });

  let result: ExecutorResult;
  try {
    const executor = executors[type] as (args: ExecutorArgs<StepType>) => Promise<ExecutorResult>;
    if (!executor) throw new StepError(`No executor for step type "${step.type}"`);
    result = await executor({
      config: parseStepConfig(type, step.config),
      context,
      signal: deps.signal,
      env: deps.env,
      logger: deps.logger,
      stepId: step.id,
      runId,
      credential: (id, credentialType) => loadCredential(deps, args.workspaceId, id, credentialType),
    });
  } catch (error) {
    if (error instanceof ShutdownAbort) throw error;
    const message = errorMessage(error);
    const output = error instanceof StepError ? error.output : undefined;
    logger.info("step failed", { runId, stepId: step.id, type, error: message, retryable: error instanceof StepError ? error.retryable : true });
    await db.runStep.update({
      where: { id: rowId },
      data: { status: "failed", error: message, output: output === undefined ? undefined : jsonValue(output), finishedAt: new Date() },
    });
    await publish({ type: "step.failed", stepId: step.id, status: "failed", error: message, ...(output === undefined ? {} : { output }) });
    return { status: "failed", error: message };
  }

  const output = toJson(result.output);
  await db.runStep.update({
    where: { id: rowId },
    data: {
      status: "succeeded",
      output: jsonValue(output),
      ...(result.input === undefined ? {} : { input: jsonValue(toJson(result.input)) }),
      finishedAt: new Date(),
    },
  });
  await publish({ type: "step.succeeded", stepId: step.id, status: "succeeded", output });
  return { status: "succeeded", output, branch: result.branch };
}

/** A credential of the run's workspace, decrypted and checked against its type's schema (never logged). */
async function loadCredential<C extends CredentialType>(deps: EngineDeps, workspaceId: string, id: string, type: C): Promise<CredentialSecret<C>> {
  const row = await deps.db.credential.findFirst({ where: { id, workspaceId }, select: { name: true, type: true, secret: true } });
  if (!row) throw new StepError(`Credential "${id}" does not exist in this workspace`);
  if (row.type !== type) throw new StepError(`Credential "${row.name}" is a ${row.type} credential, not ${type}`);
  let secret: unknown;
  try {
    secret = decryptSecret(deps.env.CREDENTIALS_KEY, row.secret);
  } catch {
    throw new StepError(`Credential "${row.name}" cannot be decrypted (was CREDENTIALS_KEY changed?)`);
  }
  const parsed = credentialTypes[type].secretSchema.safeParse(secret);
  if (!parsed.success) throw new StepError(`Credential "${row.name}" is not a valid ${type} credential`);
  return parsed.data as CredentialSecret<C>;
}

async function currentStatus(db: Db, runId: string): Promise<RunStatus | null> {
  const row = await db.run.findUnique({ where: { id: runId }, select: { status: true } });
  return row?.status ?? null;
}

/** A step's output as plain JSON (undefined → null; dates → strings). */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/** Prisma wants JsonNull for a JSON null in a nullable Json column. */
function jsonValue(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}
