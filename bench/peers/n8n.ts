/**
 * The n8n peer: n8n 1.123 on Node 22 from the bench cache (see n8n-install.ts), on loopback, with
 * diagnostics, version notifications and templates off, its own user folder (SQLite) per bench run.
 * The workflow (Webhook → Set → IF → Set, the same work as ours) is imported with n8n's CLI and activated
 * before n8n starts, so no account or owner set-up is needed: production webhooks need no login.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { stopProcess } from "../lib/proc.js";
import { sleep } from "../lib/stats.js";
import { cacheDir, n8nInstallation, type N8nInstall } from "./n8n-install.js";

export const N8N_WORKFLOW_ID = "BenchWorkflow001";
export const N8N_WEBHOOK_PATH = "bench";

/** Webhook → Set (value = n × 2) → IF (value > 10) → Set (result, value), answering with the last node's JSON. */
export const n8nWorkflow = {
  id: N8N_WORKFLOW_ID,
  name: "bench webhook 3 steps",
  active: true,
  settings: { executionOrder: "v1" },
  nodes: [
    {
      id: "0f1e7a8e-0000-4000-8000-000000000001",
      name: "Webhook",
      type: "n8n-nodes-base.webhook",
      typeVersion: 2,
      position: [0, 0],
      webhookId: "0f1e7a8e-0000-4000-8000-0000000000aa",
      parameters: { httpMethod: "POST", path: N8N_WEBHOOK_PATH, responseMode: "lastNode", options: {} },
    },
    {
      id: "0f1e7a8e-0000-4000-8000-000000000002",
      name: "Shape",
      type: "n8n-nodes-base.set",
      typeVersion: 3.4,
      position: [200, 0],
      parameters: { mode: "manual", assignments: { assignments: [{ id: "a1", name: "value", value: "={{ $json.body.n * 2 }}", type: "number" }] }, options: {} },
    },
    {
      id: "0f1e7a8e-0000-4000-8000-000000000003",
      name: "Big?",
      type: "n8n-nodes-base.if",
      typeVersion: 2.2,
      position: [400, 0],
      parameters: {
        conditions: {
          options: { caseSensitive: true, leftValue: "", typeValidation: "strict", version: 2 },
          conditions: [{ id: "c1", leftValue: "={{ $json.value }}", rightValue: 10, operator: { type: "number", operation: "gt" } }],
          combinator: "and",
        },
        options: {},
      },
    },
    {
      id: "0f1e7a8e-0000-4000-8000-000000000004",
      name: "Answer",
      type: "n8n-nodes-base.set",
      typeVersion: 3.4,
      position: [600, 0],
      parameters: {
        mode: "manual",
        assignments: {
          assignments: [
            { id: "a2", name: "result", value: "big", type: "string" },
            { id: "a3", name: "value", value: "={{ $json.value }}", type: "number" },
          ],
        },
        options: {},
      },
    },
  ],
  connections: {
    Webhook: { main: [[{ node: "Shape", type: "main", index: 0 }]] },
    Shape: { main: [[{ node: "Big?", type: "main", index: 0 }]] },
    "Big?": { main: [[{ node: "Answer", type: "main", index: 0 }], []] },
  },
};

/** n8n's settings as shipped (only the privacy/offline switches the issue asks for). */
const quiet = {
  N8N_DIAGNOSTICS_ENABLED: "false",
  N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
  N8N_TEMPLATES_ENABLED: "false",
  N8N_PERSONALIZATION_ENABLED: "false",
  N8N_HIRING_BANNER_ENABLED: "false",
  N8N_LICENSE_AUTO_RENEW_ENABLED: "false",
  N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: "false",
  N8N_LISTEN_ADDRESS: "127.0.0.1",
  N8N_HOST: "127.0.0.1",
};

/**
 * Tuned per n8n's performance docs for a single instance: no execution data saved for successful or
 * progress runs, SQLite with a read pool (WAL), production mode, warnings-only logging.
 */
export const N8N_TUNED = {
  NODE_ENV: "production",
  EXECUTIONS_DATA_SAVE_ON_SUCCESS: "none",
  EXECUTIONS_DATA_SAVE_ON_PROGRESS: "false",
  EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS: "false",
  DB_SQLITE_POOL_SIZE: "4",
  N8N_LOG_LEVEL: "warn",
};

export interface N8nPeer {
  url: string;
  webhookUrl: string;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function n8nEnv(install: N8nInstall, userFolder: string, port: number, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: `${path.join(install.nodeHome, "bin")}:${process.env.PATH ?? ""}`,
    HOME: process.env.HOME ?? "",
    N8N_USER_FOLDER: userFolder,
    N8N_PORT: String(port),
    ...quiet,
    ...extra,
  };
}

/** A fresh n8n user folder with the bench workflow imported and activated (n8n's CLI, offline). */
export function prepareN8n(install: N8nInstall, runId: string): string {
  const userFolder = path.join(cacheDir, "runs", runId);
  rmSync(userFolder, { recursive: true, force: true });
  mkdirSync(userFolder, { recursive: true });
  const file = path.join(userFolder, "workflow.json");
  writeFileSync(file, JSON.stringify([n8nWorkflow], null, 2));
  const env = n8nEnv(install, userFolder, 5678, {});
  execFileSync(install.nodeBin, [install.n8nBin, "import:workflow", `--input=${file}`], { env: env as NodeJS.ProcessEnv, stdio: "pipe" });
  execFileSync(install.nodeBin, [install.n8nBin, "update:workflow", `--id=${N8N_WORKFLOW_ID}`, "--active=true"], { env: env as NodeJS.ProcessEnv, stdio: "pipe" });
  return userFolder;
}

/** Starts n8n on a free loopback port and waits until the bench webhook answers. */
export async function startN8n(install: N8nInstall, userFolder: string, extra: Record<string, string> = {}): Promise<N8nPeer> {
  const port = await freePort();
  const child: ChildProcess = spawn(install.nodeBin, [install.n8nBin, "start"], {
    env: n8nEnv(install, userFolder, port, extra) as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const webhookUrl = `${url}/webhook/${N8N_WEBHOOK_PATH}`;
  const deadline = Date.now() + 90_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`n8n exited (${child.exitCode}):\n${log}`);
      const body = await fetch(webhookUrl, { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":21}' }).then(
        (response) => (response.status === 200 ? response.text() : null),
        () => null, // not listening yet
      );
      // While it boots, n8n answers 200 with "n8n is starting up. Please wait": not ready yet.
      if (body !== null && !body.includes("starting up")) {
        if (!body.includes('"result":"big"')) throw new Error(`n8n answered an unexpected body: ${body}`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`n8n did not serve the webhook within 90 s:\n${log}`);
      await sleep(250);
    }
  } catch (error) {
    await stopProcess(child); // never leave an n8n behind when it did not come up
    throw error;
  }
  return { url, webhookUrl, pid: child.pid!, stop: () => stopProcess(child, 20_000) };
}

export { n8nInstallation };
