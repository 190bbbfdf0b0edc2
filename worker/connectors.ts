import { randomUUID } from "node:crypto";
import { parseStepConfig, type CredentialSecret, type CredentialType, type StepConfig } from "@algorythmos/domain";
import { bullPrefix, closeRedis, createRedis, jobCatalog, type ConnectorTestJob, type ConnectorTestResult, type Db, type Env, type Logger } from "@algorythmos/platform";
import { UnrecoverableError, Worker } from "bullmq";
import { loadCredential } from "./engine.js";
import { StepError, errorMessage } from "./errors.js";
import { postmarkClient } from "./executors/email-postmark.js";
import { httpRequest } from "./executors/http-request.js";
import { guardRefusal, openAiClient } from "./executors/openai-chat.js";
import type { RunContext } from "./executors/types.js";
import { assertPublicHost } from "./ssrf.js";
import { Redactor } from "./redact.js";
import { renderString } from "./templates.js";

/** How long one connection test may take on the worker (the API waits 20 s). */
export const CONNECTOR_TEST_TIMEOUT_MS = 15_000;
const TESTABLE = ["http.request", "openai.chat", "email.postmark"] as const;

/**
 * "Test connection" (R24): tries a connector with the same code, guards and credentials a run would use, and
 * without side effects — http.request sends only GET and HEAD (other methods are checked against the SSRF
 * guard and not sent), openai.chat asks for one token, email.postmark reads the server (`GET /server`)
 * instead of sending. Never throws: the answer is `{ ok, message }`.
 */
export async function testConnector(deps: { env: Env; db: Db; logger: Logger }, job: ConnectorTestJob, signal: AbortSignal): Promise<ConnectorTestResult> {
  // The answer becomes a BullMQ return value and an API response: the secrets the test loaded are redacted.
  const redactor = new Redactor();
  const answer = await tryConnector(deps, job, signal, redactor);
  return { ok: answer.ok, message: redactor.text(answer.message) };
}

async function tryConnector(deps: { env: Env; db: Db; logger: Logger }, job: ConnectorTestJob, signal: AbortSignal, redactor: Redactor): Promise<ConnectorTestResult> {
  const { env } = deps;
  if (!(TESTABLE as readonly string[]).includes(job.type)) return { ok: false, message: `Step type "${job.type}" has no connection to test` };
  const type = job.type as (typeof TESTABLE)[number];
  const raw = { ...((job.config as Record<string, unknown> | null) ?? {}), ...(job.credentialId ? { credentialId: job.credentialId } : {}) };
  let config: unknown;
  try {
    config = parseStepConfig(type, raw);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    return { ok: false, message: `Invalid config: ${issues ? issues.map((i) => `${i.path.map(String).join(".") || "config"}: ${i.message}`).join("; ") : errorMessage(error)}` };
  }
  const credential = redactor.loader(<C extends CredentialType>(id: string, credentialType: C): Promise<CredentialSecret<C>> => {
    if (!job.workspaceId) throw new StepError("Choose a credential");
    return loadCredential(deps, job.workspaceId, id, credentialType);
  });
  const context: RunContext = { input: {}, steps: {} };
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(CONNECTOR_TEST_TIMEOUT_MS)]);
  try {
    if (type === "http.request") {
      const http = config as StepConfig<"http.request">;
      if (http.method !== "GET" && http.method !== "HEAD") {
        const url = new URL(renderString(http.url, context));
        await assertPublicHost(url, env.HTTP_ALLOW_HOSTS);
        return { ok: true, message: `${url.host} may be called; the ${http.method} request was not sent (a test sends only GET and HEAD)` };
      }
      const result = await httpRequest({
        config: http,
        context,
        signal: bounded,
        env,
        logger: redactor.logger(deps.logger),
        stepId: "test",
        runId: "test",
        attempt: 1,
        idempotencyKey: `test:${randomUUID()}`,
        chunk: () => {},
        credential,
      });
      const output = result.output as { status: number };
      return { ok: true, message: `HTTP ${output.status} from ${http.method} ${renderString(http.url, context)}` };
    }
    if (type === "openai.chat") {
      const chat = config as StepConfig<"openai.chat">;
      const secret = await credential(chat.credentialId, "openai");
      const { client, baseURL } = openAiClient(secret, env, CONNECTOR_TEST_TIMEOUT_MS);
      const completion = await client.chat.completions
        .create({ model: chat.model, messages: [{ role: "user", content: "ping" }], max_tokens: 1 }, { signal: bounded })
        .catch((error: unknown) => Promise.reject(guardRefusal(error) ?? error));
      return { ok: true, message: `Connected to ${baseURL}; model ${completion.model} answered` };
    }
    const mail = config as StepConfig<"email.postmark">;
    const { serverToken } = await credential(mail.credentialId, "postmark");
    let refusal: StepError | null = null;
    const client = postmarkClient(serverToken, env, bounded, CONNECTOR_TEST_TIMEOUT_MS, (error) => (refusal = guardRefusal(error)));
    const server = await client.getServer().catch((error: unknown) => Promise.reject(refusal ?? error));
    return { ok: true, message: `Connected to Postmark server "${server.Name}"; no email was sent` };
  } catch (error) {
    if (error instanceof StepError) return { ok: false, message: error.message };
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    const prefix = type === "openai.chat" && status ? `OpenAI API error ${status}: ` : type === "email.postmark" && status ? `Postmark error ${status}: ` : "";
    return { ok: false, message: `${prefix}${errorMessage(error)}` };
  }
}

/** The worker of the "connectors" queue (the server waits for the answer through QueueEvents). */
export async function startConnectorWorker(deps: { env: Env; db: Db; logger: Logger }, signal: AbortSignal): Promise<{ close(): Promise<void> }> {
  const { env, logger } = deps;
  const connection = createRedis(env.REDIS_URL, { blocking: true, name: "worker-connectors" });
  const worker = new Worker<ConnectorTestJob, ConnectorTestResult>(
    "connectors",
    async (job) => {
      if (job.name !== "test-connector") throw new UnrecoverableError(`Unknown job "${job.name}" on the connectors queue`);
      const payload = jobCatalog.connectors["test-connector"].safeParse(job.data);
      if (!payload.success) throw new UnrecoverableError(`Invalid test-connector payload: ${payload.error.message}`);
      return testConnector(deps, payload.data, signal);
    },
    { connection, prefix: bullPrefix(env.REDIS_PREFIX), concurrency: 4 },
  );
  worker.on("error", (error) => logger.error("connector worker error", { error: errorMessage(error) }));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await closeRedis(connection);
    },
  };
}
