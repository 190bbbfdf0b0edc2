/**
 * The suite's own receiver for http.request steps: a cooperating API that honours `Idempotency-Key` (a
 * repeated key gets the first answer again and is not applied twice) and counts, per run tag, every key it
 * saw. A tag reached under two different keys is an effect the receiver could not deduplicate.
 */
import { createServer, type Server } from "node:http";

export interface CountingServer {
  url: string;
  /** tag → Idempotency-Keys received, with how many times each. */
  keysByTag: Map<string, Map<string, number>>;
  requests: number;
  requestsWithoutKey: number;
  figures(tags?: Iterable<string>): { effects: number; duplicateEffects: number; sameKeyRedeliveries: number };
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingServer(): Promise<CountingServer> {
  const state: CountingServer = {
    url: "",
    keysByTag: new Map(),
    requests: 0,
    requestsWithoutKey: 0,
    figures(tags) {
      const wanted = tags ? new Set(tags) : null;
      let effects = 0;
      let duplicateEffects = 0;
      let sameKeyRedeliveries = 0;
      for (const [tag, keys] of state.keysByTag) {
        if (wanted && !wanted.has(tag)) continue;
        effects++;
        if (keys.size > 1) duplicateEffects++;
        for (const count of keys.values()) sameKeyRedeliveries += count - 1;
      }
      return { effects, duplicateEffects, sameKeyRedeliveries };
    },
    reset() {
      state.keysByTag.clear();
      state.requests = 0;
      state.requestsWithoutKey = 0;
    },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    request.resume();
    request.on("end", () => {
      state.requests++;
      const tag = url.searchParams.get("tag") ?? "";
      const key = String(request.headers["idempotency-key"] ?? "");
      if (!key) state.requestsWithoutKey++;
      let keys = state.keysByTag.get(tag);
      if (!keys) state.keysByTag.set(tag, (keys = new Map()));
      keys.set(key, (keys.get(key) ?? 0) + 1);
      const delayMs = Math.min(Number(url.searchParams.get("delayMs") ?? 0) || 0, 10_000);
      setTimeout(() => {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, tag }));
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
