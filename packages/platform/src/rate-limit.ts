import type { Redis } from "ioredis";

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfter: number;
}

/**
 * A fixed-window counter in Redis, so the limit holds across every server instance. One round trip:
 * INCR, set the expiry only when the key is new, read the remaining time.
 */
export async function hitRateLimit(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  const results = await redis.multi().incr(key).expire(key, windowSeconds, "NX").ttl(key).exec();
  const count = Number(results?.[0]?.[1] ?? 0);
  const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
  return { allowed: count <= limit, retryAfter: Math.max(1, ttl) };
}

/** Reads a counter without counting this call. */
export async function peekRateLimit(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  const [count, ttl] = await Promise.all([redis.get(key), redis.ttl(key)]);
  return { allowed: Number(count ?? 0) < limit, retryAfter: ttl > 0 ? ttl : windowSeconds };
}
