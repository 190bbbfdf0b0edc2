import { credentialTypes, type CredentialSecret, type CredentialType } from "@algorythmos/domain";
import type { Logger } from "@algorythmos/platform";
import { AbortedError, ShutdownAbort, StepError, errorMessage } from "./errors.js";

/** What is recorded instead of a secret's value. */
export const REDACTED = "[redacted]";
/** Shorter values are not secrets worth the damage of replacing them everywhere (e.g. "x" in every word). */
const MIN_SECRET_LENGTH = 4;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/;

/**
 * The one redaction point of the worker (docs/security.md, "Secrets"): secrets enter a step only through
 * its `credential()` loader, so the redactor wrapping that loader knows every secret value the step could
 * have seen, and everything that leaves the step — its output and recorded input, its error message and
 * error output, its streamed chunks, its log lines, a connection test's answer — passes through it.
 * Each secret is also matched in the forms it takes inside other text: JSON-escaped, URL-encoded, without
 * an auth scheme ("Bearer …"), and, for stored values with control characters, each line of it.
 */
export class Redactor {
  private readonly needles = new Set<string>();

  /** Registers the secret values of a decrypted credential. */
  addCredential<C extends CredentialType>(type: C, secret: CredentialSecret<C>): void {
    for (const field of credentialTypes[type].secretFields) {
      const value = (secret as Record<string, unknown>)[field];
      if (typeof value === "string") this.addValue(value);
    }
  }

  addValue(value: string): void {
    const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
    const scheme = /^[A-Za-z][A-Za-z0-9-]*\s+(\S.*)$/s.exec(value); // "Bearer <token>": the token alone too
    if (scheme) forms.add(scheme[1]!);
    for (const piece of value.split(CONTROL_CHARACTERS)) forms.add(piece.trim());
    for (const form of forms) if (form.length >= MIN_SECRET_LENGTH) this.needles.add(form);
  }

  /** How many characters at the end of `text` could be the start of a secret (the longest such suffix). */
  private unfinished(text: string): number {
    let hold = 0;
    for (const needle of this.needles) {
      for (let length = Math.min(needle.length - 1, text.length); length > hold; length--) {
        if (text.endsWith(needle.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    return hold;
  }

  /**
   * A redacting filter for streamed text: a secret split across two deltas is still caught, because an end
   * that could be the start of a secret is held back until more text (or `end()`) shows how it continues.
   * Text that cannot begin a secret goes out at once.
   */
  stream(emit: (text: string) => void): { push(delta: string): void; end(): void } {
    let pending = "";
    return {
      push: (delta) => {
        pending = this.text(pending + delta);
        const cut = pending.length - this.unfinished(pending);
        if (cut > 0) {
          emit(pending.slice(0, cut));
          pending = pending.slice(cut);
        }
      },
      end: () => {
        if (pending) emit(this.text(pending));
        pending = "";
      },
    };
  }

  text(text: string): string {
    if (!this.needles.size) return text;
    let out = text;
    // Longest first, so a secret is replaced whole before any of its parts.
    for (const needle of [...this.needles].sort((a, b) => b.length - a.length)) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return out;
  }

  /** A JSON-like value with every string (keys included) redacted. */
  value<T>(value: T): T {
    if (!this.needles.size) return value;
    return this.walk(value, 0) as T;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.text(value);
    if (depth > 100 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => this.walk(item, depth + 1));
    if (value instanceof Date) return value;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.text(key), this.walk(item, depth + 1)]));
  }

  /**
   * An error with its message and output redacted and its cause dropped (a cause can hold a request with
   * the secret in it). Abort signals pass through: they carry no text of the step's.
   */
  error(error: unknown): unknown {
    if (error instanceof AbortedError || error instanceof ShutdownAbort) return error;
    if (error instanceof StepError) {
      return new StepError(this.text(error.message), { retryable: error.retryable, output: this.value(error.output) });
    }
    const redacted = new Error(this.text(errorMessage(error)));
    if (error instanceof Error) redacted.name = error.name;
    return redacted;
  }

  logger(logger: Logger): Logger {
    const wrap = (write: Logger["info"]): Logger["info"] => (message, fields) => write(this.text(message), fields && this.value(fields));
    return { debug: wrap(logger.debug), info: wrap(logger.info), warn: wrap(logger.warn), error: wrap(logger.error) };
  }

  /** Wraps a credential loader so every secret it returns is registered here first. */
  loader<L extends <C extends CredentialType>(id: string, type: C) => Promise<CredentialSecret<C>>>(load: L): L {
    return (async <C extends CredentialType>(id: string, type: C) => {
      const secret = await load(id, type);
      this.addCredential(type, secret);
      return secret;
    }) as L;
  }
}

interface RedactableArgs {
  credential: <C extends CredentialType>(id: string, type: C) => Promise<CredentialSecret<C>>;
  chunk(delta: string): void;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Runs an executor behind a Redactor (the engine calls every executor through this): what it returns,
 * throws, streams and logs is redacted of the secrets it loaded.
 */
export async function executeRedacted<A extends RedactableArgs, R extends { output: unknown; input?: unknown }>(
  executor: (args: A) => Promise<R>,
  args: A,
): Promise<R> {
  const redactor = new Redactor();
  const chunks = redactor.stream((text) => args.chunk(text));
  try {
    const result = await executor({
      ...args,
      credential: redactor.loader(args.credential),
      chunk: (delta: string) => chunks.push(delta),
      logger: redactor.logger(args.logger),
    });
    return { ...result, output: redactor.value(result.output), ...(result.input === undefined ? {} : { input: redactor.value(result.input) }) };
  } catch (error) {
    throw redactor.error(error);
  } finally {
    // The held-back tail of the stream; not after an abort (the attempt is closed, R20: no chunk after it).
    if (!args.signal?.aborted) chunks.end();
  }
}
