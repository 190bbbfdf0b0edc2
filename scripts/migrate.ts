/** `npm run db:migrate`: creates the database if needed and applies prisma/migrations (also done by `npm start`). */
import { applyMigrations, ensureDatabase, loadEnv } from "@algorythmos/platform";
import path from "node:path";

const env = loadEnv();
await ensureDatabase(env.DATABASE_URL);
const applied = await applyMigrations(env.DATABASE_URL, path.resolve(import.meta.dirname, "../prisma/migrations"));
console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
