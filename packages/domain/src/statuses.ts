/** Run and step statuses: public API (GraphQL enums, REST, run events). */
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "canceled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "canceled"];

/** `waiting`: paused without a worker until something outside decides — an approval, a child run (R30, R33). */
export const STEP_STATUSES = ["pending", "running", "retrying", "succeeded", "failed", "skipped", "waiting"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const ROLES = ["owner", "editor", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do; one table so API, collab and studio agree. */
export const canWrite = (role: Role) => role === "owner" || role === "editor";
export const canManageMembers = (role: Role) => role === "owner";

/** A run event, as published to subscribers and stored for replay. */
export const RUN_EVENT_TYPES = [
  "run.queued",
  "run.started",
  "run.finished",
  "step.started",
  "step.retrying",
  "step.succeeded",
  "step.failed",
  "step.skipped",
  "step.chunk",
  /** A step paused until woken (approval, workflow.call); its output carries what the waiter exposes (an approval's URL). */
  "step.waiting",
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

export interface RunEvent {
  /** Order of the event within its run (increasing; gaps allowed). */
  seq: number;
  type: RunEventType;
  runId: string;
  workflowId: string;
  stepId: string | null;
  status: RunStatus | StepStatus;
  /** The step attempt an event is about (step events of an attempt). */
  attempt?: number;
  at: string;
  output?: unknown;
  error?: string | null;
  /** R47: the step was not executed; its output is the pinned one (a draft run). */
  pinned?: boolean;
}
