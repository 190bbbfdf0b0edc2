import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { AbortedError, StepError } from "./errors.js";
import { evaluateInWorker } from "./expression-subset.js";
import type { RunContext } from "./executors/types.js";

/**
 * Limits of one JSONata evaluation (R7): wall time, call depth, sequence length, the size of the result as
 * JSON, and the heap of the sandbox process that evaluates it.
 */
export const EXPRESSION_LIMITS = { timeoutMs: 1_000, stack: 500, sequence: 100_000, outputBytes: 1024 * 1024, memoryMb: 128 } as const;
/** JSONata's own time check fires between steps; the sandbox is killed if it has not answered by then + this. */
const DEADLINE_GRACE_MS = 200;
/** Sandboxes per worker process: expressions queue for them (the wait does not count against the time limit). */
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism()));
const SANDBOX_PATH = fileURLToPath(new URL("./expression-sandbox.mjs", import.meta.url));

type Answer =
  | { ready: true; id?: undefined }
  | { id: number; ok: true; json: string }
  | { id: number; ok: false; kind: "syntax" | "runtime" | "timeout"; message: string }
  | { id: number; ok: false; kind: "function" | "size" };

interface Task {
  id: number;
  expression: string;
  context: RunContext;
  signal?: AbortSignal;
  /** Sandboxes that died under this task (it is tried once more: the death may belong to the task before). */
  deaths: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A sandbox process and the task it is running (null when idle). */
interface Slot {
  sandbox: ChildProcess;
  /** Booted (jsonata loaded): a task's deadline starts only when it reaches a ready sandbox. */
  ready: boolean;
  task: Task | null;
  timer?: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
}

/**
 * Where expressions run (docs/security.md, "Expression sandbox"): a small pool of child processes, each with a
 * small heap. An evaluation that outlives its deadline, is aborted (cancel, step timeout, shutdown) or
 * exhausts its memory has its sandbox killed and replaced, so a runaway — even one stuck inside a native
 * built-in like a catastrophic regex — costs one sandbox for at most the time limit and never blocks the
 * event loop of the process (which, under `npm start`, also serves the studio and the API).
 * Processes rather than worker threads: a thread's heap limit is not a wall — an allocation burst past it
 * is a fatal out-of-memory of the whole process (V8 gives a terminating worker 16 MB of leeway), which
 * would take the server down with it.
 */
class ExpressionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;

