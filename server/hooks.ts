import { parseStepConfig, type RunEvent } from "@algorythmos/domain";
import { workflowRunsChannel } from "@algorythmos/platform";
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import type { ServerDeps } from "./context.js";
import { AppError, errorBody } from "./errors.js";
import { refuseLargeBodies } from "./limits.js";
import type { ChannelHub } from "./realtime.js";
import { liveWorkflowAt, readWorkflowHead, startAuthorisedRun } from "./services/runs.js";

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

/**
 * `POST /hooks/:workflowId/:secret` starts a run of a workflow with a `trigger.webhook` step; the run's input is
 * `{ body, query, headers }`. In `responseMode: "output"` the response is the run's output once it finishes.
 */
export function createWebhookRoutes(deps: ServerDeps, hub: ChannelHub) {
  const hooks = new Hono();
  hooks.use("*", refuseLargeBodies(MAX_WEBHOOK_BODY_BYTES, (c, message) => c.json(errorBody("PAYLOAD_TOO_LARGE", message), 413)));
  hooks.post("/:workflowId/:secret", async (c) => {
    const workflowId = c.req.param("workflowId");
    // The secret first, from the primary key alone: a caller without it never makes us read the document.
    // A wrong secret and a missing workflow look the same: the caller learns nothing.
    const stored = await readWorkflowHead(deps, workflowId);
    if (!sameSecret(c.req.param("secret"), stored?.webhookSecret ?? "")) throw new AppError("NOT_FOUND", "No webhook at this address");
    if (!stored) throw new AppError("NOT_FOUND", "No webhook at this address");
    const input = await webhookInput(c);
    const workflow = await liveWorkflowAt(deps, workflowId, stored.updateSeq);
    if (!workflow) throw new AppError("NOT_FOUND", "No webhook at this address");
    const trigger = workflow.definition.steps.find((step) => step.type === "trigger.webhook");
    if (!trigger) throw new AppError("NOT_FOUND", "This workflow has no webhook trigger; add one in the studio");
    const { responseMode } = parseStepConfig("trigger.webhook", trigger.config);

    if (responseMode !== "output") {
      const run = await startAuthorisedRun(deps, workflow, input, "webhook");
      return c.json({ runId: run.id, status: run.status }, 202);
    }
    // Listen on the workflow's runs before starting, so the run cannot finish unseen.
    let runId: string | null = null;
    let finished: (event: RunEvent) => void = () => {};
    const done = new Promise<RunEvent>((resolve) => (finished = resolve));
    const early: RunEvent[] = [];
    const stop = await hub.listen(workflowRunsChannel(deps.env.REDIS_PREFIX, workflowId), (message) => {
      const event = JSON.parse(message) as RunEvent;
      if (event.type !== "run.finished") return;
      if (runId === null) early.push(event);
      else if (event.runId === runId) finished(event);
    });
    try {
      const run = await startAuthorisedRun(deps, workflow, input, "webhook");
      runId = run.id;
      const seen = early.find((event) => event.runId === runId);
      if (seen) finished(seen);
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
