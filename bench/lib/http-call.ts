/**
 * The http.request executor's own cost per call, on loopback (issue #14, R61): `npx tsx bench/lib/http-call.ts
 * [another executor module]`. A local keep-alive server answers a small JSON POST; the executor is called
 * sequentially, in alternating blocks when a second executor module is given (e.g. the previous version's
 * `worker/executors/http-request.ts`, copied out of git), for two paths: an allow-listed host (the name is not
 * resolved) and a host that is resolved, checked and pinned (the path public hosts take; here `localhost`,
 * allow-listed by address). Prints the median and p95 per call in ms, and the connections the server saw.
 */
import { parseStepConfig } from "@algorythmos/domain";
import { createLogger, loadEnv } from "@algorythmos/platform";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Executor } from "../../worker/executors/types.js";
import { latency } from "./stats.js";

type HttpExecutor = Executor<"http.request">;
const CALLS_PER_BLOCK = 500;
const BLOCKS = 6;

let connections = 0;
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
});
server.on("connection", () => connections++);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;

// The executor reads only HTTP_ALLOW_HOSTS; the rest is what loadEnv requires (nothing connects to them).
const required = {
  DATABASE_URL: "postgres://unused@127.0.0.1:1/unused",
  REDIS_URL: "redis://127.0.0.1:1",
  JWT_SECRET: "bench-secret-bench-secret-bench-secret-0",
  CREDENTIALS_KEY: Buffer.alloc(32, 1).toString("base64"),
  LOG_LEVEL: "error",
};
const env = loadEnv({ ...required, HTTP_ALLOW_HOSTS: `127.0.0.1:${port}` });
const pinnedEnv = loadEnv({ ...required, HTTP_ALLOW_HOSTS: "127.0.0.1" });
const logger = createLogger("http-call", "error");
const paths = {
  "allow-listed host": { env, url: `http://127.0.0.1:${port}/ack` },
  "resolved + pinned host": { env: pinnedEnv, url: `http://localhost:${port}/ack` },
};

const load = async (file: string) => (await import(pathToFileURL(path.resolve(file)).href)).httpRequest as HttpExecutor;
const executors: [string, HttpExecutor][] = [["this tree", await load("worker/executors/http-request.ts")]];
if (process.argv[2]) executors.push([process.argv[2], await load(process.argv[2])]);

async function block(execute: HttpExecutor, which: keyof typeof paths): Promise<number[]> {
  const { env: callEnv, url } = paths[which];
  const config = parseStepConfig("http.request", { method: "POST", url, body: { n: 1 } });
  const times: number[] = [];
  for (let i = 0; i < CALLS_PER_BLOCK; i++) {
    const started = performance.now();
    await execute({
      config,
      context: { input: {}, steps: {} },
      signal: new AbortController().signal,
      env: callEnv,
      logger,
      stepId: "s",
      runId: "run_bench",
      attempt: 1,
      idempotencyKey: `run_bench:s:${i}`,
      chunk: () => {},
      credential: () => Promise.reject(new Error("no credentials")),
    });
    times.push(performance.now() - started);
  }
  return times;
}

for (const which of Object.keys(paths) as (keyof typeof paths)[]) {
  const times = new Map<string, number[]>(executors.map(([name]) => [name, []]));
  for (const [, execute] of executors) await block(execute, which); // warm-up
  const connectionsOf = new Map<string, number>(executors.map(([name]) => [name, 0]));
  for (let round = 0; round < BLOCKS; round++) {
    for (const [name, execute] of executors) {
      const at = connections;
      times.get(name)!.push(...(await block(execute, which)));
      connectionsOf.set(name, connectionsOf.get(name)! + connections - at);
    }
  }
  for (const [name, samples] of times) {
    const { p50, p95 } = latency(samples);
    console.log(`${which}, ${name}: median ${p50} ms, p95 ${p95} ms per call; ${connectionsOf.get(name)} connections for ${samples.length} calls`);
  }
}
server.closeAllConnections();
server.close();
process.exit(0);
