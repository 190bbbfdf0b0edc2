import type { ConnectorTestJob, ConnectorTestResult, Db, Env, Logger, Principal, Redis, RunJob } from "@algorythmos/platform";
import type { Queue, QueueEvents } from "bullmq";

/** Everything the server's services need, created once per process by server/main.ts (or scripts/start.ts). */
export interface ServerDeps {
  env: Env;
  db: Db;
  redis: Redis;
  /** A second connection in subscriber mode, for GraphQL subscriptions. */
  subscriber: Redis;
  runQueue: Queue<RunJob>;
  /** Connector tests run on a worker; `events` opens the listener for their results on first use. */
  connectorTests: { queue: Queue<ConnectorTestJob, ConnectorTestResult>; events(): Promise<QueueEvents> };
  logger: Logger;
}

/** Who is calling, resolved once per request. */
export interface Caller {
  principal: Principal | null;
  /** The client's address, for per-IP limits; null for in-process calls. */
  ip: string | null;
}
