import type { Env } from "@algorythmos/platform";
import { Errors, ServerClient } from "postmark";
import type { RequestInit } from "undici";
import { AbortedError, StepError, errorMessage } from "../errors.js";
import { guardedFetch, portOf } from "../ssrf.js";
import { renderString } from "../templates.js";
import type { Executor } from "./types.js";

/**
 * An SDK client for POSTMARK_API_URL. postmark 5.x sends with fetch and accepts a `fetch` option, so it is
 * given the guarded fetch (R11): every hop, redirects included, passes the SSRF guard. The configured API's
 * own host:port is trusted (an operator setting, possibly a private relay); anything it redirects to is
 * checked against HTTP_ALLOW_HOSTS like any other call. The fetch is made abortable by `signal` (cancel,
 * shutdown, timeout), and transport errors are reported to `onTransportError` so a refused connection
 * (nothing sent) can be told from a broken one (outcome unknown).
 */
export function postmarkClient(serverToken: string, env: Env, signal: AbortSignal, timeoutMs: number, onTransportError: (error: unknown) => void = () => {}) {
  const api = new URL(env.POSTMARK_API_URL);
  const guarded = guardedFetch({ allowHosts: [...env.HTTP_ALLOW_HOSTS, `${api.hostname.toLowerCase()}:${portOf(api)}`] });
  return new ServerClient(serverToken, {
    useHttps: api.protocol === "https:",
    requestHost: api.host,
    timeout: Math.ceil(timeoutMs / 1000),
    fetch: async (input, init) => {
      try {
        const request = init as RequestInit | undefined;
        return (await guarded(input instanceof URL ? input : String(typeof input === "object" && "url" in input ? input.url : input), {
          ...request,
          signal: request?.signal ? AbortSignal.any([request.signal, signal]) : signal,
        })) as unknown as globalThis.Response;
      } catch (error) {
        onTransportError(error);
        throw error;
      }
    },
  });
}

/** Connection errors that prove nothing reached Postmark: safe to report as "not sent". */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * email.postmark (R14, R18): one `POST /email` with the official SDK against POSTMARK_API_URL, the server
 * token from a `postmark` credential. `from`, `to`, `subject` and both bodies may use `{{ path }}` templates.
 * Postmark has no idempotency keys, so the step is at-most-once: the key `<runId>:<stepId>:<attempt>` goes
 * into the message's Metadata (for a human to find duplicates), a failure whose outcome is unknown (the
 * connection broke after the request left, a timeout, a crash) is reported as such and never repeated.
 * Output `{ messageId, to, submittedAt, errorCode, message }`.
 */
export const emailPostmark: Executor<"email.postmark"> = async ({ config, context, signal, env, credential, idempotencyKey }) => {
  const { serverToken } = await credential(config.credentialId, "postmark");
  let transportError: unknown;
  const client = postmarkClient(serverToken, env, signal, config.timeoutMs ?? 30_000, (error) => (transportError = error));
  const message = {
    From: renderString(config.from, context),
    To: renderString(config.to, context),
    Subject: renderString(config.subject, context),
    ...(config.textBody === undefined ? {} : { TextBody: renderString(config.textBody, context) }),
    ...(config.htmlBody === undefined ? {} : { HtmlBody: renderString(config.htmlBody, context) }),
    ...(config.messageStream ? { MessageStream: config.messageStream } : {}),
    Metadata: { "algorythmos-key": idempotencyKey.slice(0, 80) },
  };
  const input = { from: message.From, to: message.To, subject: message.Subject, messageStream: config.messageStream ?? null };
  try {
    const response = await client.sendEmail(message);
    return {
      input,
      output: {
        messageId: response.MessageID,
        to: response.To ?? message.To,
        submittedAt: response.SubmittedAt,
        errorCode: response.ErrorCode,
        message: response.Message,
      },
    };
  } catch (error) {
    if (signal.aborted) throw new AbortedError();
    if (transportError instanceof StepError) throw transportError; // refused by the SSRF guard: nothing was sent
    if (transportError !== undefined) {
      const code = (transportError as { cause?: { code?: string } }).cause?.code;
      if (code && NOT_SENT_CODES.has(code)) {
        throw new StepError(`Postmark could not be reached (${code}); nothing was sent`, { retryable: true, cause: error });
      }
      throw new StepError(
        `Postmark request failed (${code ?? errorMessage(transportError)}); outcome unknown — the email may have been sent`,
        { cause: error },
      );
    }
    if (error instanceof Errors.PostmarkError && error.statusCode) {
      const status = error.statusCode;
      throw new StepError(`Postmark error ${status} (code ${error.code}): ${error.message}`, {
        retryable: status === 429 || status >= 500,
        cause: error,
        output: { statusCode: status, errorCode: error.code, message: error.message },
      });
    }
    throw new StepError(`Postmark request failed: ${errorMessage(error)}`, { cause: error });
  }
};
