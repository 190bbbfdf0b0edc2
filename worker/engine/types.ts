/** The shapes the engine's modules share: its dependencies, a run's state, ledger rows and event publishing. */
import type { RunEvent, RunStatus, StepStatus, WorkflowDefinition } from "@algorythmos/domain";
import type { CarriedWrites, Db, Env, EventWrite, Logger, Prisma, Redis } from "@algorythmos/platform";

export interface EngineDeps {
  env: Env;
  db: Db;
  /** Non-blocking connection, for publishing run events. */
  redis: Redis;
  logger: Logger;
  /** Aborted when the worker shuts down: the run is left for the next delivery (R10). */
  signal: AbortSignal;
  /**
   * Aborted when the worker starts draining (R10): no new step starts, steps in flight finish, then the run
   * is handed back (ShutdownAbort) for the next delivery. `signal` interrupts what is still in flight later.
   */
  draining?: AbortSignal;
}

export interface RunControl {
  /** Aborted when the run was stopped from outside (canceled, or timed out by the reconciler): R15. */
  stop?: AbortSignal;
}

export type RunOutcome = RunStatus | "missing" | "skipped";

export interface LedgerRow {
  id: string;
  stepId: string;
  attempt: number;
  status: StepStatus;
  output: unknown;
  error: string | null;
  startedAt: Date | null;
}

export interface Settled {
  status: "succeeded" | "failed" | "skipped";
  output?: unknown;
  branch?: "true" | "false";
}

export type EventInput = Pick<RunEvent, "type" | "stepId" | "status"> & Partial<Pick<RunEvent, "output" | "error" | "attempt">>;
/** Stores and publishes a run event; a failure is logged and the run goes on (the ledger is the truth). */
export type Publish = ((event: EventInput) => Promise<unknown>) & {
  /**
   * Stores the event in the same SQL statement as a ledger write (one round trip; storeRunEventWith), with
   * every write carried so far, then publishes them. False when the statement stored no event (its write
   * matched no row). Database errors are thrown (the write did not happen either; a duplicate key is
   * DuplicateDelivery); a failure to publish to Redis is logged.
   */
  withLedger(event: EventInput, statement: EventWrite): Promise<boolean>;
  /**
   * R5: ledger writes and their events (with their own times), stored with the next write: an in-process
   * step's row, or (`urgent`) a step's deferred result, which is stored before the event loop turns if no
   * write takes it first. An event's `onlyIf` (an index into `writes`) stores it only when that write matched.
   */
  carry(writes: Prisma.Sql[], events: CarryEvent[], options?: { urgent?: boolean }): void;
  /** Stores what is carried now. */
  flush(): Promise<void>;
  /** Hands what is carried to a lifecycle write (finishRun) that commits it; `restore` when that write failed. */
  take(): Promise<CarriedWrites | undefined>;
  restore(carried: CarriedWrites | undefined): void;
  /** Publishes events a lifecycle write stored. */
  announce(stored: RunEvent[]): Promise<void>;
};
export type CarryEvent = EventInput & { at?: Date; onlyIf?: number };
export type Finish = (status: "succeeded" | "failed", result: { output?: unknown; error?: string }) => Promise<RunOutcome>;

export interface RunState {
  runId: string;
  workspaceId: string;
  input: unknown;
  definition: WorkflowDefinition;
  fromStepId: string | null;
  stepInputOverride: unknown;
  /** R4: the trigger steps this run starts at (domain runStartTriggers); absent: every trigger. */
  startTriggers?: ReadonlySet<string>;
}
