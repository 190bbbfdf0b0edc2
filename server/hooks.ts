import { parseStepConfig, type RunEvent } from "@algorythmos/domain";
import { runEventsOfMessage, workflowRunsChannel } from "@algorythmos/platform";
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import type { ServerDeps } from "./context.js";
import { AppError, errorBody } from "./errors.js";
import { refuseLargeBodies } from "./limits.js";
import type { ChannelHub } from "./realtime.js";
import {
  claimIdempotencyKey,
  DuplicateWebhookRequest,
  idempotencyKeyOf,
  publishedWorkflow,
  readWebhookTarget,
  triggerRefusal,
} from "./services/publish.js";
import { startAuthorisedRun, type RunView } from "./services/runs.js";

/** How long a webhook in `output` mode waits for the run before answering 202 with the run id. */
export const WEBHOOK_WAIT_MS = 30_000;
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** Request headers never copied into a run's input. */
const PRIVATE_HEADERS = new Set(["authorization", "cookie", "proxy-authorization", "x-algorythmos-csrf"]);

/** Constant time whatever the lengths: both sides are hashed to 32 bytes before they are compared. */
const digest = (secret: string) => createHash("sha256").update(secret).digest();
const sameSecret = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

/** Deeper JSON than this is refused (the walk below, and storing it, would recurse that deep). */
const MAX_INPUT_DEPTH = 64;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What in a run input PostgreSQL's jsonb cannot store (it refuses NUL and lone surrogates), or null. */
function unstorable(input: unknown): string | null {
  const pending: [unknown, number][] = [[input, 0]];
  const check = (text: string) => (text.includes("\u0000") ? "a NUL character" : LONE_SURROGATE.test(text) ? "an unpaired UTF-16 surrogate" : null);
  while (pending.length) {
    const [value, depth] = pending.pop()!;
    if (typeof value === "string") {
      const problem = check(value);
      if (problem) return problem;
    } else if (value && typeof value === "object") {
      if (depth >= MAX_INPUT_DEPTH) return `JSON nested deeper than ${MAX_INPUT_DEPTH} levels`;
      for (const [key, item] of Object.entries(value)) {
        const problem = check(key);
        if (problem) return problem;
        pending.push([item, depth + 1]);
      }
    }
  }
  return null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The run's input, `{ body, query, headers }`, or BAD_USER_INPUT for a body or query that cannot be stored. */
async function webhookInput(c: Context) {
  let text: string;
  try {
    text = strictUtf8.decode(await c.req.arrayBuffer());
  } catch {
    throw new AppError("BAD_USER_INPUT", "The body must be UTF-8 text (JSON, a form or plain text); binary bodies are not accepted");
  }
  let body: unknown = text;
  if ((c.req.header("content-type") ?? "").includes("json") && text) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new AppError("BAD_USER_INPUT", "The body is declared as JSON but is not valid JSON");
    }
  }
  const headers = Object.fromEntries([...c.req.raw.headers].filter(([name]) => !PRIVATE_HEADERS.has(name)));
  const input = { body, query: c.req.query(), headers };
  const problem = unstorable(input);
  if (problem) throw new AppError("BAD_USER_INPUT", `The request holds ${problem}, which a run input cannot store`);
  return input;
}

/** A run's state as a webhook answers for a repeated Idempotency-Key (the run the first request started). */
async function existingRun(deps: ServerDeps, runId: string) {
  return deps.db.run.findUnique({ where: { id: runId }, select: { status: true, output: true, error: true } });
}

/**
 * `POST /hooks/:workflowId/:secret` starts a run of the PUBLISHED version of a workflow with a `trigger.webhook`
 * step (R37); the run's input is `{ body, query, headers }`. Never published or deactivated: 409 NOT_PUBLISHED /
 * INACTIVE (R38). In `responseMode: "output"` the response is the run's output once it finishes. An
 * `Idempotency-Key` header returns the same run for the same key for 24 h (R39; `Idempotent-Replayed: true`).
 */
