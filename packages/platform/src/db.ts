import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";

export { Prisma, PrismaClient };
export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

/** One Prisma client per process. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 }) });
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
