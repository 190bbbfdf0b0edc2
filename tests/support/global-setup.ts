import { applyMigrations, ensureDatabase } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import type { TestProject } from "vitest/node";
import { testServices } from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

/**
 * One database and one Redis key prefix per test run, so runs never collide with each other or with a
 * developer's own data; both are removed at the end.
 */
export default async function setup(project: TestProject) {
  const { postgresUrl, redisUrl } = testServices();
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const databaseUrl = new URL(postgresUrl);
  databaseUrl.pathname = `/algo_test_${runId}`;
  await ensureDatabase(databaseUrl.toString());
  await applyMigrations(databaseUrl.toString(), path.resolve("prisma/migrations"));
  const redisPrefix = `algo_test:${runId}:`;
  project.provide("databaseUrl", databaseUrl.toString());
  project.provide("redisUrl", redisUrl);
  project.provide("redisPrefix", redisPrefix);

  return async () => {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "algo_test_${runId}" WITH (FORCE)`);
    await admin.end();
    const redis = new Redis(redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${redisPrefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    await redis.quit();
  };
}
