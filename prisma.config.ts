/**
 * Prisma CLI configuration: `prisma generate` only. Prisma 7's migrate commands need a native schema engine that
 * cannot be downloaded offline; migrations are hand-written SQL applied by our own runner (scripts/migrate.ts,
 * docs/decisions/0002-prisma-offline-and-own-migration-runner.md).
 */
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
});
