/**
 * `algorythmos`: the command line on the SDK. Logins are stored in $ALGORYTHMOS_CONFIG (default
 * ~/.config/algorythmos/credentials.json, mode 600) with the refresh token, renewed as the client refreshes.
 *
 *   algorythmos login --url http://localhost:3000 --email you@example.com [--password …]   (or ALGORYTHMOS_PASSWORD, or stdin)
 *   algorythmos workflows list [--workspace <id>] [--json]
 *   algorythmos workflows export <workflowId> [--out file.json]
 *   algorythmos workflows import <file.json> [--workspace <id>]      (ours or an n8n export)
 *   algorythmos run <workflowId> [--input file.json] [--follow] [--sse]
 *   algorythmos runs list <workflowId> [--status <status>] [--limit <n>] [--json]
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AlgorythmosClient, type Tokens } from "./client.js";
import { EXPORT_WORKFLOW, IMPORT_WORKFLOW, ME, RUN_EVENTS_LIVE, RUNS_PAGE, START_RUN, WORKFLOWS_PAGE } from "./documents.js";
import { AlgorythmosError, BadUserInputError } from "./errors.js";
import type { ResultOf } from "./graphql.js";

interface Stored {
  url: string;
  token: string;
  refreshToken?: string | null;
}

/** Where output goes: injectable for tests, the process's streams otherwise. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** A terminal: the live step table is redrawn in place; otherwise each change is a line. */
  tty: boolean;
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
}

class UsageError extends Error {}

const USAGE = `usage:
  algorythmos login --url <studio url> --email <email> [--password <password>]
  algorythmos workflows list [--workspace <id>] [--json]
  algorythmos workflows export <workflowId> [--out <file>]
  algorythmos workflows import <file> [--workspace <id>]
  algorythmos run <workflowId> [--input <file.json>] [--follow] [--sse]
  algorythmos runs list <workflowId> [--status <status>] [--limit <n>] [--json]`;

const configPath = (env: CliIo["env"]) => env.ALGORYTHMOS_CONFIG ?? path.join(homedir(), ".config", "algorythmos", "credentials.json");

function save(env: CliIo["env"], stored: Stored): void {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(stored, null, 2) + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
}

function load(env: CliIo["env"]): Stored {
  try {
    return JSON.parse(readFileSync(configPath(env), "utf8")) as Stored;
  } catch {
    throw new UsageError("Not logged in: run `algorythmos login --url <studio url> --email <email>` first");
  }
}

function clientFor(io: CliIo): AlgorythmosClient {
  const stored = load(io.env);
  return new AlgorythmosClient({
    url: stored.url,
    tokens: { token: stored.token, refreshToken: stored.refreshToken },
    onTokens: (tokens: Tokens) => save(io.env, { url: stored.url, token: tokens.token, refreshToken: tokens.refreshToken }),
  });
}

async function defaultWorkspace(client: AlgorythmosClient, given: string | undefined): Promise<string> {
  if (given) return given;
  const { me } = await client.request(ME, undefined);
  const first = me.workspaces[0];
  if (!first) throw new UsageError("This account has no workspace: pass --workspace <id>");
  return first.id;
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
}

/** A plain text table; the widths follow the longest cell of each column. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

type RunEvent = ResultOf<typeof RUN_EVENTS_LIVE>["runEvents"];
interface StepRow {
  id: string;
  name: string;
  type: string;
  status: string;
  attempt: string;
  startedAt?: number;
  /** Position among the steps that started, in event order: steps starting in the same millisecond keep it. */
  startOrder?: number;
  durationMs?: number;
  error?: string;
}

/** The live step table of `run --follow`: one row per step of the definition, updated from run events. */
export class StepTable {
  readonly rows = new Map<string, StepRow>();
  private started = 0;
  runStatus = "queued";
  runError: string | null = null;

  constructor(steps: { id: string; name?: string; type: string }[]) {
    for (const step of steps) this.rows.set(step.id, { id: step.id, name: step.name || step.id, type: step.type, status: "pending", attempt: "" });
  }

