/** Security issue #12 item 9: the one redaction point (worker/redact.ts), unit by unit. */
import { describe, expect, it } from "vitest";
import { AbortedError, StepError } from "../../worker/errors.js";
import { executeRedacted, REDACTED, Redactor } from "../../worker/redact.js";

const SECRET = "sk-live-0123456789abcdef";

function redactorWith(...values: string[]) {
  const redactor = new Redactor();
  for (const value of values) redactor.addValue(value);
  return redactor;
}

describe("Redactor", () => {
  it("redacts a secret as is, JSON-escaped, URL-encoded, without its auth scheme and line by line", () => {
    const redactor = redactorWith(`Bearer ${SECRET}`, "line-one-secret\nline-two-secret", "p@ss word/with?chars");
    expect(redactor.text(`header: Bearer ${SECRET}`)).toBe(`header: ${REDACTED}`);
    expect(redactor.text(`token=${SECRET}`)).toBe(`token=${REDACTED}`);
    expect(redactor.text(JSON.stringify({ value: "line-one-secret\nline-two-secret" }))).toBe(`{"value":"${REDACTED}"}`);
    expect(redactor.text("only line-two-secret leaked")).toBe(`only ${REDACTED} leaked`);
    expect(redactor.text(`q=${encodeURIComponent("p@ss word/with?chars")}`)).toBe(`q=${REDACTED}`);
    expect(redactor.text("nothing secret here")).toBe("nothing secret here");
  });

  it("walks JSON values, keys included, and leaves values shorter than 4 characters alone", () => {
    const redactor = redactorWith(SECRET, "abc");
    expect(redactor.value({ list: [SECRET, 1, null, { [SECRET]: `x${SECRET}x` }], abc: "abc" })).toEqual({
      list: [REDACTED, 1, null, { [REDACTED]: `x${REDACTED}x` }],
      abc: "abc",
    });
  });

  it("a secret streamed across deltas is caught; the text comes out complete and in order", () => {
    const redactor = redactorWith(SECRET);
    const out: string[] = [];
    const stream = redactor.stream((text) => out.push(text));
    const text = `the key is ${SECRET}, again ${SECRET}.`;
    for (let i = 0; i < text.length; i += 3) stream.push(text.slice(i, i + 3));
    stream.end();
    expect(out.join("")).toBe(`the key is ${REDACTED}, again ${REDACTED}.`);
    expect(out.join("")).not.toContain("sk-live");
    // Text that cannot be the start of a secret is not held back.
    const prompt: string[] = [];
    const live = redactor.stream((text) => prompt.push(text));
    live.push("echo: ");
    expect(prompt).toEqual(["echo: "]);
    live.push("s");
    expect(prompt).toEqual(["echo: "]); // "s" could begin "sk-live-…"
    live.push("ure");
    expect(prompt.join("")).toBe("echo: sure");
  });

  it("errors: StepError keeps retryable and loses its cause; abort signals pass through", () => {
    const redactor = redactorWith(SECRET);
    const cause = new Error(`socket said ${SECRET}`);
    const error = redactor.error(new StepError(`failed with ${SECRET}`, { retryable: true, cause, output: { body: SECRET } })) as StepError;
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ message: `failed with ${REDACTED}`, retryable: true, output: { body: REDACTED } });
    expect(error.cause).toBeUndefined();
    const plain = redactor.error(new TypeError(`Headers.append: "${SECRET}" is an invalid header value.`)) as Error;
    expect(plain.message).toBe(`Headers.append: "${REDACTED}" is an invalid header value.`);
    expect(plain.name).toBe("TypeError");
    const aborted = new AbortedError();
    expect(redactor.error(aborted)).toBe(aborted);
  });
});

describe("executeRedacted", () => {
  const logged: string[] = [];
  const logger = { debug: () => {}, info: (message: string, fields?: unknown) => logged.push(message + JSON.stringify(fields)), warn: () => {}, error: () => {} };
  const credential = (async () => ({ apiKey: SECRET })) as never;

  it("redacts what the executor returns, streams and logs, with the secrets it loaded", async () => {
    const chunks: string[] = [];
    const result = await executeRedacted(
      async (args: { credential: (id: string, type: "openai") => Promise<{ apiKey: string }>; chunk(delta: string): void; logger: typeof logger }) => {
        const { apiKey } = await args.credential("cred", "openai");
        args.chunk(apiKey.slice(0, 5));
        args.chunk(apiKey.slice(5));
        args.logger.info(`using ${apiKey}`, { key: apiKey });
        return { output: { echoed: apiKey }, input: { sent: `Bearer ${apiKey}` } };
      },
      { credential, chunk: (delta: string) => chunks.push(delta), logger },
    );
    expect(result).toEqual({ output: { echoed: REDACTED }, input: { sent: `Bearer ${REDACTED}` } });
    expect(chunks.join("")).toBe(REDACTED);
    expect(logged.join("")).not.toContain(SECRET);
  });

  it("redacts what the executor throws", async () => {
    const run = executeRedacted(
      async (args: { credential: (id: string, type: "openai") => Promise<{ apiKey: string }>; chunk(delta: string): void; logger: typeof logger }) => {
        const { apiKey } = await args.credential("cred", "openai");
        throw new StepError(`401: Incorrect API key provided: ${apiKey}`);
      },
      { credential, chunk: () => {}, logger },
    );
    await expect(run).rejects.toThrow(`401: Incorrect API key provided: ${REDACTED}`);
  });
});
