import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { benchRoot } from "./proc.js";
import { round } from "./stats.js";
import type { Row, ScenarioResult } from "./types.js";

export const resultsDir = path.join(benchRoot, "results");

export interface Report {
  date: string;
  machine: string;
  command: string;
  totalSeconds: number;
  scenarios: (ScenarioResult & { measuredAt: string })[];
}

const fmt = (value: number | undefined | null, digits = 2) => (value === undefined || value === null || !Number.isFinite(value) ? "–" : String(round(value, digits)));
const lat = (side: Row["ours"] | null) => (side?.latency ? `${fmt(side.latency.p50)} / ${fmt(side.latency.p95)} / ${fmt(side.latency.p99)}` : "–");

/** The results table in Markdown: one line per measured case. */
export function markdownTable(scenarios: ScenarioResult[]): string {
  const lines = [
    "| scenario | case | ours | peer | ratio ours/peer | ours p50 / p95 / p99 ms | peer p50 / p95 / p99 ms | peak RSS ours / peer MiB |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const scenario of scenarios) {
    if (scenario.skipped) {
      lines.push(`| ${scenario.name} | skipped: ${scenario.skipped} | | | | | | |`);
      continue;
    }
    for (const r of scenario.rows) {
      lines.push(
        `| ${r.scenario} | ${r.case} | ${fmt(r.ours.value, 3)} ${r.unit} | ${r.peer ? `${fmt(r.peer.value, 3)} ${r.unit} (${r.peer.name})` : "–"} | ${r.ratio === null ? "–" : `${fmt(r.ratio)}×`} | ${lat(r.ours)} | ${lat(r.peer)} | ${r.ours.peakRssMiB ?? "–"} / ${r.peer?.peakRssMiB ?? "–"} |`,
      );
    }
  }
  return lines.join("\n");
}

export function goalLines(scenarios: ScenarioResult[]): string[] {
  return scenarios.flatMap((scenario) =>
    scenario.goals.map(
      (goal) =>
        `${goal.pass ? "PASS" : "MISS"}  ${goal.scenario}: ${goal.goal} — ${goal.measured}` +
        (!goal.pass ? `\n        limited by: ${goal.limit ?? "no breakdown measured for this goal (see the scenario's notes)"}` : ""),
    ),
  );
}

/** Plain-text table for the console. */
export function consoleTable(scenarios: ScenarioResult[]): string {
  const header = ["scenario", "case", "ours", "peer", "ratio", "ours p50/p95/p99", "peer p50/p95/p99", "RSS MiB ours/peer"];
  const body = scenarios.flatMap((scenario) =>
    scenario.skipped
      ? [[scenario.name, `skipped: ${scenario.skipped}`, "", "", "", "", "", ""]]
      : scenario.rows.map((r) => [
          r.scenario,
          r.case,
          `${fmt(r.ours.value, 3)} ${r.unit}`,
          r.peer ? `${fmt(r.peer.value, 3)} ${r.unit} ${r.peer.name}` : "–",
          r.ratio === null ? "–" : `${fmt(r.ratio)}×`,
          lat(r.ours),
          lat(r.peer),
          `${r.ours.peakRssMiB ?? "–"} / ${r.peer?.peakRssMiB ?? "–"}`,
        ]),
  );
  const widths = header.map((_, i) => Math.min(60, Math.max(...[header, ...body].map((line) => line[i]!.length))));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** Merges this run's scenarios into latest.json (a partial run keeps the other scenarios' last results). */
export function writeLatest(report: Report): Report {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, "latest.json");
  let merged = report;
  if (existsSync(file)) {
    const previous = JSON.parse(readFileSync(file, "utf8")) as Report;
    const fresh = new Set(report.scenarios.map((s) => s.name));
    const order = ["webhook", "engine", "yjs", "graphql", "subscriptions", "point-read", "soak"];
    merged = {
      ...report,
      scenarios: [...previous.scenarios.filter((s) => !fresh.has(s.name)), ...report.scenarios].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)),
    };
  }
  writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  return merged;
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A small horizontal bar chart: how many times better ours is than the peer on each compared case (log
 * scale; right of the 1× line is better for us), coloured by the goal of that scenario.
 */
export function writeChart(report: Report): void {
  const bars = report.scenarios.flatMap((scenario) => {
    const passed = scenario.goals.every((goal) => goal.pass);
    return scenario.rows
      .filter((r) => r.peer && r.ratio && r.ratio > 0 && !r.case.startsWith("run of"))
      .map((r) => ({ label: `${r.scenario}: ${r.case}`, factor: r.higherIsBetter ? r.ratio! : 1 / r.ratio!, passed }));
  });
  const width = 860;
  const left = 390;
  const barArea = width - left - 80;
  const rowHeight = 26;
  const top = 48;
  const height = top + bars.length * rowHeight + 40;
  const min = 1 / 16;
  const max = 64;
  const x = (factor: number) => left + ((Math.log2(Math.min(max, Math.max(min, factor))) - Math.log2(min)) / (Math.log2(max) - Math.log2(min))) * barArea;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="600">Algorythmos Studio vs peers — how many times better ours is (log scale, measured in one run)</text>`,
    `<text x="12" y="36" fill="#555">${escape(report.date.slice(0, 10))} · ${escape(report.machine)}</text>`,
  ];
  for (const tick of [1 / 16, 1 / 4, 1, 4, 16, 64]) {
    const tx = x(tick);
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${height - 28}" stroke="${tick === 1 ? "#333" : "#ddd"}" stroke-width="${tick === 1 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${tx}" y="${height - 14}" text-anchor="middle" fill="#555">${tick < 1 ? `1/${1 / tick}` : tick}×</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const x1 = x(1);
    const x2 = x(bar.factor);
    const colour = bar.factor >= 1 ? (bar.passed ? "#2f9e44" : "#e8a33d") : "#d9480f";
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label.length > 60 ? bar.label.slice(0, 58) + "…" : bar.label)}</text>`);
    parts.push(`<rect x="${Math.min(x1, x2)}" y="${y + 4}" width="${Math.max(1, Math.abs(x2 - x1))}" height="${rowHeight - 10}" fill="${colour}"/>`);
    parts.push(`<text x="${Math.max(x1, x2) + 4}" y="${y + 15}" fill="#333">${round(bar.factor, 2)}×</text>`);
  });
  parts.push("</svg>");
  writeFileSync(path.join(resultsDir, "chart.svg"), parts.join("\n") + "\n");
}

/** The README's table: date, machine, results and goals, as Markdown (bench/results/latest.md). */
export function writeMarkdown(report: Report): void {
  const lines = [
    `Measured ${report.date.slice(0, 16).replace("T", " ")} UTC on ${report.machine} (\`${report.command}\`, ${report.totalSeconds} s).`,
    "",
    markdownTable(report.scenarios),
    "",
    "| goal | result | measured |",
    "|---|---|---|",
    ...report.scenarios.flatMap((scenario) => scenario.goals.map((goal) => `| ${goal.scenario}: ${goal.goal} | ${goal.pass ? "PASS" : "**MISS**"} | ${goal.measured}${!goal.pass && goal.limit ? `; limited by: ${goal.limit}` : ""} |`)),
  ];
  writeFileSync(path.join(resultsDir, "latest.md"), lines.join("\n") + "\n");
}
