import type { Redis } from "./redis.js";

/** What a process-local cache needs from the Redis channel that tells it what to forget. */
export interface InvalidationListener {
  /** Subscribed (again): messages sent while the connection was down are unknown, so start from empty. */
  onLive(): void;
  /** The subscription is gone: the cache must not answer until `onLive` (fail closed). */
  onLost(): void;
  onMessage(message: string): void;
}

/**
 * Keeps a cache in step with an invalidation channel on a subscriber connection of its own (a duplicate of
 * `redis`). The cache is live only between a confirmed subscribe and the connection's close, since a message it
 * missed in between could be a revocation.
 */
export function subscribeInvalidations(redis: Redis, channel: string, connectionName: string, listener: InvalidationListener): { close(): Promise<void> } {
  const subscriber = redis.duplicate({ maxRetriesPerRequest: null, connectionName });
  subscriber.on("error", () => {});
  let closed = false;
  const subscribe = () =>
    subscriber.subscribe(channel).then(
      () => {
        if (closed || subscriber.status !== "ready") return;
        listener.onLive();
      },
      () => {}, // not subscribed: stays off until the next "ready"
    );
  subscriber.on("message", (from: string, message: string) => {
    if (from === channel) listener.onMessage(message);
  });
  subscriber.on("close", () => listener.onLost());
  subscriber.on("ready", () => void subscribe());
  return {
    async close() {
      closed = true;
      listener.onLost();
      try {
        await Promise.race([subscriber.quit(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
      } catch {
        // already closed
      }
      subscriber.disconnect();
    },
  };
}
