/**
 * The SDK against a running studio (server + worker, real PostgreSQL, Redis, BullMQ, websockets): typed
 * requests and errors by extensions.code, refresh on an expired access token, Relay pagination, runEvents
 * over graphql-ws and SSE. Then the CLI as a subprocess: login → import an n8n export → run --follow.
 */
import { AlgorythmosClient, BadUserInputError, documents, NotFoundError, UnauthenticatedError, type Tokens } from "@algorythmos/sdk";
import { spawn } from "node:child_process";
import { main } from "../../packages/sdk/src/cli.js";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let user: Account;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack({ collab: false });
  user = await signUp(stack.url, "Sdk");
  dir = mkdtempSync(path.join(tmpdir(), "algorythmos-cli-"));
});
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const root = path.resolve(import.meta.dirname, "../..");
const fixture = (name: string) => path.join(root, "tests/fixtures/n8n", name);
const client = (tokens: Tokens = { token: user.token, refreshToken: user.refreshToken }, onTokens?: (tokens: Tokens) => void) =>
  new AlgorythmosClient({ url: stack.url, tokens, onTokens });

/** A workflow that runs without outside services: manual trigger → transform. */
async function runnableWorkflow(sdk: AlgorythmosClient, workspaceId = user.workspaceId) {
  const { createWorkflow } = await sdk.request(documents.CREATE_WORKFLOW, {
    input: {
      workspaceId,
      name: "SDK run",
      definition: {
        steps: [
          { id: "start", type: "trigger.manual", name: "Start" },
          { id: "double", type: "transform", name: "Double", config: { expression: "input.n * 2" } },
        ],
        edges: [{ id: "e1", source: "start", target: "double" }],
      },
    },
  });
  return createWorkflow.id;
}

