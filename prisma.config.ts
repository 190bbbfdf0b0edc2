/**
 * Prisma CLI configuration (migrate diff/dev/status). Prisma 6 runs its JavaScript schema engine here, over
 * @prisma/adapter-pg, because the native engine cannot be downloaded offline (docs/decisions/002-prisma-offline.md).
 * The app itself never loads this file: it applies migrations with scripts/migrate.ts.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { randomUUID } from "node:crypto";
import { defineConfig } from "prisma/config";
import pg from "pg";
// @ts-expect-error: internal module without types; patched for the schema engine's catalog queries only.
import PgResult from "pg/lib/result.js";

// adapter-pg cannot decode catalog column types (name, "char", regproc, ...) the schema engine reads
// (prisma/orm#27403): have pg hand them over as text.
const AS_TEXT: Record<number, number> = { 18: 25, 19: 25, 22: 25, 24: 25, 30: 25, 194: 25, 2205: 25, 2206: 25, 1002: 1009, 1003: 1009 };
const addFields = PgResult.prototype.addFields;
PgResult.prototype.addFields = function (fields: { dataTypeID: number }[]) {
  for (const field of fields) field.dataTypeID = AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
  return addFields.call(this, fields);
};

const databaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** adapter-pg would reuse the main database as the shadow one: give it a throwaway database of its own. */
async function withShadowDatabase(adapter: PrismaPg) {
  const connectToShadowDb = async () => {
    const name = `prisma_shadow_${randomUUID().replaceAll("-", "")}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    const shadow = await new PrismaPg({ connectionString: url.toString() }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      const dropper = new pg.Client({ connectionString: databaseUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await dropper.end();
    };
    return shadow;
  };
  return Object.assign(adapter, { connectToShadowDb });
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  experimental: { adapter: true },
  engine: "js",
  adapter: async () => withShadowDatabase(new PrismaPg({ connectionString: databaseUrl })),
});
