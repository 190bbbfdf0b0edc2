import { loadEnv, type Env } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { inject } from "vitest";

/**
 * A full environment for one test: the run's database, and a Redis prefix of its own so queues and
 * channels of tests running side by side never mix.
 */
export function testEnv(overrides: Record<string, string> = {}): Env {
  return loadEnv({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    COLLAB_PORT: "0",
    DATABASE_URL: inject("databaseUrl"),
    REDIS_URL: inject("redisUrl"),
    REDIS_PREFIX: `${inject("redisPrefix")}${randomBytes(3).toString("hex")}:`,
    JWT_SECRET: "test-secret-test-secret-test-secret-0123",
    CREDENTIALS_KEY: Buffer.alloc(32, 7).toString("base64"),
    HTTP_ALLOW_HOSTS: "127.0.0.1,localhost",
    WORKER_CONCURRENCY: "4",
    // Tests sign up many users from one address; the limit tests lower these.
    RATE_LIMIT_PER_MINUTE: "100000",
    AUTH_RATE_LIMIT_PER_MINUTE: "100000",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...overrides,
  });
}
