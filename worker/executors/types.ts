import type { CredentialSecret, CredentialType, StepConfig, StepType } from "@algorythmos/domain";
import type { Env, Logger } from "@algorythmos/platform";

/** What an expression or an executor sees of the run so far: `{ input, steps: { <stepId>: { output } } }`. */
export interface RunContext {
  input: unknown;
  steps: Record<string, { output: unknown }>;
}

export interface ExecutorArgs<T extends StepType> {
  /** The step's config, parsed with the domain schema (defaults applied). */
  config: StepConfig<T>;
  context: RunContext;
  /**
   * Aborted when the worker shuts down, the run is canceled or the step's timeout passes; executors pass it
   * to every wait and request, and throw `AbortedError` when it fires (the engine tells which it was).
   */
  signal: AbortSignal;
  env: Env;
  logger: Logger;
  stepId: string;
  runId: string;
  /** 1 for the first attempt of the step in this run (R5, R17). */
  attempt: number;
  /** `<runId>:<stepId>:<attempt>`: sent with side effects that take one (R18). */
  idempotencyKey: string;
  /** Streams partial output (LLM tokens) as `step.chunk` run events; batched by the engine. */
  chunk(delta: string): void;
  /** Loads and decrypts a credential of the run's workspace; a missing or mistyped one is a StepError. */
  credential<C extends CredentialType>(id: string, type: C): Promise<CredentialSecret<C>>;
}

export interface ExecutorResult {
  output: unknown;
  /** For `condition` steps: the label of the outgoing edges to follow. */
  branch?: "true" | "false";
  /** What to record as the step's input in the ledger (e.g. the resolved request); defaults to the config. */
  input?: unknown;
}

export type Executor<T extends StepType> = (args: ExecutorArgs<T>) => Promise<ExecutorResult>;
