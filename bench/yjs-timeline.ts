/**
 * A breakdown tool for the yjs scenario (docs/benchmarks.md): one server alone, 1 workflow × 200 stock
 * y-websocket clients, 16 back-to-back 2.5 s rounds, printing per round the time since connect, the edit
 * latency (p50/p99/max), the server's and the bench's CPU time and how many messages the clients received.
 * It showed the presence renewal storm (every 15 s) that decided the 1 × 200 p99.
 *   npx tsx bench/yjs-timeline.ts [ours|bare] [--no-awareness]
 */
import { createWorkflow, signUp } from "./lib/api.js";
import { startOurs } from "./lib/ours.js";
import { startChild } from "./lib/proc.js";
import { prepareDatabase, dropDatabase } from "./lib/setup.js";
import { latency } from "./lib/stats.js";
import { readFileSync } from "node:fs";
import { connectRooms, measurePropagation } from "./lib/yclients.js";
const which = process.argv[2] ?? "ours";
const noAwareness = process.argv.includes("--no-awareness");
await prepareDatabase();
const ours = await startOurs("probe");
const bare = which === "bare" ? await startChild("bare-y-websocket", "bare-y-websocket.ts", {}) : null;
try {
  const user = await signUp(ours.info.url);
  const wf = await createWorkflow(ours.info.url, user, { name: "probe" });
  const base = (bare ?? ours).info.url.replace(/^http/, "ws") + "/collab";
  const t0 = performance.now();
  const rooms = await connectRooms(base, [wf.id], 200, bare ? null : user.token);
  if (noAwareness) for (const c of rooms.clients[0]!) c.provider.awareness?.setLocalState(null);
  console.log(`connected in ${Math.round(performance.now() - t0)} ms`);
  const pid = (bare ?? ours).pid;
  const cpuOf = () => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
  let msgsIn = 0;
  for (const c of rooms.clients[0]!) (c.provider as unknown as { ws: WebSocket }).ws.addEventListener("message", () => msgsIn++);
  const totalServer0 = cpuOf(); const totalBench0 = process.cpuUsage();
  for (let r = 0; r < 16; r++) {
    const s = performance.now(); const sc = cpuOf(); const bc = process.cpuUsage(); const m0 = msgsIn;
    const res = await measurePropagation(rooms, 50, 2500);
    const l = latency(res.samples);
    console.log(`t=${((s - t0) / 1000).toFixed(1)}s round ${r}: p50 ${l.p50} p99 ${l.p99} max ${l.max} (${res.samples.length}/${res.expected}) took ${Math.round(performance.now() - s)} ms; server cpu ${cpuOf() - sc} ms, bench cpu ${Math.round((process.cpuUsage(bc).user + process.cpuUsage(bc).system) / 1000)} ms, client msgs in ${msgsIn - m0}`);
  }
  console.log(`TOTAL server cpu ${cpuOf() - totalServer0} ms, bench cpu ${Math.round((process.cpuUsage(totalBench0).user + process.cpuUsage(totalBench0).system) / 1000)} ms, client msgs in ${msgsIn}`);
  rooms.close();
} finally {
  await bare?.stop();
  await ours.stop();
  await dropDatabase().catch(() => {});
}
process.exit(0);
