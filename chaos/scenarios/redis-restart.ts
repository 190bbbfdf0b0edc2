/**
 * 2. Redis kill -9 during runs and co-editing, restarted after 2 s from its AOF, then again restarted EMPTY
 * (its data gone: queues, schedules, relay subscriptions all start from nothing).
 */
import { faultDuringRunsAndEdits } from "../lib/fault-window.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

const DOWN_MS = 2_000;

export const redisRestart: Scenario = {
  name: "redis-restart",
  title: "Redis kill -9, restart with AOF and restart empty",
  async run(context) {
    const { redis } = context.cluster;
    const figures = [];
    // The short tier restarts it empty only: the harsher case (queues, schedules and relay state all gone).
    for (const empty of context.tier.name === "full" ? [false, true] : [true]) {
      const label = empty ? "empty" : "AOF";
      try {
        const part = await faultDuringRunsAndEdits(context, `redis ${label}`, async () => {
          await redis.kill9();
          await sleep(DOWN_MS);
          await redis.start({ empty });
        });
        figures.push(...part.map((figure) => ({ ...figure, name: `${label}: ${figure.name}` })));
      } finally {
        if (!redis.pid) await redis.start();
      }
    }
    return figures;
  },
};
