import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

/**
 * Applies prisma/migrations/*\/migration.sql in order, recording them in Prisma's own `_prisma_migrations`
 * table (same checksum), so `prisma migrate status` agrees. Runs at every start; an advisory lock makes
 * concurrent starts (several servers, CI) apply each migration once.
 */
const LOCK_ID = 72_707_369;

export async function applyMigrations(databaseUrl: string, migrationsDir: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection lost mid-migration fails the pending query (and prepareDatabase retries); without a listener the
  // client's 'error' event would kill the process instead.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const done = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(done.rows.map((row) => row.migration_name));
    const names = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const newlyApplied: string[] = [];
    for (const name of names) {
      if (applied.has(name)) continue;
      const sql = await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), checksum, name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${name} failed: ${(error as Error).message}`);
      }
      newlyApplied.push(name);
    }
    return newlyApplied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK_ID]).catch(() => {});
    await client.end();
  }
}

/** Creates the database named in the URL when it does not exist (connecting through the `postgres` database). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  client.on("error", () => {}); // as above: the failed query reports it
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!exists.rowCount) {
      // Another process may create it between the check and here: PostgreSQL then answers 42P04, or 23505 when
      // both inserts race on pg_database's unique index. Either way the database exists, which is all we need.
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== "42P04" && error.code !== "23505") throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** prisma/migrations of this checkout (or image): every process applies them at start. */
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../../prisma/migrations");

/**
 * What every process does first: wait for PostgreSQL (it may still be starting — any start order works),
 * create the database if needed and apply pending migrations. Concurrent starts are safe: the advisory lock
 * lets one process apply each migration while the others wait for it. Gives up after `timeoutMs`.
 */
export async function prepareDatabase(
  databaseUrl: string,
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void },
  options: { timeoutMs?: number; migrationsDir?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      // Only a database that does not exist yet needs the `postgres` database (to create it).
      const applied = await applyMigrations(databaseUrl, options.migrationsDir ?? MIGRATIONS_DIR).catch(async (error: { code?: string }) => {
        if (error.code !== "3D000") throw error;
        await ensureDatabase(databaseUrl);
        return applyMigrations(databaseUrl, options.migrationsDir ?? MIGRATIONS_DIR);
      });
      if (applied.length) log.info("applied migrations", { applied });
      return;
    } catch (error) {
      const unreachable = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|starting up|Connection terminated|timeout/i.test(String((error as Error).message ?? error)) || (error as { code?: string }).code === "ECONNREFUSED";
      if (!unreachable || Date.now() > deadline) throw error;
      if (attempt === 1 || attempt % 10 === 0) log.warn("waiting for PostgreSQL", { error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