  evaluate(expression: string, context: RunContext, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, expression, context, signal, deaths: 0, resolve, reject };
      if (signal) {
        // Aborted while queued: leave the queue. (A running task is handled by its slot.)
        signal.addEventListener("abort", () => {
          const index = this.queue.indexOf(task);
          if (index >= 0) {
            this.queue.splice(index, 1);
            reject(new AbortedError());
          }
        }, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.find((candidate) => candidate.ready && candidate.task === null);
      if (!slot) {
        // A booting sandbox takes the next task when it says it is ready; else start one if there is room.
        if (!this.slots.some((candidate) => !candidate.ready) && this.slots.length < POOL_SIZE) this.spawn();
        return;
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot {
    const sandbox = fork(SANDBOX_PATH, [], {
      // Bare node with a small heap: no loader flags of the parent (tsx, vitest) are inherited.
      execArgv: [`--max-old-space-size=${EXPRESSION_LIMITS.memoryMb}`],
      // Nothing of the worker's environment (CREDENTIALS_KEY, DATABASE_URL, NODE_OPTIONS, …) reaches it.
      env: { NODE_ENV: "production" },
      serialization: "advanced",
      stdio: ["ignore", "ignore", "ignore", "ipc"],
    });
    // An idle pool never keeps the process alive (a running task's deadline timer does).
    sandbox.unref();
    sandbox.channel?.unref();
    const slot: Slot = { sandbox, ready: false, task: null };
    sandbox.on("message", (answer: Answer) => {
      if ("ready" in answer) {
        slot.ready = true;
        this.dispatch();
      } else if (slot.task?.id === answer.id) this.finish(slot, (task) => settle(task, answer));
    });
    sandbox.on("error", (error) => this.retire(slot, new StepError(`Expression failed: ${error.message}`)));
    sandbox.on("exit", (code, signal) => {
      const task = slot.task;
      if (task && task.deaths === 0 && this.slots.includes(slot)) {
        // Not killed by us: the memory may have been filled by the task before (collected too late), so the
        // task gets one fresh sandbox; a real memory bomb dies there too.
        task.deaths++;
        this.retire(slot, null);
        this.queue.unshift(task);
        this.dispatch();
        return;
      }
      // V8 aborts a process whose heap is exhausted (SIGABRT, or 134 through a shell).
      const outOfMemory = signal === "SIGABRT" || code === 134;
      this.retire(
        slot,
        new StepError(outOfMemory ? `Expression failed: it used more than ${EXPRESSION_LIMITS.memoryMb} MB of memory and was stopped` : "Expression failed: its sandbox stopped unexpectedly"),
      );
    });
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, task: Task): void {
    slot.task = task;
    slot.timer = setTimeout(
      () => this.retire(slot, new StepError(`Expression failed: it ran longer than ${EXPRESSION_LIMITS.timeoutMs} ms and was stopped`)),
      EXPRESSION_LIMITS.timeoutMs + DEADLINE_GRACE_MS,
    );
    if (task.signal) {
      slot.onAbort = () => this.retire(slot, new AbortedError());
      task.signal.addEventListener("abort", slot.onAbort, { once: true });
    }
    try {
      slot.sandbox.send({ id: task.id, expression: task.expression, context: task.context, limits: EXPRESSION_LIMITS });
    } catch (error) {
      // The context cannot be cloned (it is JSON from the ledger, so this is a bug, not a user error).
      this.finish(slot, (current) => current.reject(new StepError(`Expression failed: ${(error as Error).message}`)));
    }
  }

  /** The slot's task is done; the sandbox takes the next one. */
  private finish(slot: Slot, settleTask: (task: Task) => void): void {
    const task = slot.task;
    if (!task) return;
    this.release(slot, task);
    settleTask(task);
    this.dispatch();
  }

  /** Kills the slot's sandbox (runaway, abort, crash) and fails its task with `error` (null: the caller re-queues it). */
  private retire(slot: Slot, error: unknown): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const task = slot.task;
    if (task) this.release(slot, task);
    slot.sandbox.kill("SIGKILL");
    if (error !== null) task?.reject(error);
    this.dispatch();
    // The replacement starts now, so the next expression does not wait for a process to boot.
    if (this.slots.length < POOL_SIZE) this.spawn();
  }

  private release(slot: Slot, task: Task): void {
    clearTimeout(slot.timer);
    if (slot.onAbort) task.signal?.removeEventListener("abort", slot.onAbort);
    slot.task = null;
    slot.timer = undefined;
    slot.onAbort = undefined;
  }
}

function settle(task: Task, answer: Exclude<Answer, { ready: true }>): void {
  if (answer.ok) return task.resolve(JSON.parse(answer.json));
  try {
    settleError(answer);
  } catch (error) {
    task.reject(error);
  }
}

/** One wording of every expression failure, whether the sandbox or the worker (R57) evaluated it. */
function settleError(answer: { kind: "syntax" | "runtime" | "timeout" | "function" | "size"; message?: string }): never {
  switch (answer.kind) {
    case "syntax":
      throw new StepError(`Invalid expression: ${answer.message}`);
    case "runtime":
      throw new StepError(`Expression failed: ${answer.message}`);
    case "timeout":
      throw new StepError(`Expression failed: it ran longer than ${EXPRESSION_LIMITS.timeoutMs} ms and was stopped`);
    case "function":
      throw new StepError("Expression returned a function, not a value");
    case "size":
      throw new StepError(`Expression failed: its result is larger than 1 MiB (${EXPRESSION_LIMITS.outputBytes} bytes of JSON)`);
  }
}

const pool = new ExpressionPool();

/**
 * Evaluates a JSONata expression against the run context, on the sandbox pool. Syntax errors, runtime errors
 * and exceeded limits are non-retryable step failures (the same expression would fail again); an abort is an
 * AbortedError. The result is plain JSON (`undefined` becomes `null`).
 */
export async function evaluateExpression(expression: string, context: RunContext, signal?: AbortSignal): Promise<unknown> {
  if (signal?.aborted) throw new AbortedError();
  // R57: the statically bounded subset is evaluated here, with no round trip to a sandbox; the rest (and an
  // evaluation that leaves the subset's bounds while it runs) goes to the sandbox pool as before (R7).
  const inWorker = await evaluateInWorker(expression, context, EXPRESSION_LIMITS);
  if (inWorker.handled) {
    expressionCounts.inWorker++;
    if (inWorker.ok) return JSON.parse(inWorker.json);
    return settleError(inWorker);
  }
  expressionCounts.sandbox++;
  return pool.evaluate(expression, context, signal);
}

/** The sandbox alone (R7), for the differential test of R57 and for callers that must not use the subset. */
export function evaluateInSandbox(expression: string, context: RunContext, signal?: AbortSignal): Promise<unknown> {
  return pool.evaluate(expression, context, signal);
}

/** How many evaluations this process made in the worker (R57) and in the sandbox pool (R7), for tests and the bench. */
export const expressionCounts = { inWorker: 0, sandbox: 0 };
