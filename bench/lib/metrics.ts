/**
 * Reads a process's own Prometheus series (`GET /metrics`, packages/platform/src/metrics.ts) before and after a
 * measured round, for breakdowns that need no change to the code measured: how long a collab process held
 * each update (receive → durable append → broadcast), its relay publish lag, the server's request time, and
 * the event-loop delay prom-client samples (its histogram is reset at every scrape, so the reading after a
 * round covers exactly the round when the one before it was taken just before).
 */
export type Scrape = Map<string, number>;

/** All samples of `<base>/metrics` by their full name with labels, as printed (`name{a="b"}` → value). */
export async function scrapeMetrics(base: string): Promise<Scrape> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const samples: Scrape = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** A scrape that fails (a process busy past 5 s, or gone) yields no figures rather than ending the scenario. */
export const tryScrape = (base: string): Promise<Scrape | null> => scrapeMetrics(base).catch(() => null);

export interface HistogramDelta {
  count: number;
  /** Mean, ms. */
  meanMs: number;
  /** The upper bound of the bucket holding the 99th percentile, ms (Infinity past the last bucket). */
  p99Ms: number;
}

/** What a histogram (seconds) recorded between two scrapes, for the series whose labels contain `labels` (e.g. `kind="update"`). */
export function histogramDelta(before: Scrape | null, after: Scrape | null, name: string, labels = ""): HistogramDelta | null {
  if (!before || !after) return null;
  const pick = (suffix: string) =>
    [...after.keys()].filter((key) => key.startsWith(`${name}_${suffix}`) && key.includes(labels)).map((key) => ({ key, value: after.get(key)! - (before.get(key) ?? 0) }));
  const count = pick("count").reduce((sum, s) => sum + s.value, 0);
  const sum = pick("sum").reduce((total, s) => total + s.value, 0);
  if (!count) return null;
  const buckets = new Map<number, number>();
  for (const { key, value } of pick("bucket")) {
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (!le) continue;
    const bound = le === "+Inf" ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const p99 = bounds.find((bound) => buckets.get(bound)! >= 0.99 * count) ?? Infinity;
  return { count, meanMs: (sum / count) * 1000, p99Ms: p99 * 1000 };
}

/** prom-client's event-loop delay gauges (seconds) of a scrape, in ms: since the scrape before it. */
export function eventLoopLag(scrape: Scrape | null): { p99: number; max: number; mean: number } | null {
  if (!scrape) return null;
  const read = (name: string) => (scrape.get(`algo_nodejs_eventloop_lag_${name}_seconds`) ?? NaN) * 1000;
  const lag = { p99: read("p99"), max: read("max"), mean: read("mean") };
  return Number.isFinite(lag.p99) ? lag : null;
}