export function createWebhookRoutes(deps: ServerDeps, hub: ChannelHub) {
  const hooks = new Hono();
  const finishedRuns = finishedRunListeners(hub);
  hooks.use("*", refuseLargeBodies(MAX_WEBHOOK_BODY_BYTES, (c, message) => c.json(errorBody("PAYLOAD_TOO_LARGE", message), 413)));
  hooks.post("/:workflowId/:secret", async (c) => {
    const workflowId = c.req.param("workflowId");
    // The secret first, in one primary-key read (with the published version's id and whether triggers are on):
    // a caller without it never makes us read a definition. A wrong secret and a missing workflow look the same.
    const stored = await readWebhookTarget(deps.db, workflowId);
    if (!sameSecret(c.req.param("secret"), stored?.webhookSecret ?? "")) throw new AppError("NOT_FOUND", "No webhook at this address");
    if (!stored) throw new AppError("NOT_FOUND", "No webhook at this address");
    const refusal = triggerRefusal(stored);
    if (refusal) return c.json({ error: { code: refusal.code, message: refusal.message, details: null } }, 409);
    const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
    const input = await webhookInput(c);
    const workflow = await publishedWorkflow(deps.db, workflowId, stored);
    if (!workflow) throw new AppError("NOT_FOUND", "No webhook at this address");
    const trigger = workflow.definition.steps.find((step) => step.type === "trigger.webhook");
    if (!trigger) throw new AppError("NOT_FOUND", "The published version has no webhook trigger; add one in the studio and publish");
    const { responseMode } = parseStepConfig("trigger.webhook", trigger.config);
    /** The new run, or the run an earlier request with the same Idempotency-Key started (`replayed`). */
    const start = async (): Promise<{ run: Pick<RunView, "id" | "status">; replayed: boolean }> => {
      try {
        const run = await startAuthorisedRun(deps, workflow, input, "webhook", {
          versionId: workflow.versionId,
          alsoInTransaction: idempotencyKey ? (tx, runId) => claimIdempotencyKey(tx, workflowId, idempotencyKey, runId) : undefined,
        });
        return { run, replayed: false };
      } catch (error) {
        if (!(error instanceof DuplicateWebhookRequest)) throw error;
        c.header("Idempotent-Replayed", "true");
        const existing = await existingRun(deps, error.runId);
        return { run: { id: error.runId, status: existing?.status ?? "queued" }, replayed: true };
      }
    };

    if (responseMode !== "output") {
      const { run } = await start();
      return c.json({ runId: run.id, status: run.status }, 202);
    }
    // Listen on the workflow's runs before starting, so the run cannot finish unseen.
    let runId: string | null = null;
    let finished: (event: RunEvent) => void = () => {};
    const done = new Promise<RunEvent>((resolve) => (finished = resolve));
    const early: RunEvent[] = [];
    const stop = await finishedRuns(workflowRunsChannel(deps.env.REDIS_PREFIX, workflowId), (event) => {
      if (runId === null) early.push(event);
      else if (event.runId === runId) finished(event);
    });
    try {
      const { run, replayed } = await start();
      runId = run.id;
      const seen = early.find((event) => event.runId === runId);
      if (seen) finished(seen);
      if (replayed && !seen) {
        // The first request's run may have finished before this listener started: answer from the store then.
        const stored = await existingRun(deps, runId);
        if (stored && stored.status !== "queued" && stored.status !== "running") {
          finished({ type: "run.finished", runId, workflowId, stepId: null, status: stored.status, output: stored.output, error: stored.error, at: new Date().toISOString(), seq: 0 } as RunEvent);
        }
      }
      const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), WEBHOOK_WAIT_MS).unref());
      const event = await Promise.race([done, timeout]);
      if (!event) return c.json({ runId, status: "running", message: `The run did not finish within ${WEBHOOK_WAIT_MS / 1000} s` }, 202);
      // run.finished carries the final status, output and error as stored in its statement: no read back.
      const final = { status: event.status, output: event.output, error: event.error };
      if (final.status === "succeeded") return c.json(final.output ?? null, 200);
      return c.json(errorBody("RUN_FAILED", final.error ?? `The run ${final.status}`, { runId, status: final.status }), 502);
    } finally {
      await stop();
    }
  });
  return hooks;
}

/** How long a workflow's channel stays subscribed after its last waiting request (no SUBSCRIBE/UNSUBSCRIBE per run). */
const LISTEN_LINGER_MS = 10_000;

/**
 * The `run.finished` events of a workflow channel for every webhook request of this process that waits on it:
 * ONE hub listener per channel, each message looked at once — only one holding a `run.finished` is parsed — and handed
 * to each waiting request. (A listener per request parsed every event of every run of the workflow once per
 * waiting request: at 200 req/s with 20 waiting, ~44,000 JSON.parse/s.) The subscription lingers briefly
 * after the last request, so sequential requests do not subscribe and unsubscribe once each.
 */
function finishedRunListeners(hub: ChannelHub) {
  const channels = new Map<string, { listeners: Set<(event: RunEvent) => void>; subscribed: Promise<() => Promise<void>>; linger?: ReturnType<typeof setTimeout> }>();
  return async (channel: string, onFinished: (event: RunEvent) => void): Promise<() => Promise<void>> => {
    let entry = channels.get(channel);
    if (!entry) {
      const listeners = new Set<(event: RunEvent) => void>();
      const subscribed = hub.listen(channel, (message) => {
        if (!listeners.size || !message.includes('"run.finished"')) return;
        // One statement's events (R60), or one event from a process of the previous release.
        for (const event of runEventsOfMessage(message)) {
          if (event.type !== "run.finished") continue;
          for (const listener of listeners) listener(event);
        }
      });
      entry = { listeners, subscribed };
      channels.set(channel, entry);
      subscribed.catch(() => {
        if (channels.get(channel) === entry) channels.delete(channel);
      });
    }
    const current = entry;
    if (current.linger) clearTimeout(current.linger);
    current.linger = undefined;
    current.listeners.add(onFinished);
    try {
      await current.subscribed;
    } catch (error) {
      current.listeners.delete(onFinished);
      throw error;
    }
    return async () => {
      current.listeners.delete(onFinished);
      if (current.listeners.size || channels.get(channel) !== current) return;
      current.linger = setTimeout(() => {
        if (current.listeners.size || channels.get(channel) !== current) return;
        channels.delete(channel);
        void current.subscribed.then((stop) => stop()).catch(() => {});
      }, LISTEN_LINGER_MS);
      current.linger.unref();
    };
  };
}
