/**
 * The engine's hot statements (run and ledger writes, the run's load) on the pg pool under the process's
 * Prisma client (db.ts `preparedQuery`): pg only binds and decodes, where Prisma's `$queryRaw` costs ~0.2 ms
 * more CPU per statement (docs/benchmarks.md). Statements are built with `Prisma.sql` (its `.text` has `$n`
 * placeholders); one whose text never changes is given a name, so PostgreSQL parses and plans it once per
 * connection. Errors are pg's own (`code` is the SQLSTATE): use isDuplicateKey, not Prisma's codes.
 */
import { isUniqueViolation, preparedQuery, type Db, type Prisma } from "./db.js";

/** Runs one statement on the pool. `name` only for a statement whose text is always the same. */
export function query<T>(db: Db, statement: Prisma.Sql, name = ""): Promise<T[]> {
  return preparedQuery<T>(db, name, statement.text, statement.values);
}

/** A unique violation (SQLSTATE 23505) from pg directly or through Prisma (P2002, raw P2010). */
export function isDuplicateKey(error: unknown): boolean {
  return isUniqueViolation(error) || (error as { code?: unknown } | null)?.code === "23505";
}
