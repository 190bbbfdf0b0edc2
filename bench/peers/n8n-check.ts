// Checks the n8n peer alone: installs it if needed (timed), imports and activates the bench workflow, starts
// n8n with its default settings, drives its webhook for a few seconds and stops it. Nothing of ours runs.
// `npx tsx bench/peers/n8n-check.ts [seconds]`
import { rmSync } from "node:fs";
import path from "node:path";
import { load } from "../lib/load.js";
import { cacheDir, installN8n } from "./n8n-install.js";
import { prepareN8n, startN8n } from "./n8n.js";

const durationS = Math.min(60, Math.max(1, Number(process.argv[2] ?? 5) || 5));
const runId = `check-${Date.now().toString(36)}`;
let started = performance.now();
const install = installN8n();
console.log(`n8n ${install.version} installed or found in ${Math.round(performance.now() - started) / 1000} s (${cacheDir})`);
try {
  started = performance.now();
  const userFolder = prepareN8n(install, runId);
  console.log(`workflow imported and activated in ${Math.round(performance.now() - started) / 1000} s`);
  started = performance.now();
  const n8n = await startN8n(install, userFolder);
  console.log(`n8n serving the webhook after ${Math.round(performance.now() - started) / 1000} s at ${n8n.webhookUrl}`);
  try {
    const body = '{"n":21}';
    const answer = await (await fetch(n8n.webhookUrl, { method: "POST", headers: { "content-type": "application/json" }, body })).text();
    console.log(`one call answered ${answer}`);
    const result = await load({ url: n8n.webhookUrl, headers: { "content-type": "application/json" }, body, connections: 20, durationS });
    console.log(`${durationS} s, 20 connections: ${Math.round(result.rps * 10) / 10} runs/s, p50 ${result.latency.p50} p99 ${result.latency.p99} ms, ${result.requests - result.ok} not 2xx`);
  } finally {
    await n8n.stop();
  }
} finally {
  rmSync(path.join(cacheDir, "runs", runId), { recursive: true, force: true });
}
