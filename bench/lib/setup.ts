import { applyMigrations, ensureDatabase } from "@algorythmos/platform";
import { Redis } from "ioredis";
import path from "node:path";
import pg from "pg";
import { config } from "./config.js";
import { repoRoot } from "./proc.js";

/** A fresh `algo_bench` database with the migrations applied (dropped first if a run left one behind). */
export async function prepareDatabase(): Promise<void> {
  await dropDatabase();
  await ensureDatabase(config.databaseUrl);
  await applyMigrations(config.databaseUrl, path.join(repoRoot, "prisma", "migrations"));
}

export async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: config.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${config.database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Deletes every key of this run's Redis prefix. */
export async function cleanRedis(): Promise<number> {
  const redis = new Redis(config.redisUrl);
  let cursor = "0";
  let deleted = 0;
  try {
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${config.redisPrefix}*`, "COUNT", 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
  return deleted;
}
