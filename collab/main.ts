/** `npm run collab`: the y-websocket service alone, at ws://HOST:COLLAB_PORT/collab/<workflowId>. */
import { COLLAB_PATH_PREFIX } from "@algorythmos/domain";
import { closeRedis, createDb, createLogger, createRedis, loadEnv, onShutdown, guardProcess, prepareDatabase, redisSessionRevocations, subscribeAccessChanges, subscribeSessionEnds } from "@algorythmos/platform";
import { answerHealthOrMetrics, postgresCheck, redisCheck, roomFigures, startCollabHeartbeat, startTelemetry } from "@algorythmos/platform";
import { createServer } from "node:http";
import { DocRelay } from "./relay.js";
import { createCollabService } from "./service.js";

const env = loadEnv();
const logger = createLogger("collab", env.LOG_LEVEL);
guardProcess(logger);
const telemetry = await startTelemetry(env, "collab", logger);
await prepareDatabase(env.DATABASE_URL, logger); // any start order works: waits for PostgreSQL, applies pending migrations
const db = createDb(env.DATABASE_URL);
const redis = createRedis(env.REDIS_URL, { name: "collab" });
const relaySubscriber = createRedis(env.REDIS_URL, { blocking: true, name: "collab-relay" });
const relay = new DocRelay(redis, relaySubscriber, env.REDIS_PREFIX, logger, { dropRate: env.COLLAB_RELAY_DROP_RATE });
const collab = createCollabService({
  db,
  logger,
  jwtSecret: env.JWT_SECRET,
  relay,
  antiEntropyMs: env.COLLAB_ANTI_ENTROPY_MS,
  subscribeAccessChanges: (handler) => subscribeAccessChanges(relaySubscriber, env.REDIS_PREFIX, handler),
  subscribeSessionEnds: (handler) => subscribeSessionEnds(relaySubscriber, env.REDIS_PREFIX, handler),
  revocations: redisSessionRevocations(redis, env.REDIS_PREFIX),
});
let ready = false;
const stopHeartbeat = startCollabHeartbeat(redis, env.REDIS_PREFIX, () => roomFigures(collab.rooms)); // rooms for the operations page

const server = createServer(async (request, response) => {
  // GET /healthz (PostgreSQL, Redis; rooms) and /metrics (docs/observability.md).
  const checks = { postgres: postgresCheck(db), redis: redisCheck(redis) };
  if (await answerHealthOrMetrics(request, response, { ready: () => ready, checks, metricsToken: env.METRICS_TOKEN, extra: () => ({ rooms: collab.rooms.size }) })) return;
  response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "NOT_FOUND", message: "Connect a y-websocket client to /collab/<workflowId>" } }));
});
server.on("upgrade", (request, socket, head) => {
  socket.on("error", () => socket.destroy()); // a reset mid-handshake must not crash the process
  if ((request.url ?? "").startsWith(COLLAB_PATH_PREFIX)) collab.handleUpgrade(request, socket, head);
  else socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
});
await new Promise<void>((resolve) => server.listen(env.COLLAB_PORT, env.HOST, resolve));
ready = true;
logger.info("collab listening", { url: `ws://${env.HOST}:${env.COLLAB_PORT}${COLLAB_PATH_PREFIX}<workflowId>` });

onShutdown(logger, async () => {
  ready = false;
  await stopHeartbeat();
  await collab.close(); // flushes every room before the sockets go
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await closeRedis(relaySubscriber);
  await closeRedis(redis);
  await db.$disconnect();
  await telemetry?.shutdown();
});
