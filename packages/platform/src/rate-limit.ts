import type { Redis } from "ioredis";

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfter: number;
}

/**
 * One fixed-window hit as one Redis command: count, give a new window its expiry (also a key left without one),
 * read the remaining time. A `MULTI` of INCR / EXPIRE NX / TTL was the same single round trip but five
 * commands for Redis and the client to handle on every request.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }`;

type WithHit = Redis & { rateLimitHit?: (key: string, windowSeconds: number) => Promise<[number, number]> };

/** A fixed-window counter in Redis, so the limit holds across every server instance (EVALSHA; ioredis loads the script on NOSCRIPT). */
export async function hitRateLimit(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  const client = redis as WithHit;
  if (!client.rateLimitHit) client.defineCommand("rateLimitHit", { numberOfKeys: 1, lua: HIT_SCRIPT });
  const [count, ttl] = await client.rateLimitHit!(key, windowSeconds);
  return { allowed: Number(count) <= limit, retryAfter: Math.max(1, Number(ttl)) };
}
