/**
 * `npm start`: the whole studio on one origin. With no DATABASE_URL it runs an embedded PostgreSQL, with no
 * REDIS_URL a private redis-server (both keep their data under .data/). Then it applies migrations, seeds
 * the demo once, builds the studio when its sources changed, and serves everything on PORT (3000).
 */
import { applyMigrations, createLogger, ensureDatabase, guardProcess, EnvSchema, loadEnv, localStudioAllowHosts, onShutdown } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildStudioIfStale } from "./build-studio.js";
import { startEmbeddedPostgres, startPrivateRedis, type Service } from "./embedded-services.js";
import { seedDemo, DEMO_LOGIN } from "./seed.js";
import { startStack } from "./stack.js";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(root, ".data");
mkdirSync(dataDir, { recursive: true });

/** Secrets for the embedded setup, made once and kept with its data so sessions survive restarts. */
function localSecrets(): { JWT_SECRET: string; CREDENTIALS_KEY: string } {
  const file = path.join(dataDir, "secrets.json");
  if (!existsSync(file)) {
    const secrets = { JWT_SECRET: randomBytes(32).toString("base64url"), CREDENTIALS_KEY: randomBytes(32).toString("base64") };
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

const services: Service[] = [];
const stopServices = async () => {
  for (const service of services.reverse()) await service.stop().catch(() => {});
};

try {
  const given = process.env;
  const logLevel = (given.LOG_LEVEL as "info" | undefined) ?? "info";
  const logger = createLogger("start", logLevel);
  guardProcess(logger);
  // Registered before anything starts, so a signal or a crash at any point stops what did start.
  let stack: Awaited<ReturnType<typeof startStack>> | null = null;
  onShutdown(logger, async () => {
    await stack?.close();
    await stopServices();
  });
  // Each service is recorded as soon as it runs, so a failure of the other still stops it.
  const started = (service: Service) => (services.push(service), service);
  const [postgres, redis] = await Promise.all([
    given.DATABASE_URL ? null : startEmbeddedPostgres(path.join(dataDir, "postgres")).then(started),
    given.REDIS_URL ? null : startPrivateRedis(path.join(dataDir, "redis")).then(started),
  ]);
  const env = loadEnv({
    ...localSecrets(),
    // The demo workflow calls the studio itself: only its port of loopback; other private addresses stay refused.
    HTTP_ALLOW_HOSTS: localStudioAllowHosts(given.PORT ?? EnvSchema.shape.PORT.parse(undefined)),
    ...given,
    DATABASE_URL: given.DATABASE_URL ?? postgres!.url,
    REDIS_URL: given.REDIS_URL ?? redis!.url,
  });
  await ensureDatabase(env.DATABASE_URL);
  await applyMigrations(env.DATABASE_URL, path.join(root, "prisma/migrations"));
  await buildStudioIfStale(root, (message) => console.log(message));

  stack = await startStack(env, logger, { maintenance: true });
  await seedDemo(stack.deps, stack.url);
  console.log(`\n  Algorythmos Studio is running at ${stack.url}\n  Demo login: ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}\n  Press Ctrl-C to stop.\n`);
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`);
  await stopServices();
  process.exit(1);
}

