// TEMPORARY harness for checking the studio (deleted after use): server + collab, no worker.
import { COLLAB_PATH_PREFIX } from "@algorythmos/domain";
import { applyMigrations, createLogger, createRedis, ensureDatabase, loadEnv } from "@algorythmos/platform";
import path from "node:path";
import { DocRelay } from "./collab/relay.js";
import { createCollabService } from "./collab/service.js";
import { createServerApp } from "./server/app.js";
import { createServerDeps } from "./server/deps.js";
import { startHttpServer } from "./server/http.js";
import { startRunWorker } from "./worker/run-worker.js";

const env = loadEnv({
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/algo_studio_dev_check",
  REDIS_URL: "redis://127.0.0.1:6379",
  REDIS_PREFIX: "algo_studio_dev:",
  JWT_SECRET: "x".repeat(40),
  CREDENTIALS_KEY: Buffer.alloc(32, 1).toString("base64"),
  PORT: "3917",
  LOG_LEVEL: "warn",
  AUTH_RATE_LIMIT_PER_MINUTE: "1000",
  HTTP_ALLOW_HOSTS: "localhost,127.0.0.1",
} as never);
await ensureDatabase(env.DATABASE_URL);
await applyMigrations(env.DATABASE_URL, path.resolve("prisma/migrations"));
const logger = createLogger("dev", env.LOG_LEVEL);
const deps = createServerDeps(env, logger);
const { app, yoga, setReady } = await createServerApp(deps);
const relaySub = createRedis(env.REDIS_URL, { blocking: true, name: "relay" });
const collab = createCollabService({ db: deps.db, logger, jwtSecret: env.JWT_SECRET, relay: new DocRelay(deps.redis, relaySub, env.REDIS_PREFIX, logger) } as never);
await startHttpServer({ app, yoga, port: env.PORT, host: env.HOST, upgrades: { [COLLAB_PATH_PREFIX]: collab.handleUpgrade } });
await startRunWorker({ env, db: deps.db, redis: deps.redis, logger } as never);
setReady(true);
console.log("READY http://127.0.0.1:3917");
