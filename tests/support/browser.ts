import { chromium, type Browser, type Locator } from "playwright-core";

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
