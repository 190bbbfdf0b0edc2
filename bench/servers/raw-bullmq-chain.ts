/**
 * Peer of the engine scenario: a hand-written chain of raw BullMQ jobs on the same Redis. Each `step` job
 * does a no-op — or, when the chain has a `url`, the engine's http.request work: a JSON POST, its answer read
 * and parsed — and enqueues the next; the last one publishes `<prefix>bench-chain-done` with the chain id.
 * Same worker settings as ours (concurrency 20, blocking connection, completed jobs kept the same way).
 */
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `${process.env.REDIS_PREFIX ?? ""}rawbull`;
const publisher = new Redis(url);
const queue = new Queue("chain", { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix });
interface StepJob {
  chainId: string;
  index: number;
  length: number;
  url?: string;
}
const keep = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } };

const worker = new Worker<StepJob>(
  "chain",
  async (job) => {
    const { chainId, index, length, url } = job.data;
    let output: unknown = { step: index }; // the no-op step
    if (url) {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 1 }) });
      output = { status: response.status, body: await response.json() };
    }
    if (index + 1 < length) await queue.add("step", { chainId, index: index + 1, length, url }, keep);
    else await publisher.publish(`${process.env.REDIS_PREFIX ?? ""}bench-chain-done`, JSON.stringify({ chainId, output }));
  },
  { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix, concurrency: 20 },
);
await worker.waitUntilReady();
process.send?.({ ready: true, queuePrefix: prefix });
process.on("SIGTERM", () => {
  void Promise.all([worker.close(), queue.close()]).finally(() => {
    publisher.disconnect();
    process.exit(0);
  });
});
