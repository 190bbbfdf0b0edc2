import type { Latency } from "./stats.js";

/** One side of a comparison: our figure or a peer's. */
export interface Side {
  name: string;
  value: number;
  latency?: Latency;
  /** Peak resident memory of the processes involved (MiB), sampled during the measured rounds. */
  peakRssMiB?: number;
  /** Each measured round's figure, in A B A B order. */
  rounds?: number[];
}

/** One line of the results table. */
export interface Row {
  scenario: string;
  case: string;
  metric: string;
  unit: string;
  higherIsBetter: boolean;
  ours: Side;
  peer: Side | null;
  /** ours / peer. */
  ratio: number | null;
}

export interface Goal {
  scenario: string;
  goal: string;
  measured: string;
  pass: boolean;
  /** For a MISS: what limits it, measured in the same run (time inside/between steps, statements, Redis commands, CPU per run). */
  limit?: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  rows: Row[];
  goals: Goal[];
  notes: string[];
  skipped?: string;
  seconds?: number;
}

export interface Scenario {
  name: string;
  title: string;
  /** How long it may run before it is stopped as failed (default: 6 minutes). */
  timeoutMs?: number;
  run(): Promise<ScenarioResult>;
}

export function row(scenario: string, kase: string, metric: string, unit: string, higherIsBetter: boolean, ours: Side, peer: Side | null): Row {
  return { scenario, case: kase, metric, unit, higherIsBetter, ours, peer, ratio: peer && peer.value ? ours.value / peer.value : null };
}

export const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
