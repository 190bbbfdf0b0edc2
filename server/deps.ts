import { bullPrefix, closeRedis, createConnectorQueue, createDb, createRedis, createRunQueue, startRevocationCache, startRoleCache, type Env, type Logger, type Redis } from "@algorythmos/platform";
import { QueueEvents } from "bullmq";
import type { ServerDeps } from "./context.js";

/** Opens the server's connections; `close` releases them in reverse order. */
export function createServerDeps(env: Env, logger: Logger): ServerDeps & { close(): Promise<void> } {
  const db = createDb(env.DATABASE_URL);
  const redis = createRedis(env.REDIS_URL, { name: "server" });
  const subscriber = createRedis(env.REDIS_URL, { blocking: true, name: "server-subscriber" });
  const roles = startRoleCache(db, redis, env.REDIS_PREFIX);
  const revocations = startRevocationCache(redis, env.REDIS_PREFIX);
  // BullMQ does not close a connection it was given, so we keep it to close ourselves.
  const queueConnection = createRedis(env.REDIS_URL, { name: "server-queue" });
  const runQueue = createRunQueue(queueConnection, env.REDIS_PREFIX);
  const connectorQueue = createConnectorQueue(queueConnection, env.REDIS_PREFIX);
  let connectorEvents: Promise<QueueEvents> | null = null;
  let eventsConnection: Redis | null = null;
  const events = () =>
    (connectorEvents ??= (async () => {
      eventsConnection = createRedis(env.REDIS_URL, { blocking: true, name: "server-connector-events" });
      const listener = new QueueEvents("connectors", { connection: eventsConnection, prefix: bullPrefix(env.REDIS_PREFIX) });
      await listener.waitUntilReady();
      return listener;
    })());
  return {
    env,
    db,
    redis,
    subscriber,
    runQueue,
    connectorTests: { queue: connectorQueue, events },
    logger,
    async close() {
      await runQueue.close();
      await connectorQueue.close();
      if (connectorEvents) await (await connectorEvents).close();
      if (eventsConnection) await closeRedis(eventsConnection);
      await closeRedis(queueConnection);
      await closeRedis(subscriber);
      await roles.close();
      await revocations.close();
      await closeRedis(redis);
      await db.$disconnect();
    },
  };
}
