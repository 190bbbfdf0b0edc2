import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";

export { Prisma, PrismaClient };
export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

/** The pg pool under each client createDb made: the prepared point reads below run on it. */
const pools = new WeakMap<Db, pg.Pool>();

/** One Prisma client per process, on a pg pool it shares with the prepared reads (and ends on $disconnect). */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

// ---------- prepared point reads ----------
//
// Prisma plans and interprets every query in JS (~0.3 ms of CPU for a findUnique here); the few reads made on
// every request are named (server-side prepared) statements on the same pool instead: PostgreSQL parses and
// plans each once per connection, and pg only binds and decodes. They live here, in one module, with the
// column lists written once; everything else goes through Prisma.

/**
 * Prisma's `timestamp(3)` columns have no zone and hold UTC; pg would read them in the process's local zone.
 * Per query, so the pool's other users (Prisma's adapter has its own parsers) are untouched.
 */
const UTC_TIMESTAMP = 1114;
const preparedTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === UTC_TIMESTAMP ? (value: string) => new Date(`${value.replace(" ", "T")}Z`) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Runs one named statement on the client's pool (a client not made by createDb, e.g. in a test, goes through $queryRawUnsafe). */
export async function preparedQuery<T>(db: Db, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = pools.get(db);
  if (!pool) return db.$queryRawUnsafe<T[]>(text, ...values);
  const result = await pool.query({ name, text, values, types: preparedTypes });
  return result.rows as T[];
}

/** A workflow's row as the API shows it (every column but the document and the secrets). */
export interface WorkflowRow {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  definition: Prisma.JsonValue;
  problems: Prisma.JsonValue;
  latestVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export const WORKFLOW_ROW_COLUMNS = `id, "workspaceId", name, description, definition, problems, "latestVersion", "createdAt", "updatedAt"`;

/** The read behind `workflow(id)` and every other single-workflow answer. */
export async function readWorkflowRow(db: Db, id: string): Promise<WorkflowRow | null> {
  const rows = await preparedQuery<WorkflowRow>(db, "algo_workflow_row", `SELECT ${WORKFLOW_ROW_COLUMNS} FROM "Workflow" WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Every multi-write goes through here, so isolation and timeouts are decided in one place. */
export function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(work, { maxWait: 5_000, timeout: 15_000 });
}

/**
 * A unique constraint violation: P2002 from the query API; from $queryRaw/$executeRaw, P2010 ("raw query
 * failed") whose meta holds SQLSTATE 23505 — through the pg driver adapter as
 * `meta.driverAdapterError.cause` ({ kind: "UniqueConstraintViolation", originalCode: "23505" }).
 */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (error.code === "P2002") return true;
  if (error.code !== "P2010") return false;
  const meta = error.meta as { code?: unknown; driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } | undefined;
  const cause = meta?.driverAdapterError?.cause;
  return meta?.code === "23505" || cause?.kind === "UniqueConstraintViolation" || cause?.originalCode === "23505";
}

/** Prisma's Json input type for a value we know is JSON-serialisable. */
export function json(value: unknown): Prisma.InputJsonValue {
  return (value ?? null) as Prisma.InputJsonValue;
}

/** Prisma's Bytes input wants an ArrayBuffer-backed array; Yjs hands out ArrayBufferLike views. */
export function bytes(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(value);
}

/** For nullable Json columns: SQL NULL for null/undefined (Prisma refuses a bare null there). */
export function nullableJson(value: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";
}

/**
 * Awaits a conditional single-row `update` (its `where` holds the id and the expected state): one statement,
 * where `updateMany` costs a transaction of three round trips. False when no row was in that state.
 */
export async function updatedIf(update: PromiseLike<unknown>): Promise<boolean> {
  try {
    await update;
    return true;
  } catch (error) {
    if (isRecordNotFound(error)) return false;
    throw error;
  }
}
