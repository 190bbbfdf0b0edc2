/** `npm run db:migrate`: creates the database if needed and applies prisma/migrations (every process also does it at start). */
import { applyMigrations, ensureDatabase, loadEnv, MIGRATIONS_DIR } from "@algorythmos/platform";

const env = loadEnv();
await ensureDatabase(env.DATABASE_URL);
const applied = await applyMigrations(env.DATABASE_URL, MIGRATIONS_DIR);
console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
