/**
 * Redis Cluster needs every key a BullMQ script touches in one hash slot, which a hash-tag prefix gives
 * (REDIS_PREFIX="{algo}:"; docs/scaling.md). Checked on a real redis-server in cluster mode (one node that
 * owns every slot, so a plain client needs no redirects, while the server still refuses cross-slot commands
 * exactly as a many-node cluster does): without the hash tag BullMQ's scripts fail with CROSSSLOT; with it the
 * whole stack — API, run queue, worker, run events — runs a workflow to the end.
 */
import { bullPrefix, closeRedis, createRedis, createRunQueue, enqueueRun, loadEnv, Redis } from "@algorythmos/platform";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { gql, ok, signUp } from "../support/api.js";
import { freePort } from "../support/collab.js";
import { testEnv } from "../support/env.js";
import { startTestStack, waitFor } from "../support/stack.js";

let redisServer: ChildProcess;
let redisUrl: string;
const dir = mkdtempSync(path.join(os.tmpdir(), "algo-redis-cluster-"));

beforeAll(async () => {
  const port = await freePort();
  redisServer = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, "nodes.conf")],
    { stdio: "ignore" },
  );
  redisUrl = `redis://127.0.0.1:${port}`;
  const admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on("error", () => {});
  await waitFor("redis-server in cluster mode", async () => {
    try {
      if (admin.status !== "ready") await admin.connect();
      return (await admin.ping()) === "PONG";
    } catch {
      admin.disconnect();
      return false;
    }
  });
  await admin.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
  await waitFor("the one-node cluster to be ok", async () => String(await admin.call("CLUSTER", "INFO")).includes("cluster_state:ok"));
  admin.disconnect();
}, 30_000);

afterAll(() => {
  redisServer?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("Redis Cluster: BullMQ's hash-tag prefix", () => {
  it("REDIS_PREFIX accepts a hash tag, and BullMQ's keys then all live in one slot", async () => {
    const env = testEnv({ REDIS_URL: redisUrl, REDIS_PREFIX: "{algo}:" });
    expect(bullPrefix(env.REDIS_PREFIX)).toBe("{algo}:bull");
    const redis = createRedis(env.REDIS_URL);
    const queue = createRunQueue(redis, env.REDIS_PREFIX);
    try {
      await enqueueRun(queue, "run_hash_tag_1");
      const keys = await redis.keys("*");
      expect(keys.length).toBeGreaterThan(1);
      expect(keys.every((key) => key.startsWith("{algo}:bull:runs:"))).toBe(true);
      const slots = new Set(await Promise.all(keys.map((key) => redis.call("CLUSTER", "KEYSLOT", key))));
      expect(slots.size).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await closeRedis(redis);
    }
  });

  it("without a hash tag, the same enqueue is refused by Redis Cluster (CROSSSLOT)", async () => {
    const env = loadEnv({ ...process.env, DATABASE_URL: "postgres://unused@127.0.0.1/unused", REDIS_URL: redisUrl, REDIS_PREFIX: "algo:", JWT_SECRET: "x".repeat(32), CREDENTIALS_KEY: Buffer.alloc(32).toString("base64") });
    const redis = createRedis(env.REDIS_URL);
    const queue = createRunQueue(redis, env.REDIS_PREFIX);
    try {
      await expect(enqueueRun(queue, "run_no_hash_tag")).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
      await closeRedis(redis);
    }
  });

  it("the whole stack runs a workflow on Redis Cluster with REDIS_PREFIX={…}:", async () => {
    let stack: Stack | undefined;
    try {
      stack = await startTestStack({ collab: true, worker: true }, { REDIS_URL: redisUrl, REDIS_PREFIX: `{algo_test_${process.pid}}:` });
      const owner = await signUp(stack.url, "Cluster Redis");
      const definition = {
        schemaVersion: 1,
        name: "On Redis Cluster",
        description: "",
        steps: [
          { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
          { id: "add", type: "transform", name: "Add", config: { expression: "input.n + 1" }, position: { x: 200, y: 0 } },
        ],
        edges: [{ id: "e1", source: "start", target: "add" }],
      };
      const workflowId = ok(
        await gql(stack.url, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { workspaceId: owner.workspaceId, name: definition.name, definition } }, owner.token),
      ).createWorkflow.id;
      const runId = ok(await gql(stack.url, `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input: { workflowId, input: { n: 41 } } }, owner.token)).startRun.id;
      const run = await waitFor(
        "the run to finish",
        async () => {
          const read = ok(await gql(stack!.url, `query($id: ID!) { run(id: $id) { status steps { stepId output } } }`, { id: runId }, owner.token)).run;
          return ["succeeded", "failed", "canceled"].includes(read.status) ? read : null;
        },
        20_000,
      );
      expect(run.status).toBe("succeeded");
      expect(run.steps.find((step: { stepId: string }) => step.stepId === "add").output).toBe(42);
    } finally {
      await stack?.close();
    }
  }, 60_000);
});
