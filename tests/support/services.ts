/**
 * Where the test run finds PostgreSQL and Redis: TEST_POSTGRES_URL / TEST_REDIS_URL, else the local services.
 * The URL names the maintenance database; each run creates its own database beside it.
 */
export function testServices() {
  return {
    postgresUrl: process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}
