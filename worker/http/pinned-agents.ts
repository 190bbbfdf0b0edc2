import { isIP } from "node:net";
import { Pool } from "undici";

/**
 * Keep-alive connections for outbound calls (docs/run-engine.md, R61): one undici Pool (an "agent" here: the
 * connections of one origin) per (origin, checked address), so a call reuses a connection to the address the SSRF guard checked for this very call. The guard
 * still runs on every call and every redirect hop (worker/ssrf.ts); only the TCP/TLS connection is reused.
 * A name that now resolves to another address gets another agent (the old one is never asked to carry it),
 * and a name that now resolves to a refused address never reaches this module.
 */

/** A `lookup` that answers `address` whatever the name resolves to now (DNS rebinding cannot redirect a connection). */
export function pinnedLookup(address: string) {
  const family = isIP(address) === 6 ? 6 : 4;
  return (
    _hostname: string,
    options: { all?: boolean } | number | undefined,
    callback: (error: Error | null, address: string | { address: string; family: number }[], family?: number) => void,
  ) => {
    if (typeof options === "object" && options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

export interface PinnedAgentsOptions {
  /** At most this many agents are kept; the least recently used one is closed to make room. */
  maxAgents?: number;
  /** An agent unused for this long is closed (looked at whenever the pool is used). */
  idleMs?: number;
  /** How long an idle connection stays open (a server's shorter `Keep-Alive: timeout` wins). */
  keepAliveMs?: number;
  /** How long `close()` lets requests in flight finish before destroying their connections. */
  closeGraceMs?: number;
}

interface Entry {
  agent: Pool;
  usedAt: number;
}

export class PinnedAgents {
  readonly #entries = new Map<string, Entry>(); // in order of last use, oldest first
  readonly #maxAgents: number;
  readonly #idleMs: number;
  readonly #keepAliveMs: number;
  readonly #closeGraceMs: number;
  #holders = 0;

  constructor(options: PinnedAgentsOptions = {}) {
    this.#maxAgents = Math.max(1, options.maxAgents ?? 64);
    this.#idleMs = options.idleMs ?? 60_000;
    this.#keepAliveMs = options.keepAliveMs ?? 4_000;
    this.#closeGraceMs = options.closeGraceMs ?? 2_000;
  }

  /** How many agents are open. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The agent for `url`'s origin that connects to `address` (the address the guard checked for this call), or,
   * with no address (an allow-listed name, which is not resolved by the guard), one that resolves normally.
   * Dispatch on it at once: an agent evicted later is closed gracefully, so a request it was given completes.
   */
  dispatcherFor(url: URL, address: string | null): Pool {
    const now = Date.now();
    const key = `${url.origin} ${address ?? ""}`;
    const found = this.#entries.get(key);
    if (found) {
      this.#entries.delete(key);
      found.usedAt = now;
      this.#entries.set(key, found);
      this.#sweep(now);
      return found.agent;
    }
    this.#sweep(now);
    while (this.#entries.size >= this.#maxAgents) this.#evict(this.#entries.keys().next().value!);
    const agent = new Pool(url.origin, {
      keepAliveTimeout: this.#keepAliveMs,
      keepAliveMaxTimeout: this.#keepAliveMs,
      ...(address ? { connect: { lookup: pinnedLookup(address) as never } } : {}),
    });
    this.#entries.set(key, { agent, usedAt: now });
    return agent;
  }

  /**
   * A part of the process that sends through the pool (a run worker) holds it; the last holder to let go closes
   * every agent. Two run workers in one process (tests) so never cut each other's requests.
   */
  hold(): () => Promise<void> {
    this.#holders++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--this.#holders === 0) await this.close();
    };
  }

  /** Closes every agent (worker shutdown): requests in flight get `closeGraceMs`, then their connections are destroyed. */
  async close(): Promise<void> {
    const agents = [...this.#entries.values()].map((entry) => entry.agent);
    this.#entries.clear();
    await Promise.all(
      agents.map(async (agent) => {
        const closed = agent.close().then(
          () => true,
          () => true,
        );
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#closeGraceMs)));
        const inTime = await Promise.race([closed, late]);
        clearTimeout(timer);
        if (!inTime) await agent.destroy().catch(() => {});
      }),
    );
  }

  /** Closes the agents unused for `idleMs` (the oldest come first, so it stops at the first recent one). */
  #sweep(now: number) {
    for (const [key, entry] of this.#entries) {
      if (now - entry.usedAt < this.#idleMs) break;
      this.#evict(key);
    }
  }

  #evict(key: string) {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    // Graceful (a request it carries completes; its idle connections close now), and a turn of the event loop
    // later: fetch dispatches a few microtasks after it was handed the agent.
    if (entry) setImmediate(() => void entry.agent.close().catch(() => {}));
  }
}

/** The worker process's pool; `startRunWorker`'s close() closes it (R10 drain, then connections). */
export const pinnedAgents = new PinnedAgents();
