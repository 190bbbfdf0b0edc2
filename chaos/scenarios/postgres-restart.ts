/** 3. PostgreSQL immediate restart (pg_ctl -m immediate: a crash, then WAL recovery) during runs and co-editing. */
import { withPg } from "../lib/api.js";
import { faultDuringRunsAndEdits } from "../lib/fault-window.js";
import type { Scenario } from "../suite.js";

const DOWN_MS = 2_000;

export const postgresRestart: Scenario = {
  name: "postgres-restart",
  title: "PostgreSQL immediate restart",
  async run(context) {
    const { postgres } = context.cluster;
    try {
      return await faultDuringRunsAndEdits(context, "postgres", () => postgres.restartImmediate(DOWN_MS));
    } finally {
      if (!(await postgresUp(postgres.url))) await postgres.start();
    }
  },
};

const postgresUp = (url: string) => withPg(url, async () => true).catch(() => false);