  apply(event: RunEvent): void {
    if (event.type === "RUN_STARTED" || event.type === "RUN_QUEUED" || event.type === "RUN_FINISHED") {
      this.runStatus = event.status;
      if (event.error) this.runError = event.error;
      return;
    }
    if (!event.stepId || event.type === "STEP_CHUNK") return;
    const row = this.rows.get(event.stepId) ?? { id: event.stepId, name: event.stepId, type: "?", status: "pending", attempt: "" };
    this.rows.set(event.stepId, row);
    row.status = event.status;
    if (event.attempt != null) row.attempt = String(event.attempt);
    const at = Date.parse(event.at);
    if (event.type === "STEP_STARTED") {
      row.startedAt = at;
      row.startOrder ??= this.started++;
    }
    else if (row.startedAt !== undefined && (event.type === "STEP_SUCCEEDED" || event.type === "STEP_FAILED")) row.durationMs = at - row.startedAt;
    if (event.error) row.error = event.error;
  }

  render(): string {
    // Steps in the order they started (the events' order: timestamps tie within a millisecond); those that have
    // not (yet) after them, in definition order.
    const ordered = [...this.rows.values()].sort((a, b) => (a.startOrder ?? Infinity) - (b.startOrder ?? Infinity));
    const rows = ordered.map((row) => [
      row.name,
      row.type,
      row.status,
      row.attempt,
      row.durationMs === undefined ? "" : `${row.durationMs} ms`,
      row.error ? row.error.slice(0, 80) : "",
    ]);
    return `${table(["STEP", "TYPE", "STATUS", "ATTEMPT", "TIME", "ERROR"], rows)}\nrun: ${this.runStatus}${this.runError ? ` — ${this.runError}` : ""}`;
  }
}

async function login(io: CliIo, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: "string" }, email: { type: "string" }, password: { type: "string" } } });
  const url = values.url ?? io.env.ALGORYTHMOS_URL;
  if (!url || !values.email) throw new UsageError("login needs --url and --email");
  const password = values.password ?? io.env.ALGORYTHMOS_PASSWORD ?? (await io.readStdin()).trim();
  if (!password) throw new UsageError("login needs a password: --password, ALGORYTHMOS_PASSWORD or on stdin");
  const client = new AlgorythmosClient({ url });
  const result = await client.logIn(values.email, password);
  save(io.env, { url: client.url, token: result.token, refreshToken: result.refreshToken });
  io.out(`Logged in to ${client.url} as ${result.user.email}`);
  return 0;
}

async function workflows(io: CliIo, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const client = clientFor(io);
  if (action === "list") {
    const { values } = parseArgs({ args: rest, options: { workspace: { type: "string" }, json: { type: "boolean" } } });
    const workspaceId = await defaultWorkspace(client, values.workspace);
    const items = [];
    for await (const workflow of client.paginate(WORKFLOWS_PAGE, { workspaceId, first: 50 }, (data) => data.workflows)) items.push(workflow);
    if (values.json) io.out(JSON.stringify(items, null, 2));
    else io.out(table(["ID", "NAME", "VERSION", "UPDATED"], items.map((w) => [w.id, w.name, String(w.latestVersion), w.updatedAt])));
    return 0;
  }
  if (action === "export") {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: "string" } } });
    if (!positionals[0]) throw new UsageError("workflows export needs a workflow id");
    const { workflow } = await client.request(EXPORT_WORKFLOW, { id: positionals[0] });
    const text = JSON.stringify(workflow.export, null, 2) + "\n";
    if (values.out) {
      writeFileSync(values.out, text);
      io.err(`Exported "${workflow.name}" to ${values.out}`);
    } else io.out(text.trimEnd());
    return 0;
  }
  if (action === "import") {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { workspace: { type: "string" } } });
    if (!positionals[0]) throw new UsageError("workflows import needs a file");
    const json = readJsonFile(positionals[0]);
    const workspaceId = await defaultWorkspace(client, values.workspace);
    const { importWorkflow } = await client.request(IMPORT_WORKFLOW, { input: { workspaceId, json } });
    const steps = (importWorkflow.definition as { steps?: unknown[] }).steps?.length ?? 0;
    io.out(`Imported "${importWorkflow.name}" as ${importWorkflow.id} (${steps} steps, from ${importWorkflow.importReport?.format ?? "?"})`);
    for (const problem of importWorkflow.importReport?.problems ?? []) io.out(`  ${problem.code}: ${problem.message}`);
    for (const problem of importWorkflow.problems) io.out(`  to fix before running: ${problem.message}`);
    return 0;
  }
  throw new UsageError(`unknown workflows command ${action ? `"${action}"` : ""}`.trim());
}

