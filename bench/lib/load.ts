/**
 * HTTP load with autocannon, keeping every response time (autocannon's own histogram has no p95).
 * `rate` makes it open-loop at that many requests per second overall; without it, as fast as it can.
 */
import autocannon from "autocannon";
import { latency, type Latency } from "./stats.js";

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  non2xx: number;
  durationS: number;
  /** 2xx responses per second. */
  rps: number;
  latency: Latency;
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationS: number;
  rate?: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  let ok = 0;
  const started = performance.now();
  const instance = autocannon({
    url: options.url,
    method: options.method ?? "POST",
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
    ...(options.rate ? { overallRate: options.rate } : {}),
    timeout: 30,
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    times.push(responseTime);
    if (status >= 200 && status < 300) ok++;
  });
  const result: any = await new Promise((resolve, reject) => {
    instance.on("done", resolve);
    instance.on("error", reject);
  });
  const durationS = (performance.now() - started) / 1000;
  return {
    requests: times.length,
    ok,
    errors: result.errors ?? 0,
    non2xx: result.non2xx ?? 0,
    durationS,
    rps: ok / durationS,
    latency: latency(times),
  };
}
