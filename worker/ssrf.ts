import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { Agent, fetch as undiciFetch, Headers, type RequestInit, type Response } from "undici";
import { StepError } from "./errors.js";

/**
 * The SSRF guard of every outbound call (docs/run-engine.md, R11; docs/security.md): a host is reached only
 * when every address it resolves to is public, unless the hostname or the address is allow-listed
 * (HTTP_ALLOW_HOSTS; an entry `host:port` allows that port only). `guardedFetch` is the one way executors
 * and connection tests reach the network: it checks every redirect hop and pins each connection to the
 * address it checked.
 */

const ranges: [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "this-network"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "carrier-grade NAT"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "IETF reserved"],
  ["192.0.2.0", 24, "ipv4", "documentation"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "benchmarking"],
  ["198.51.100.0", 24, "ipv4", "documentation"],
  ["203.0.113.0", 24, "ipv4", "documentation"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved"],
  ["::", 128, "ipv6", "unspecified"],
  ["::1", 128, "ipv6", "loopback"],
  ["::", 96, "ipv6", "IPv4-compatible"],
  ["100::", 64, "ipv6", "discard"],
  ["2001:db8::", 32, "ipv6", "documentation"],
  ["fc00::", 7, "ipv6", "unique-local"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["fec0::", 10, "ipv6", "site-local"],
  ["ff00::", 8, "ipv6", "multicast"],
];

const lists = new Map<string, BlockList>();
for (const [network, prefix, family, category] of ranges) {
  let list = lists.get(category);
  if (!list) lists.set(category, (list = new BlockList()));
  list.addSubnet(network, prefix, family);
}

/** IPv4 addresses carried inside IPv6 ones: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address);
  if (!groups) return null;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return null;
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tails included), or null when it is not one. */
function expandIpv6(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.split("%")[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const parse = (part: string | undefined | null) => (part ? part.split(":").map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === null ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  return groups.length === 8 ? groups : null;
}

/**
 * Why an address must not be reached (e.g. "loopback", "private", "cloud metadata"), or null when it is public.
 * Anything that is not an IP address is refused too.
 */
export function classifyAddress(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  const family = isIP(bare);
  if (family === 0) return "not an IP address";
  if (family === 6) {
    const inner = embeddedIpv4(bare);
    if (inner) return classifyAddress(inner);
  }
  if (bare === "169.254.169.254" || bare === "fd00:ec2::254") return "cloud metadata";
  for (const [category, list] of lists) {
    if (list.check(bare, family === 4 ? "ipv4" : "ipv6")) return category;
  }
  return null;
}

export interface ResolvedHost {
  hostname: string;
  addresses: string[];
}

/** The port a URL connects to (its explicit port, else the scheme's default). */
export function portOf(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

/**
 * Whether `host` (a name or an address, lower-case, without brackets) on `port` is allow-listed: an entry
 * `host` allows every port of it, `host:port` (`[v6]:port`) only that one.
 */
export function isAllowListed(host: string, port: string, allowHosts: readonly string[]): boolean {
  for (const entry of allowHosts) {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const named = bracketed ? null : /^([^:]+):(\d+)$/.exec(entry);
    const [entryHost, entryPort] = bracketed ? [bracketed[1]!, bracketed[2]] : named ? [named[1]!, named[2]] : [entry, undefined];
    if (entryHost === host && (entryPort === undefined || entryPort === port)) return true;
  }
  return false;
}

/**
 * Resolves a URL's host and refuses it when any address is not public and neither the hostname nor that
 * address is in `allowHosts` (lower-case; entries may name a port). Throws a non-retryable StepError when
 * refused.
 */
export async function assertPublicHost(
  url: URL,
  allowHosts: readonly string[],
  resolve: (hostname: string) => Promise<string[]> = resolveAll,
): Promise<ResolvedHost> {
  const hostname = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = portOf(url);
  if (isAllowListed(hostname, port, allowHosts)) return { hostname, addresses: [] };
  let addresses: string[];
  try {
    addresses = isIP(hostname) ? [hostname] : await resolve(hostname);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new StepError(`Could not resolve host "${hostname}"${code ? ` (${code})` : ""}`, {
      retryable: code === "EAI_AGAIN",
      cause: error,
    });
  }
  if (!addresses.length) throw new StepError(`Host "${hostname}" has no addresses`);
  for (const address of addresses) {
    if (isAllowListed(address.toLowerCase(), port, allowHosts)) continue;
    const reason = classifyAddress(address);
    if (reason) {
      const entry = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
      throw new StepError(
        `Refused to call "${hostname}": it resolves to ${address} (${reason}). Add "${entry}" to HTTP_ALLOW_HOSTS to allow it.`,
      );
    }
  }
  return { hostname, addresses };
}

async function resolveAll(hostname: string): Promise<string[]> {
  const results = await lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => result.address);
}

/**
 * An undici dispatcher that connects to `address` whatever the name resolves to now: the address the guard
 * checked is the one connected to, so DNS rebinding between check and connect cannot redirect the request
 * (R11). TLS still verifies the certificate against the hostname (SNI and checks use the URL's host).
 */
export function pinnedDispatcher(address: string): Agent {
  const family = isIP(address) === 6 ? 6 : 4;
  const lookup = (
    _hostname: string,
    options: { all?: boolean } | number | undefined,
    callback: (error: Error | null, address: string | { address: string; family: number }[], family?: number) => void,
  ) => {
    if (typeof options === "object" && options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  return new Agent({ connect: { lookup: lookup as never } });
}

export const MAX_REDIRECTS = 5;
/** Headers never carried to another origin on a redirect (a caller adds its credential's header name). */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/** Parses an outbound URL: http(s) only, no credentials in it. Throws a non-retryable StepError. */
export function outboundUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new StepError(`Invalid URL "${text.slice(0, 200)}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new StepError(`Only http and https URLs are allowed, not ${url.protocol}`);
  if (url.username || url.password) throw new StepError("Credentials in the URL are not allowed; use a header");
  return url;
}

export type GuardedFetch = (input: string | URL | { url: string }, init?: RequestInit) => Promise<Response>;

export interface GuardOptions {
  allowHosts: readonly string[];
  /** Header names (besides Authorization, Cookie, Proxy-Authorization) dropped when a redirect changes origin. */
  credentialHeaders?: readonly string[];
  resolve?: (hostname: string) => Promise<string[]>;
}

/**
 * The one guarded fetch (R11): every hop's host passes `assertPublicHost` and is connected to at the address
 * that was checked (no DNS rebinding); redirects are followed by hand (at most MAX_REDIRECTS), each target
 * checked again, credential headers dropped across origins, 303 (and 301/302 after POST) turned into GET.
 * `redirect: "manual"` returns the 3xx as is; `"error"` refuses it. Refusals are non-retryable StepErrors,
 * thrown before anything is sent to the refused host. The SDKs (OpenAI, Postmark) are given this function.
 */
export function guardedFetch(options: GuardOptions): GuardedFetch {
  const stripped = [...CREDENTIAL_HEADERS, ...(options.credentialHeaders ?? []).map((name) => name.toLowerCase())];
  return async (input, init = {}) => {
    const first = outboundUrl(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    let url = first;
    let method = (init.method ?? "GET").toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);
    for (let hop = 0; ; hop++) {
      const { addresses } = await assertPublicHost(url, options.allowHosts, options.resolve);
      const dispatcher = addresses[0] ? pinnedDispatcher(addresses[0]) : undefined;
      let response: Response;
      try {
        response = await undiciFetch(url, { ...init, method, headers, body, redirect: "manual", ...(dispatcher ? { dispatcher } : {}) });
      } finally {
        // A graceful close: the connection ends once this hop's body has been read (or cancelled).
        void dispatcher?.close().catch(() => {});
      }
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location || init.redirect === "manual") return response;
      await response.body?.cancel().catch(() => {});
      if (init.redirect === "error") throw new StepError(`Refused to follow a redirect (${response.status}) from ${url.host}`);
      if (hop >= MAX_REDIRECTS) throw new StepError(`Too many redirects (more than ${MAX_REDIRECTS}) from ${first}`);
      const next = outboundUrl(location, url);
      if (next.origin !== url.origin) for (const name of stripped) headers.delete(name);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
        headers.delete("content-type");
        headers.delete("content-length");
      }
      url = next;
    }
  };
}
