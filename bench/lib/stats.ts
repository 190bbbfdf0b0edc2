/** Small statistics over samples (milliseconds unless said otherwise). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface Latency {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    mean: round(mean),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/** Least-squares line through (x, y) points: slope, intercept and the slope's standard error. */
export function fitLine(points: { x: number; y: number }[]): { slope: number; intercept: number; slopeStdErr: number } {
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN, slopeStdErr: NaN };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const slope = sxx ? points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx : NaN;
  const intercept = my - slope * mx;
  const residual = points.reduce((s, p) => s + (p.y - intercept - slope * p.x) ** 2, 0);
  const slopeStdErr = n > 2 && sxx ? Math.sqrt(residual / (n - 2) / sxx) : NaN;
  return { slope, intercept, slopeStdErr };
}

/**
 * The rounds' figures (ms) and what their spread says: one round far above the others is machine noise (the
 * median of the rounds decides), rounds far apart mean a loaded machine, close rounds a steady cost.
 */
export function roundSpread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const text = `${values.map((v) => round(v, 1)).join(" / ")} ms`;
  if (sorted.length >= 3 && sorted[sorted.length - 1]! > 3 * sorted[sorted.length - 2]!) return `${text} (one slow round: noise)`;
  if (sorted[sorted.length - 1]! > 3 * sorted[0]!) return `${text} (uneven: the machine's load moves it)`;
  return `${text} (steady: a cost, not noise)`;
}
