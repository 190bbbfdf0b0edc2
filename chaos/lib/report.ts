/** Figures, the one table the suite prints, and chaos/results/latest.json. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Figure {
  name: string;
  value: number | string | null;
  /** The goal line, e.g. "0" or "< 5 s"; absent for figures shown for context only. */
  goal?: string;
  pass?: boolean;
}

export interface ScenarioResult {
  name: string;
  title: string;
  figures: Figure[];
  notes: string[];
  seconds: number;
  error?: string;
}

/** A count whose goal is zero. */
export const zero = (name: string, value: number): Figure => ({ name, value, goal: "0", pass: value === 0 });
/** A duration (ms, or null for "did not happen within the bound") whose goal is under `limitMs`. */
export const under = (name: string, ms: number | null, limitMs: number, boundMs?: number): Figure => ({
  name,
  value: ms === null ? `> ${Math.round((boundMs ?? limitMs) / 100) / 10} s` : `${(ms / 1000).toFixed(1)} s`,
  goal: `< ${limitMs / 1000} s`,
  pass: ms !== null && ms < limitMs,
});
/** A yes/no that must be yes. */
export const yes = (name: string, value: boolean): Figure => ({ name, value: value ? "yes" : "no", goal: "yes", pass: value });
/** Shown for context; no goal. */
export const info = (name: string, value: number | string | null): Figure => ({ name, value });
/** `a of b` that must be all. */
export const all = (name: string, got: number, of: number): Figure => ({ name, value: `${got} of ${of}`, goal: "all", pass: got === of });

/** Outcome counts as "OK×12, HTTP 503 SERVICE_UNAVAILABLE×3". */
export function tally(outcomes: string[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${outcome}×${n}`).join(", ") || "none";
}

export function table(results: ScenarioResult[]): string {
  const rows: string[][] = [["scenario", "figure", "value", "goal", ""]];
  for (const result of results) {
    if (result.error) rows.push([result.name, "scenario did not complete", result.error.slice(0, 80), "", "FAIL"]);
    for (const figure of result.figures) {
      rows.push([result.name, figure.name, String(figure.value ?? "—"), figure.goal ?? "", figure.pass === undefined ? "" : figure.pass ? "PASS" : "FAIL"]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.min(70, Math.max(...rows.map((row) => row[column]!.length))));
  const line = (row: string[]) => row.map((cell, column) => cell.slice(0, 70).padEnd(widths[column]!)).join("  ").trimEnd();
  const rule = widths.map((width) => "─".repeat(width)).join("  ");
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}

export const failures = (result: ScenarioResult) => [
  ...(result.error ? [`${result.name}: did not complete: ${result.error}`] : []),
  ...result.figures.filter((figure) => figure.pass === false).map((figure) => `${result.name}: ${figure.name} = ${figure.value} (goal ${figure.goal})`),
];

export function writeLatest(file: string, report: { command: string; tier: string; seed: number; totalSeconds: number; code: { commit: string; uncommittedFiles: number }; settings: Record<string, string>; unknownSettings: string[]; scenarios: ScenarioResult[] }) {
  mkdirSync(path.dirname(file), { recursive: true });
  const cpus = os.cpus();
  const body = {
    date: new Date().toISOString(),
    machine: `${cpus.length} × ${cpus[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    ...report,
    passed: report.scenarios.every((scenario) => failures(scenario).length === 0),
  };
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
}
