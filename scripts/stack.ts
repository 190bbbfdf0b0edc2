/**
 * Server, collab and worker in one process on one origin — what `npm start` runs, and what the integration
 * and browser tests start. In production each part runs as its own process (server/, collab/, worker/ main.ts).
 */
import { COLLAB_PATH_PREFIX } from "@algorythmos/domain";
import { closeRedis, createRedis, redisSessionRevocations, reportQueues, roomFigures, startCollabHeartbeat, subscribeAccessChanges, subscribeSessionEnds, type Env, type Logger } from "@algorythmos/platform";
import { DocRelay } from "../collab/relay.js";
import { createCollabService, type CollabService } from "../collab/service.js";
import { createServerApp } from "../server/app.js";
import type { ServerDeps } from "../server/context.js";
import { createServerDeps } from "../server/deps.js";
import { startHttpServer } from "../server/http.js";
import { startRunWorker } from "../worker/run-worker.js";

export interface StackOptions {
  /** Serve the built Remix studio (needs `npm run build`). */
  studio?: boolean;
  collab?: boolean;
  worker?: boolean;
  /**
   * Also run the worker's maintenance (reconciler, cron triggers). Off in tests: a reconciler there would
   * pick up other suites' runs in the shared test database.
   */
  maintenance?: boolean;
}

export interface Stack {
  url: string;
  port: number;
  deps: ServerDeps;
  collab: CollabService | null;
  close(): Promise<void>;
}

export async function startStack(env: Env, logger: Logger, options: StackOptions = {}): Promise<Stack> {
  const deps = createServerDeps(env, logger);
  const { app, yoga, setReady } = await createServerApp(deps, { studio: options.studio ?? true });
  const relaySubscriber = options.collab === false ? null : createRedis(env.REDIS_URL, { blocking: true, name: "collab-relay" });
  const collab = relaySubscriber
    ? createCollabService({
        db: deps.db,
        logger,
        jwtSecret: env.JWT_SECRET,
        relay: new DocRelay(deps.redis, relaySubscriber, env.REDIS_PREFIX, logger, { dropRate: env.COLLAB_RELAY_DROP_RATE }),
        antiEntropyMs: env.COLLAB_ANTI_ENTROPY_MS,
        subscribeAccessChanges: (handler) => subscribeAccessChanges(relaySubscriber, env.REDIS_PREFIX, handler),
        subscribeSessionEnds: (handler) => subscribeSessionEnds(relaySubscriber, env.REDIS_PREFIX, handler),
        revocations: redisSessionRevocations(deps.redis, env.REDIS_PREFIX),
      })
    : null;
  const worker = options.worker === false ? null : await startRunWorker({ env, db: deps.db, redis: deps.redis, logger, maintenance: options.maintenance ?? false });
  const stopReportingQueues = worker ? reportQueues([deps.runQueue]) : () => {}; // the runs queue in /metrics
  const stopHeartbeat = collab ? startCollabHeartbeat(deps.redis, env.REDIS_PREFIX, () => roomFigures(collab.rooms)) : async () => {}; // rooms for the operations page
  const http = await startHttpServer({
    app,
    yoga,
    port: env.PORT,
    host: env.HOST,
    upgrades: collab ? { [COLLAB_PATH_PREFIX]: collab.handleUpgrade } : {},
  });
  setReady(true);
  const host = env.HOST === "0.0.0.0" || env.HOST === "127.0.0.1" ? "localhost" : env.HOST;
  return {
    url: `http://${host}:${http.port}`,
    port: http.port,
    deps,
    collab,
    async close() {
      setReady(false);
      await stopHeartbeat();
      await collab?.close();
      await http.close();
      await worker?.close();
      stopReportingQueues();
      if (relaySubscriber) await closeRedis(relaySubscriber);
      await deps.close();
    },
  };
}
