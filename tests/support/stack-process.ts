/**
 * The one-process stack (what `npm start` serves: server with the collab service on the same origin), as a
 * child process of a test, with the same last-resort guard as every main. Environment as for the mains.
 */
import { createLogger, guardProcess, loadEnv, onShutdown } from "@algorythmos/platform";
import { startStack } from "../../scripts/stack.js";

const env = loadEnv();
const logger = createLogger("stack", env.LOG_LEVEL);
guardProcess(logger);
const stack = await startStack(env, logger, { studio: false, collab: true, worker: false });
onShutdown(logger, () => stack.close());
