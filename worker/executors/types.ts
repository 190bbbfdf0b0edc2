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
  /** Aborted when the worker shuts down; executors pass it to every wait and request. */
  signal: AbortSignal;
  env: Env;
  logger: Logger;
  stepId: string;
  runId: string;
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
