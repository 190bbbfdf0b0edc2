import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { AbortedError, StepError } from "./errors.js";
import type { RunContext } from "./executors/types.js";

/**
 * Where `code` steps run (R44–R46, docs/decisions/0008-code-sandbox.md): a few worker threads, each holding a
 * QuickJS WebAssembly module; every run gets a fresh QuickJS runtime in one of them. Threads, not processes
 * as for JSONata: the code's heap is QuickJS's, inside WebAssembly memory with its own hard limit, so nothing
 * the code allocates lands on a V8 heap; the thread keeps the worker's event loop free while code runs.
 */
export const CODE_LIMITS = {
  /** The result as JSON, and all console lines of a run together (characters). */
  outputChars: 1024 * 1024,
  logChars: 64 * 1024,
  /** A thread that has not answered this long after the deadline is stuck in one native call: it is terminated. */
  watchdogGraceMs: 1_000,
} as const;
const MIB = 2 ** 20;
// Threads that wait for nothing cost little (a small V8 heap each; WebAssembly memory only while a run uses it), and a
// run's time includes waiting for one: at least 4, so a few looping steps do not starve the others.
const POOL_SIZE = Math.max(4, Math.min(8, availableParallelism()));
const THREAD_URL = new URL("./code-sandbox-thread.mjs", import.meta.url);

export interface CodeLimits {
  /** The step's time budget (its `timeoutMs`, R19); the code stops a little before so this error, not the engine's timeout, is reported. */
  timeoutMs: number;
  memoryLimitMb: number;
}
export interface CodeLogLine {
  level: "log" | "info" | "warn" | "error" | "debug";
  message: string;
}
export interface CodeResult {
  value: unknown;
  logs: CodeLogLine[];
  durationMs: number;
}

type Answer =
  | { ready: true; id?: undefined }
  | { id: number; ok: true; json: string; logs: CodeLogLine[] }
  | { id: number; ok?: undefined; kind: FailureKind; name?: string; message: string; frames?: string[]; logs: CodeLogLine[] };
type FailureKind = "syntax" | "thrown" | "time" | "memory" | "stack" | "result" | "size" | "pending" | "internal";

interface Task {
  id: number;
  message: { code: string; input: string; steps: string; limits: { memoryBytes: number; deadline: number; logBytes: number; outputBytes: number } };
  limits: CodeLimits;
  startedAt: number;
  signal?: AbortSignal;
  resolve(value: CodeResult): void;
  reject(error: unknown): void;
}

interface Slot {
  thread: Worker;
  ready: boolean;
  task: Task | null;
  watchdog?: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
}

/** How long before the step's timeout the code itself is stopped: room for the answer to come back. */
export function codeBudgetMs(timeoutMs: number): number {
  return timeoutMs - Math.min(1_000, Math.max(50, Math.round(timeoutMs * 0.1)));
}

class CodeSandboxPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;

  run(code: string, context: RunContext, limits: CodeLimits, signal?: AbortSignal): Promise<CodeResult> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        // The time budget starts now: waiting for a free thread is part of the step's time (R45).
        message: {
          code,
          input: JSON.stringify(context.input ?? null),
          steps: JSON.stringify(context.steps ?? {}),
          limits: { memoryBytes: limits.memoryLimitMb * MIB, deadline: startedAt + codeBudgetMs(limits.timeoutMs), logBytes: CODE_LIMITS.logChars, outputBytes: CODE_LIMITS.outputChars },
        },
        limits,
        startedAt,
        signal,
        resolve,
        reject,
      };
      signal?.addEventListener("abort", () => {
        const index = this.queue.indexOf(task);
        if (index >= 0) {
          this.queue.splice(index, 1);
          reject(new AbortedError());
        }
      }, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.find((candidate) => candidate.ready && candidate.task === null);
      if (!slot) {
        if (!this.slots.some((candidate) => !candidate.ready) && this.slots.length < POOL_SIZE) this.spawn();
        return;
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private spawn(): void {
    const thread = new Worker(THREAD_URL, {
      // Nothing of the worker's environment or loader flags reaches the thread (the code could not read it anyway).
      env: {},
      execArgv: [],
      // Host-side memory of the thread is small (JSON text in and out); the code's own heap is in WebAssembly.
      resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    thread.unref();
    // QuickJS's aborts print to the thread's stderr; the answer says what happened, so the output is dropped.
    thread.stdout.resume();
    thread.stderr.resume();
    const slot: Slot = { thread, ready: false, task: null };
    thread.on("message", (answer: Answer) => {
      if ("ready" in answer) {
        slot.ready = true;
        this.dispatch();
      } else if (slot.task?.id === answer.id) {
        const task = slot.task;
        this.release(slot);
        settle(task, answer);
        this.dispatch();
      }
    });
    thread.on("error", (error) => this.retire(slot, new StepError(`Code sandbox failed: ${error.message}`)));
    thread.on("exit", () => this.retire(slot, new StepError("Code sandbox stopped unexpectedly")));
    this.slots.push(slot);
  }

  private start(slot: Slot, task: Task): void {
    slot.task = task;
    const untilDeadline = task.message.limits.deadline - Date.now();
    slot.watchdog = setTimeout(() => this.retire(slot, timeLimitError(task.limits)), Math.max(0, untilDeadline) + CODE_LIMITS.watchdogGraceMs);
    if (task.signal) {
      slot.onAbort = () => this.retire(slot, new AbortedError());
      task.signal.addEventListener("abort", slot.onAbort, { once: true });
    }
    slot.thread.postMessage({ id: task.id, ...task.message });
  }

  private release(slot: Slot): void {
    clearTimeout(slot.watchdog);
    if (slot.onAbort) slot.task?.signal?.removeEventListener("abort", slot.onAbort);
    slot.task = null;
    slot.watchdog = undefined;
    slot.onAbort = undefined;
  }

  /** Terminates the slot's thread (stuck, aborted, crashed) and fails its task with `error`. */
  private retire(slot: Slot, error: unknown): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const task = slot.task;
    this.release(slot);
    void slot.thread.terminate();
    task?.reject(error);
    this.dispatch();
  }
}

function timeLimitError(limits: CodeLimits): StepError {
  return new StepError(`Code exceeded its time limit (${limits.timeoutMs} ms)`);
}

function settle(task: Task, answer: Exclude<Answer, { ready: true }>): void {
  const logs = answer.logs ?? [];
  if (answer.ok) {
    task.resolve({ value: JSON.parse(answer.json), logs, durationMs: Date.now() - task.startedAt });
    return;
  }
  // Failures are not retried (R46): the same code on the same input fails the same way. The logs so far are the
  // failed attempt's output.
  const fail = (message: string) => task.reject(new StepError(message, { output: { logs } }));
  const frames = answer.frames?.length ? `\n${answer.frames.map((frame) => `    ${frame}`).join("\n")}` : "";
  switch (answer.kind) {
    case "syntax": {
      const where = answer.frames?.[0]?.match(/code\.js:(\d+:\d+)/)?.[1];
      return fail(`Code has a syntax error${where ? ` at ${where}` : ""}: ${answer.message}`);
    }
    case "thrown":
      return fail(`Code threw ${answer.name ? `${answer.name}: ` : ""}${answer.message}${frames}`);
    case "time":
      return fail(timeLimitError(task.limits).message);
    case "memory":
      return fail(`Code exceeded its memory limit (${task.limits.memoryLimitMb} MiB)`);
    case "stack":
      return fail("Code exceeded its stack limit (recursion too deep)");
    case "result":
      return fail(`Code returned a value that is not JSON: ${answer.message}`);
    case "size":
      return fail(`Code returned a result larger than 1 MiB as JSON (${answer.message} characters)`);
    case "pending":
      return fail(answer.message);
    case "internal":
      return fail(`Code sandbox failed: ${answer.message}`);
  }
}

const pool = new CodeSandboxPool();

/**
 * Runs a code step's body (`input` and `steps` in scope, `return` gives the result, `await` allowed) in the
 * sandbox. Every failure is a non-retryable StepError whose output carries the console lines so far; an abort
 * (cancel, shutdown, step timeout) terminates the thread and is an AbortedError.
 */
export function runCode(code: string, context: RunContext, limits: CodeLimits, signal?: AbortSignal): Promise<CodeResult> {
  return pool.run(code, context, limits, signal);
}
