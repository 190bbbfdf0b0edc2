/**
 * O14: the Grafana dashboard (deploy/grafana/algorythmos-studio.json) only uses series our processes
 * export: every metric an expr names is in the registry of packages/platform/src/metrics.ts (histograms as
 * _bucket/_sum/_count), and every label it groups or filters by is one of that metric's labels (or a label
 * Prometheus adds when scraping: job, instance; `le` for histogram buckets).
 */
import { metricsRegistry } from "@algorythmos/platform";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync("deploy/grafana/algorythmos-studio.json", "utf8")) as { panels: Panel[] };
const SCRAPE_LABELS = ["job", "instance"];
const PROMQL_WORDS = new Set(["sum", "max", "min", "avg", "count", "rate", "irate", "increase", "by", "without", "histogram_quantile", "le", "on", "ignoring", "and", "or", "unless"]);

async function exported(): Promise<Map<string, Set<string>>> {
  const series = new Map<string, Set<string>>();
  for (const metric of await metricsRegistry.getMetricsAsJSON()) {
    const labels = new Set<string>([...metric.values.flatMap((value) => Object.keys(value.labels)), ...((metricsRegistry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] })?.labelNames ?? [])]);
    if (String(metric.type) === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) series.set(metric.name + suffix, new Set([...labels, ...(suffix === "_bucket" ? ["le"] : [])]));
    } else series.set(metric.name, labels);
  }
  return series;
}

/** The metric names an expr selects, and the labels it groups by or matches on. */
export function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = [...withoutStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((match) => match[1]!.split(",").map((label) => label.trim()).filter(Boolean));
  labels.push(...[...withoutStrings.matchAll(/\{([^}]*)\}/g)].flatMap((match) => [...match[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((pair) => pair[1]!)));
  const bare = withoutStrings.replace(/\{[^}]*\}/g, "").replace(/\b(?:by|without)\s*\([^)]*\)/g, "").replace(/\[[^\]]*\]/g, "");
  const metrics = [...bare.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((match) => match[1]!).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
  return { metrics, labels };
}

describe("Grafana dashboard", () => {
  it("O14: every expr names metrics our processes export, and only their labels", async () => {
    const series = await exported();
    const problems: string[] = [];
    let exprs = 0;
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets ?? []) {
        exprs++;
        const { metrics, labels } = namesIn(expr);
        if (!metrics.length) problems.push(`${panel.title}: "${expr}" names no metric`);
        for (const metric of metrics) {
          const known = series.get(metric);
          if (!known) {
            problems.push(`${panel.title}: ${metric} is not exported`);
            continue;
          }
          for (const label of labels) if (!known.has(label) && !SCRAPE_LABELS.includes(label) && !metrics.some((other) => series.get(other)?.has(label))) problems.push(`${panel.title}: ${metric} has no label "${label}"`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(exprs).toBeGreaterThanOrEqual(15);
  });

  it("the check itself catches a misspelt metric and a label the metric does not have", async () => {
    const series = await exported();
    const misspelt = namesIn("sum(rate(algo_http_request_total[5m]))").metrics;
    expect(misspelt.filter((metric) => !series.has(metric))).toEqual(["algo_http_request_total"]);
    const { metrics, labels } = namesIn('sum by (workspace) (rate(algo_runs_finished_total{status="failed"}[5m]))');
    expect(metrics).toEqual(["algo_runs_finished_total"]);
    expect(labels.filter((label) => !series.get(metrics[0]!)!.has(label))).toEqual(["workspace"]);
  });
});
