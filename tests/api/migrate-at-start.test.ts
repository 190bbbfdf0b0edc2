/**
 * Every process applies pending migrations at start, or waits until they are applied, so any start order
 * works (issue #11 item 9): the real server, collab and worker processes, started together on a database
 * that does not exist yet — behind a proxy that refuses connections for the first seconds, as a PostgreSQL
 * still starting would — all come up, and the migrations were applied once each.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startServiceProcess, withPg, type CollabProcess } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { readdirSync } from "node:fs";

const processes: CollabProcess[] = [];
let proxy: TcpProxy | null = null;
const databaseName = `algo_test_fresh_${randomBytes(4).toString("hex")}`;
const adminUrl = (() => {
  const url = new URL(testEnv().DATABASE_URL);
  url.pathname = "/postgres";
  return url.toString();
})();

afterAll(async () => {
  for (const child of processes) child.child.kill("SIGKILL");
  await proxy?.close();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.end();
});

describe("migrations at start", () => {
  it("server, collab and worker started at once on a missing database, with PostgreSQL refusing at first, all come up; each migration applied once", async () => {
    const base = new URL(testEnv().DATABASE_URL);
    proxy = await startTcpProxy(base.hostname, Number(base.port || 5432));
    await proxy.cut(); // PostgreSQL "still starting": connections refused
    const url = new URL(proxy.url(testEnv().DATABASE_URL));
    url.pathname = `/${databaseName}`;
    const env = testEnv({ DATABASE_URL: url.toString() });
    const starting = Promise.all([
      startServiceProcess("server/main.ts", env, { PORT: String(await freePort()) }),
      startServiceProcess("collab/main.ts", env, { COLLAB_PORT: String(await freePort()) }),
    ]);
    const worker = startServiceProcess("worker/main.ts", env, { LOG_LEVEL: "info" }, { readyWhen: /run worker started/ });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await proxy.restore();
    processes.push(...(await starting), await worker);

    const expected = readdirSync("prisma/migrations", { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    const direct = new URL(testEnv().DATABASE_URL);
    direct.pathname = `/${databaseName}`;
    const applied = await withPg(direct.toString(), (client) => client.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`));
    expect(applied.rows.map((row) => row.migration_name)).toEqual(expected);
  }, 90_000);
});
