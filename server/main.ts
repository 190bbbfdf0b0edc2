/** `npm run server`: the API and the studio, alone, against DATABASE_URL and REDIS_URL. */
import { createLogger, loadEnv, onShutdown, guardProcess, prepareDatabase, startTelemetry } from "@algorythmos/platform";
import { createServerApp } from "./app.js";
import { createServerDeps } from "./deps.js";
import { startHttpServer } from "./http.js";

const env = loadEnv();
const logger = createLogger("server", env.LOG_LEVEL);
guardProcess(logger);
const telemetry = await startTelemetry(env, "server", logger); // before anything is served: every request gets a span
await prepareDatabase(env.DATABASE_URL, logger); // any start order works: waits for PostgreSQL, applies pending migrations
const deps = createServerDeps(env, logger);
const { app, yoga, setReady } = await createServerApp(deps);
const http = await startHttpServer({ app, yoga, port: env.PORT, host: env.HOST });
setReady(true);
logger.info("server listening", { url: `http://${env.HOST}:${http.port}` });

onShutdown(
  logger,
  async () => {
    setReady(false);
    await http.close({ drainMs: 10_000 }); // in-flight requests finish first
    await deps.close();
    await telemetry?.shutdown();
  },
  { timeoutMs: 15_000 },
);
