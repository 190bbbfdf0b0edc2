/** Prefixed, URL-safe ids (`wf_…`, `run_…`) so a human reading a log knows what an id names. */
export type IdPrefix = "usr" | "ws" | "mem" | "wf" | "ver" | "run" | "rst" | "cred" | "tok" | "rft" | "step" | "edge" | "apv" | "inv";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newId(prefix: IdPrefix, length = 20): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${out}`;
}
