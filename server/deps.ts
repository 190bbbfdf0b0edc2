import { closeRedis, createDb, createRedis, createRunQueue, type Env, type Logger } from "@algorythmos/platform";
import type { ServerDeps } from "./context.js";

/** Opens the server's connections; `close` releases them in reverse order. */
export function createServerDeps(env: Env, logger: Logger): ServerDeps & { close(): Promise<void> } {
  const db = createDb(env.DATABASE_URL);
  const redis = createRedis(env.REDIS_URL, { name: "server" });
  const subscriber = createRedis(env.REDIS_URL, { blocking: true, name: "server-subscriber" });
  // BullMQ does not close a connection it was given, so we keep it to close ourselves.
  const queueConnection = createRedis(env.REDIS_URL, { name: "server-queue" });
  const runQueue = createRunQueue(queueConnection, env.REDIS_PREFIX);
  return {
    env,
    db,
    redis,
    subscriber,
    runQueue,
    logger,
    async close() {
      await runQueue.close();
      await closeRedis(queueConnection);
      await closeRedis(subscriber);
      await closeRedis(redis);
      await db.$disconnect();
    },
  };
}
