/** Infrastructure shared by server, collab and worker: env, database, Redis, queues, auth, doc storage. */
export * from "./access.js";
export * from "./auth.js";
export * from "./db.js";
export * from "./env.js";
export * from "./logger.js";
export * from "./queues.js";
export * from "./redis.js";
export * from "./run-events.js";
export * from "./workflow-docs.js";
export * from "./migrate.js";
export * from "./lifecycle.js";
export * from "./rate-limit.js";
export * from "./secrets.js";
export * from "./outage.js";
export * from "./health.js";
export * from "./metrics.js";
export * from "./telemetry.js";