async function run(io: CliIo, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { input: { type: "string" }, follow: { type: "boolean" }, sse: { type: "boolean" } } });
  const workflowId = positionals[0];
  if (!workflowId) throw new UsageError("run needs a workflow id");
  const input = values.input ? readJsonFile(values.input) : {};
  const client = clientFor(io);
  const { workflow } = values.follow ? await client.request(EXPORT_WORKFLOW, { id: workflowId }) : { workflow: null };
  const { startRun } = await client.request(START_RUN, { input: { workflowId, input } });
  io.out(`Run ${startRun.id} ${startRun.status}`);
  if (!values.follow) return 0;

  const definition = (workflow?.export as { definition?: { steps?: { id: string; name?: string; type: string }[] } } | undefined)?.definition;
  const steps = new StepTable(definition?.steps ?? []);
  let drawnLines = 0;
  const draw = () => {
    const text = steps.render();
    if (io.tty) {
      // Move up over the last drawing and clear it, so the table updates in place.
      io.out(`${drawnLines ? `\u001b[${drawnLines}A\u001b[0J` : ""}${text}`);
      drawnLines = text.split("\n").length;
    }
  };
  draw();
  for await (const { runEvents: event } of client.subscribe(RUN_EVENTS_LIVE, { runId: startRun.id }, { transport: values.sse ? "sse" : "ws" })) {
    steps.apply(event);
    if (!io.tty && event.type !== "STEP_CHUNK") io.out(`${event.at}  ${event.type.padEnd(14)} ${event.stepId ?? ""} ${event.status}${event.error ? `  ${event.error}` : ""}`.trimEnd());
    draw();
    if (event.type === "RUN_FINISHED") break;
  }
  if (!io.tty) io.out(steps.render());
  return steps.runStatus === "succeeded" ? 0 : 1;
}

async function runs(io: CliIo, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "list") throw new UsageError(`unknown runs command ${action ? `"${action}"` : ""}`.trim());
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { status: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } } });
  if (!positionals[0]) throw new UsageError("runs list needs a workflow id");
  const limit = values.limit ? Number(values.limit) : 20;
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
  const statuses = ["canceled", "failed", "queued", "running", "succeeded"] as const;
  const status = values.status as (typeof statuses)[number] | undefined;
  if (status !== undefined && !statuses.includes(status)) throw new UsageError(`--status must be one of ${statuses.join(", ")}`);
  const client = clientFor(io);
  const items: ResultOf<typeof RUNS_PAGE>["runs"]["edges"][number]["node"][] = [];
  for await (const item of client.paginate(RUNS_PAGE, { workflowId: positionals[0], first: Math.min(limit, 50), status: status ?? null }, (data) => data.runs)) {
    items.push(item);
    if (items.length >= limit) break;
  }
  if (values.json) io.out(JSON.stringify(items, null, 2));
  else io.out(table(["ID", "STATUS", "TRIGGER", "CREATED", "ERROR"], items.map((r) => [r.id, r.status, r.trigger, r.createdAt, (r.error ?? "").slice(0, 60)])));
  return 0;
}

/** Runs one command line; returns the exit code. Errors become one clear line on stderr, never a stack trace. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "login":
        return await login(io, args);
      case "workflows":
        return await workflows(io, args);
      case "run":
        return await run(io, args);
      case "runs":
        return await runs(io, args);
      case undefined:
      case "help":
      case "--help":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      io.err(`algorythmos: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof BadUserInputError) {
      io.err(`algorythmos: ${error.message}`);
      for (const field of error.fields) io.err(`  ${field.path.join(".")}: ${field.message}`);
      return 1;
    }
    if (error instanceof AlgorythmosError) {
      io.err(`algorythmos: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

/** The process's own streams. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text + "\n"),
    err: (text) => process.stderr.write(text + "\n"),
    tty: Boolean(process.stdout.isTTY),
    env: process.env,
    readStdin: async () => {
      if (process.stdin.isTTY) return "";
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}