describe("SDK", () => {
  it("typed errors by extensions.code: NotFoundError, BadUserInputError with its fields", async () => {
    const sdk = client();
    await expect(sdk.request(documents.EXPORT_WORKFLOW, { id: "wf_missing" })).rejects.toBeInstanceOf(NotFoundError);
    const refused = await sdk.request(documents.IMPORT_WORKFLOW, { input: { workspaceId: user.workspaceId, json: { steps: [] } } }).catch((error) => error);
    expect(refused).toBeInstanceOf(BadUserInputError);
    expect(refused.code).toBe("BAD_USER_INPUT");
    expect(refused.fields).toEqual([{ path: ["input", "json", "name"], message: "Name is required" }]);
  });

  it("refreshes once on an expired access token and hands the new pair to onTokens", async () => {
    const account = await signUp(stack.url, "Refresh");
    const seen: Tokens[] = [];
    const sdk = client({ token: "expired.or.garbage", refreshToken: account.refreshToken }, (tokens) => seen.push(tokens));
    const [a, b] = await Promise.all([sdk.request(documents.ME, undefined), sdk.request(documents.ME, undefined)]);
    expect(a.me.email).toBe(account.email);
    expect(b.me.email).toBe(account.email);
    expect(seen).toHaveLength(1); // one refresh for both calls: refresh tokens are single-use
    expect(seen[0]!.refreshToken).not.toBe(account.refreshToken);
    // Without a refresh token the error is the caller's to handle.
    await expect(client({ token: "garbage" }).request(documents.ME, undefined)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it("paginate walks a Relay connection page by page", async () => {
    const sdk = client();
    const { createWorkspace } = await sdk.request(
      (await import("@algorythmos/sdk")).graphql(`mutation Ws($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id } }`),
      { input: { name: "Paging" } },
    );
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push((await sdk.request(documents.CREATE_WORKFLOW, { input: { workspaceId: createWorkspace.id, name: `Page ${i}` } })).createWorkflow.id);
    }
    const seen: string[] = [];
    let pages = 0;
    for await (const workflow of sdk.paginate(documents.WORKFLOWS_PAGE, { workspaceId: createWorkspace.id, first: 2 }, (data) => (pages++, data.workflows))) {
      seen.push(workflow.id);
    }
    expect(seen.sort()).toEqual(created.sort());
    expect(pages).toBe(3);
  });

  it.each(["ws", "sse"] as const)("runEvents over %s: every event of the run, ending with RUN_FINISHED", async (transport) => {
    const sdk = client();
    const workflowId = await runnableWorkflow(sdk);
    const { startRun } = await sdk.request(documents.START_RUN, { input: { workflowId, input: { n: 21 } } });
    const types: string[] = [];
    for await (const { runEvents } of sdk.subscribe(documents.RUN_EVENTS_LIVE, { runId: startRun.id }, { transport })) {
      types.push(runEvents.type);
      if (runEvents.type === "RUN_FINISHED") {
        expect(runEvents.status).toBe("succeeded");
        break;
      }
    }
    expect(types[0]).toBe("RUN_QUEUED");
    expect(types).toContain("STEP_SUCCEEDED");
    const { run } = await sdk.request(documents.RUN_DETAIL, { id: startRun.id });
    expect(run.output).toEqual({ double: 42 });
  });
});

/** Runs the CLI (`node_modules/.bin/algorythmos`, the bin entry) as a subprocess; bounded by a timeout. */
function cli(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, "node_modules/.bin/algorythmos"), args, {
      cwd: dir,
      env: { NODE_ENV: "test", PATH: process.env.PATH, HOME: dir, ALGORYTHMOS_CONFIG: path.join(dir, "credentials.json") },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`algorythmos ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

describe("CLI", () => {
  it("login → workflows import (n8n) → run --follow streams the trace with a step table → runs list", async () => {
    const bad = await cli(["login", "--url", stack.url, "--email", user.email], { stdin: "wrong password\n" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^algorythmos: UNAUTHENTICATED: /);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/); // one line, no stack trace

    const login = await cli(["login", "--url", stack.url, "--email", user.email], { stdin: `${user.password}\n` });
    expect(login.stderr).toBe("");
    expect(login.stdout).toContain(`Logged in to ${stack.url} as ${user.email}`);
    expect(statSync(path.join(dir, "credentials.json")).mode & 0o777).toBe(0o600);

    const imported = await cli(["workflows", "import", fixture("greeting-runnable.json")]);
    expect(imported.code).toBe(0);
    const id = /as (wf_\S+) \(4 steps, from n8n\)/.exec(imported.stdout)?.[1];
    expect(id, imported.stdout).toBeTruthy();
    expect(imported.stdout).toContain('UNSUPPORTED_NODE: unsupported n8n node "n8n-nodes-base.slack" (Tell sales)');

    const listed = await cli(["workflows", "list", "--json"]);
    expect(JSON.parse(listed.stdout).map((w: { id: string }) => w.id)).toContain(id);

    const inputFile = path.join(dir, "input.json");
    writeFileSync(inputFile, JSON.stringify({ name: "Ada", orders: 12 }));
    const followed = await cli(["run", id!, "--input", inputFile, "--follow"], { timeoutMs: 25_000 });
    expect(followed.stderr).toBe("");
    expect(followed.code).toBe(0);
    const lines = followed.stdout.split("\n");
    expect(lines[0]).toMatch(/^Run run_\S+ queued$/);
    const trace = lines.filter((line) => /^\d{4}-\d\d-\d\dT/.test(line)).map((line) => line.split(/\s+/).slice(1, 3).join(" "));
    expect(trace).toEqual([
      "RUN_QUEUED queued",
      "RUN_STARTED running",
      "STEP_STARTED when_clicking_test_workflow",
      "STEP_SUCCEEDED when_clicking_test_workflow",
      "STEP_STARTED greet",
      "STEP_SUCCEEDED greet",
      "STEP_STARTED vip",
      "STEP_SUCCEEDED vip",
      "STEP_STARTED wait_a_second",
      "STEP_SUCCEEDED wait_a_second",
      "RUN_FINISHED succeeded",
    ]);
    const table = followed.stdout.slice(followed.stdout.indexOf("STEP  "));
    expect(table).toMatch(/^Greet\s+transform\s+succeeded\s+1\s+\d+ ms/m);
    expect(table).toMatch(/^Wait a second\s+delay\s+succeeded\s+(1\s+)?\d+ ms/m);
    // Rows in the order the steps started.
    expect(table.split("\n").slice(2, 6).map((line) => line.split(/\s{2,}/)[0])).toEqual(["When clicking ‘Test workflow’", "Greet", "VIP?", "Wait a second"]);
    expect(table).toMatch(/^run: succeeded$/m);

    const runs = await cli(["runs", "list", id!]);
    expect(runs.stdout).toMatch(/^run_\S+\s+succeeded\s+manual/m);
    const stored = JSON.parse(readFileSync(path.join(dir, "credentials.json"), "utf8"));
    expect(stored.url).toBe(stack.url);
  });

  it("bad usage and bad input are one clear line and a non-zero exit (in process: same main())", async () => {
    const lines: string[] = [];
    const config = path.join(dir, "in-process.json");
    writeFileSync(config, JSON.stringify({ url: stack.url, token: user.token }));
    const io = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text), tty: false, env: { ALGORYTHMOS_CONFIG: config }, readStdin: async () => "" };
    expect(await main(["workflows", "frobnicate"], io)).toBe(2);
    expect(lines.shift()).toMatch(/^algorythmos: unknown workflows command "frobnicate"/);
    expect(await main(["workflows", "import", path.join(dir, "nope.json")], io)).toBe(2);
    expect(lines.shift()).toMatch(/Cannot read .*nope\.json: ENOENT/);
    expect(await main(["workflows", "import", path.join(root, "package.json")], io)).toBe(1);
    expect(lines.shift()).toMatch(/^algorythmos: Unknown workflow JSON: expected/);
    expect(lines.shift()).toBe("  input.json: Not a workflow object");
    expect(await main(["runs", "list", "wf_x", "--limit", "0"], io)).toBe(2);
    expect(lines.shift()).toMatch(/--limit must be a positive integer/);
  });
});
