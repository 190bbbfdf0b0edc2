/**
 * The run engine (docs/run-engine.md): executes one run from its captured definition — steps decided in
 * topological order, independent branches concurrently — recording every attempt in the RunStep ledger.
 * No BullMQ in here — the worker calls `executeRun` for each delivered job, and a re-delivered job resumes
 * from the ledger. It throws `SuspendRun` when only delays are left (R13) and `ShutdownAbort` on shutdown.
 *
 * This file is the engine's public entry; the engine itself lives in worker/engine/:
 *   run.ts       executeRun — load the run, start it, decide its steps (R6, R8, R13, R15) by scope (top level,
 *                loop iterations, R25), onError paths and switch branches (R26, R27), finish it (R16)
 *   attempt.ts   one attempt of one step — ledger row, executor, timeout/abort, retry decision (R10, R17, R19, R20)
 *   scope.ts     what the scopes of one walk share (the run, its ledger, its graph) and a scope's result
 *   engine-steps.ts  the registry of steps the walk hands to a handler instead of an attempt (delay R13,
 *                workflow.call R30, approval R33, ai.agent R40); engine-step-contract.ts, the handlers' contract
 *   loop.ts      loop steps: the body walked per item, rows `<stepId>@<i>` (R25, R28)
 *   delay.ts     delay steps (R13)
 *   ledger.ts    the RunStep ledger — reading it, skipping steps, closing a stopped run (R5, R15)
 *   writer.ts    how a delivery's ledger writes reach PostgreSQL: one statement per durable write, carrying
 *                the rows of in-process steps and deferred results (R5, "Ledger writes")
 *   policy.ts    retry policy, backoff, step timeouts and the engine's timing constants (R17, R19)
 *   step-config.ts, credentials.ts, types.ts — a step's resolved config (R21), credentials, shared shapes
 */
export { loadCredential } from "./engine/credentials.js";
export {
  backoffDelay,
  CHUNK_INTERVAL_MS,
  ENGINE_STEP_TIMEOUT_MS,
  RETRY_DEFAULTS,
  retryPolicy,
  STATUS_CHECK_MS,
  STEP_TIMEOUT_DEFAULTS,
  stepTimeout,
} from "./engine/policy.js";
export { executeRun } from "./engine/run.js";
export type { EngineDeps, RunControl, RunOutcome } from "./engine/types.js";
