/** Retry policy (R17), step timeouts (R19) and the engine's other timing constants (R15, R20). */
import { stepTypes, type StepType } from "@algorythmos/domain";

/** Defaults of the retry policy (R17) and of step timeouts (R19). */
export const RETRY_DEFAULTS = { backoffMs: 1_000, maxBackoffMs: 5 * 60_000, idempotentAttempts: 3, atMostOnceAttempts: 1 } as const;
export const STEP_TIMEOUT_DEFAULTS: Partial<Record<StepType, number>> = { "openai.chat": 120_000, "email.postmark": 30_000 };
export const ENGINE_STEP_TIMEOUT_MS = 5 * 60_000;
/** Partial LLM output is published at most this often (R20). */
export const CHUNK_INTERVAL_MS = 50;
/**
 * R5: in-process steps' ledger rows are carried to the next durable write, but stored at most this long after
 * the first of them (so live subscribers see a long chain of them progress) and at most this many at once.
 */
export const CARRY_MAX_MS = 50;
export const CARRY_MAX_STEPS = 200;
/** How often a running delivery re-reads its run's status between steps (R15). */
export const STATUS_CHECK_MS = 200;

/** R17: how often a step is attempted, and the backoff before the next attempt (exponential, with jitter). */
export function retryPolicy(type: StepType, config: unknown): { maxAttempts: number; backoffMs: number } {
  const own = (config as { retry?: { maxAttempts?: number; backoffMs?: number } } | null)?.retry;
  const atMostOnce = stepTypes[type].sideEffects === "at-most-once";
  return {
    maxAttempts: own?.maxAttempts ?? (atMostOnce ? RETRY_DEFAULTS.atMostOnceAttempts : RETRY_DEFAULTS.idempotentAttempts),
    backoffMs: own?.backoffMs ?? RETRY_DEFAULTS.backoffMs,
  };
}

/** Backoff before attempt `failedAttempt + 1`: backoffMs · 2^(failedAttempt−1), capped, then 50–100 % of that. */
export function backoffDelay(backoffMs: number, failedAttempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_DEFAULTS.maxBackoffMs, backoffMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(base * (0.5 + random() * 0.5));
}

/** R19: the step's own `timeoutMs` when its type has one, else a per-type default, else the engine's. */
export function stepTimeout(type: StepType, config: unknown): number {
  const own = (config as { timeoutMs?: unknown } | null)?.timeoutMs;
  return typeof own === "number" ? own : (STEP_TIMEOUT_DEFAULTS[type] ?? ENGINE_STEP_TIMEOUT_MS);
}
