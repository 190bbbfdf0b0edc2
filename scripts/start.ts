/**
 * `npm start`: the whole studio on one origin. With no DATABASE_URL it runs an embedded PostgreSQL, with no
 * REDIS_URL a private redis-server (both keep their data under .data/). Then it applies migrations, seeds
 * the demo once, builds the studio when its sources changed, and serves everything on PORT (3000).
 *
 * Its output is the banner and real problems only (LOG_LEVEL=info shows the processes' logs); a failure is
 * one line `npm start failed: <what to do>`, after everything it started has stopped.
 */
import { applyMigrations, createLogger, ensureDatabase, guardProcess, EnvSchema, loadEnv, localStudioAllowHosts, onShutdown, startTelemetry, type Telemetry } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildStudioIfStale } from "./build-studio.js";
import { startEmbeddedPostgres, startPrivateRedis, StartError, type Service } from "./embedded-services.js";
import type { Stack } from "./stack.js";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.join(root, ".data");

interface LocalSecrets {
  JWT_SECRET: string;
  CREDENTIALS_KEY: string;
  POSTGRES_PASSWORD: string;
}

/** Secrets for the embedded setup, made once and kept with its data (mode 600) so sessions survive restarts. */
function localSecrets(): LocalSecrets {
  const file = path.join(dataDir, "secrets.json");
  const stored = (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {}) as Partial<LocalSecrets>;
  const secrets: LocalSecrets = {
    JWT_SECRET: stored.JWT_SECRET ?? randomBytes(32).toString("base64url"),
    CREDENTIALS_KEY: stored.CREDENTIALS_KEY ?? randomBytes(32).toString("base64"),
    // Clusters made before the password was random were made with "postgres".
    POSTGRES_PASSWORD: stored.POSTGRES_PASSWORD ?? (existsSync(path.join(dataDir, "postgres/PG_VERSION")) ? "postgres" : randomBytes(24).toString("base64url")),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored)) writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

const services: Service[] = [];
const stopServices = async () => {
  while (services.length) await services.pop()!.stop().catch(() => {});
};

/** Starts both in parallel; whichever fails, the other is stopped before the first error is thrown. */
async function startServices(given: NodeJS.ProcessEnv, postgresPassword: string) {
  const [postgres, redis] = await Promise.allSettled([
    given.DATABASE_URL ? null : startEmbeddedPostgres({ root, dataDir: path.join(dataDir, "postgres"), password: postgresPassword, logFile: path.join(dataDir, "postgres.log") }),
    given.REDIS_URL ? null : startPrivateRedis(path.join(dataDir, "redis")),
  ]);
  for (const result of [postgres, redis]) if (result.status === "fulfilled" && result.value) services.push(result.value);
  for (const result of [postgres, redis]) if (result.status === "rejected") throw result.reason;
  return { postgres: (postgres as PromiseFulfilledResult<Service | null>).value, redis: (redis as PromiseFulfilledResult<Service | null>).value };
}

const given = process.env;
const logger = createLogger("start", (given.LOG_LEVEL as "warn" | undefined) ?? "warn");
guardProcess(logger);
// Registered before anything starts, so a signal or a crash at any point stops what did start.
let stack: Stack | null = null;
let telemetry: Telemetry | null = null;
onShutdown(logger, async () => {
  console.log("Stopping…");
  await stack?.close();
  await telemetry?.shutdown();
  await stopServices();
});

try {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = localSecrets();
  const { postgres, redis } = await startServices(given, secrets.POSTGRES_PASSWORD);
  const env = loadEnv({
    JWT_SECRET: secrets.JWT_SECRET,
    CREDENTIALS_KEY: secrets.CREDENTIALS_KEY,
    LOG_LEVEL: "warn",
    // The demo workflow calls the studio itself: only its port of loopback; other private addresses stay refused.
    HTTP_ALLOW_HOSTS: localStudioAllowHosts(given.PORT ?? EnvSchema.shape.PORT.parse(undefined)),
    ...given,
    DATABASE_URL: given.DATABASE_URL ?? postgres!.url,
    REDIS_URL: given.REDIS_URL ?? redis!.url,
  });
  await ensureDatabase(env.DATABASE_URL);
  await applyMigrations(env.DATABASE_URL, path.join(root, "prisma/migrations"));
  await buildStudioIfStale(root, (message) => console.log(message), env.ASSET_URL_PREFIX);

  // Loaded only now (the server, collab and worker modules take seconds to load), so a service that cannot
  // start is reported at once.
  const [{ startStack }, { seedDemo, DEMO_LOGIN }] = await Promise.all([import("./stack.js"), import("./seed.js")]);
  telemetry = await startTelemetry(env, "studio", logger); // traces when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md)
  stack = await startStack(env, logger, { maintenance: true });
  await seedDemo(stack.deps, stack.url);
  console.log(`\n  Algorythmos Studio is running at ${stack.url}\n  Demo login: ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}\n  Press Ctrl-C to stop.\n`);
} catch (error) {
  const message = describe(error);
  await stack?.close().catch(() => {});
  await stopServices();
  console.error(`npm start failed: ${message}`);
  process.exit(1);
}

/** The failure as one sentence with its fix (StartError messages already are). */
function describe(error: unknown): string {
  if (error instanceof StartError) return error.message;
  const code = (error as { code?: string }).code;
  if (code === "EADDRINUSE") {
    const port = given.PORT ?? EnvSchema.shape.PORT.parse(undefined);
    return `port ${port} is in use: stop what listens there, or start on another port (PORT=3100 npm start).`;
  }
  return error instanceof Error ? error.message : String(error);
}
