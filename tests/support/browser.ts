import { chromium, type Browser, type Locator } from "playwright-core";
import { listenOnLoopback } from "./http.js";
import { int, type Rng } from "./random.js";

/** Debian's chromium, headless, with the flags that keep it off the (closed) network. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
  });
}

/** Waits until `read(locator)` equals `expected`, failing with what it last saw. */
export async function until(locator: Locator, read: (locator: Locator) => Promise<string | null>, expected: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await read(locator).catch(() => null);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Expected "${expected}" but saw "${last}"`);
}

export const textOf = (locator: Locator) => locator.textContent({ timeout: 1_000 }).then((text) => text?.trim() ?? null);
export const valueOf = (locator: Locator) => locator.inputValue({ timeout: 1_000 });

/**
 * A CodeMirror editor's text (code and expression fields), line by line as it renders it (documents here are
 * short: every line is drawn), without the others' caret widgets (their name labels are drawn inside the line).
 */
export const editorText = (editor: Locator) =>
  editor.evaluate((content) =>
    [...content.querySelectorAll(".cm-line")]
      .map((line) => {
        const copy = line.cloneNode(true) as HTMLElement;
        for (const widget of copy.querySelectorAll(".cm-ySelectionCaret, .cm-widgetBuffer")) widget.remove();
        return copy.textContent ?? "";
      })
      .join("\n"),
  );

/** Waits until `locator` matches exactly `expected` elements (a bounded wait, not a timing assertion). */
export async function untilCount(locator: Locator, expected: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Expected ${expected} element(s) but saw ${last}`);
}

/** Records console errors and uncaught page errors of a page into `into`. */
export function recordConsoleErrors(page: import("playwright-core").Page, into: string[]): void {
  page.on("console", (message) => {
    if (message.type() === "error") into.push(`${page.url()}: ${message.text()}`);
  });
  // The stack's first frames name the code that threw, which the message alone (an AbortError, say) does not.
  page.on("pageerror", (error) => into.push(`${page.url()}: ${error.message}${error.stack ? `\n${error.stack.split("\n").slice(1, 6).join("\n")}` : ""}`));
}

/** Signs up through the studio's form, as a person does, and lands on /workflows. */
export async function signUpInBrowser(page: import("playwright-core").Page, baseUrl: string, user: { name: string; email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(/\/workflows$/);
}

/**
 * A stand-in for an OpenAI-compatible server (the third party at the network edge): POST
 * /v1/chat/completions answers "Hello from the fake model." with token usage, as SSE chunks (with a short
 * pause between them) when the request streams, as one JSON body otherwise.
 */
export async function startFakeOpenAI(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const words = ["Hello", " from", " the", " fake", " model."];
  const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
  const state = { requests: 0 };
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", async () => {
      if (request.method !== "POST" || !request.url?.endsWith("/chat/completions")) {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      state.requests++;
      const parsed = JSON.parse(body || "{}") as { model?: string; stream?: boolean };
      const model = parsed.model ?? "fake-model";
      const base = { id: "chatcmpl-fake", object: "chat.completion", created: Math.floor(Date.now() / 1000), model };
      if (!parsed.stream) {
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ ...base, choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: words.join("") } }], usage }),
        );
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
      for (const word of words) {
        send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage });
      response.end("data: [DONE]\n\n");
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url: `${url}/v1`,
    get requests() {
      return state.requests;
    },
    close,
  };
}

/** Types `text` one key at a time with seeded pauses (0–35 ms), as a person would (the co-typing tests). */
export async function typeSlowly(page: import("playwright-core").Page, text: string, rng: Rng): Promise<void> {
  for (const char of text) {
    await page.keyboard.type(char);
    await page.waitForTimeout(int(rng, 36));
  }
}

/** The characters of `text` from `alphabet`, in order: what one author typed, if nothing was lost. */
export const byAuthor = (text: string, alphabet: RegExp) => [...text].filter((c) => alphabet.test(c)).join("");
