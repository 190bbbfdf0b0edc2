import { Redis, type RedisOptions } from "ioredis";

export { Redis };

/**
 * Redis connections. `blocking` connections (BullMQ workers, pub/sub subscribers) must never give up on a
 * command, so they retry forever; short-lived request connections fail fast.
 */
export function createRedis(url: string, options: { blocking?: boolean; name?: string } = {}): Redis {
  const base: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  const redis = new Redis(url, base);
  // A lost connection is retried by ioredis itself; what it costs shows on the commands that fail (and in
  // /healthz). Without a listener ioredis prints every reconnect attempt to stderr.
  redis.on("error", () => {});
  return redis;
}

/** Closes a connection without waiting on a server that is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  } catch {
    // already closed
  }
  redis.disconnect();
}
