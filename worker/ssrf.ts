import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { STATUS_CODES } from "node:http";
import { Agent, fetch as undiciFetch, Headers, request as undiciRequest, type Dispatcher, type RequestInit, type Response } from "undici";
import { StepError } from "./errors.js";
import { pinnedAgents, pinnedLookup, type PinnedAgents } from "./http/pinned-agents.js";

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
 * The guarded calls themselves take a kept-alive one from the pool (worker/http/pinned-agents.ts, R61).
 */
export function pinnedDispatcher(address: string): Agent {
  return new Agent({ connect: { lookup: pinnedLookup(address) as never } });
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
  /** The kept-alive connections to use (R61); the worker's pool unless given. */
  agents?: PinnedAgents;
}

/** One hop as the guard hands it to a sender: where, what, and the dispatcher pinned to the checked address. */
interface Hop<B> {
  url: URL;
  method: string;
  headers: Headers;
  body: B | undefined;
  dispatcher: Dispatcher;
}

/** A sender's answer to one hop: what the guard needs to decide on a redirect, and how to drop the body. */
interface HopAnswer<R> {
  status: number;
  location: string | null;
  response: R;
  discard(): Promise<unknown>;
}

interface HopInit<B> {
  method?: string;
  headers?: ConstructorParameters<typeof Headers>[0];
  body?: B | null;
  redirect?: "follow" | "manual" | "error";
}

/**
 * The guard's hop loop (R11), shared by `guardedFetch` and `guardedRequest`: every hop's host passes
 * `assertPublicHost` and goes out on a connection to the address that was checked (R61: kept alive per origin
 * and address); redirects are followed by hand (at most MAX_REDIRECTS), each target checked again, credential
 * headers dropped across origins, 303 (and 301/302 after POST) turned into GET. `redirect: "manual"` returns
 * the 3xx as is; `"error"` refuses it. Refusals are non-retryable StepErrors, thrown before anything is sent
 * to the refused host.
 */
async function followGuarded<B, R>(
  first: URL,
  init: HopInit<B>,
  options: GuardOptions,
  send: (hop: Hop<B>) => Promise<HopAnswer<R>>,
): Promise<{ response: R; url: URL }> {
  const stripped = [...CREDENTIAL_HEADERS, ...(options.credentialHeaders ?? []).map((name) => name.toLowerCase())];
  const agents = options.agents ?? pinnedAgents;
  let url = first;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body ?? undefined;
  const headers = new Headers(init.headers);
  for (let hop = 0; ; hop++) {
    const { addresses } = await assertPublicHost(url, options.allowHosts, options.resolve);
    // An agent the pool evicts meanwhile is closed gracefully: the request it was given still completes.
    const answer = await send({ url, method, headers, body, dispatcher: agents.dispatcherFor(url, addresses[0] ?? null) });
    if (answer.status < 300 || answer.status >= 400 || !answer.location || init.redirect === "manual") return { response: answer.response, url };
    await answer.discard();
    if (init.redirect === "error") throw new StepError(`Refused to follow a redirect (${answer.status}) from ${url.host}`);
    if (hop >= MAX_REDIRECTS) throw new StepError(`Too many redirects (more than ${MAX_REDIRECTS}) from ${first}`);
    const next = outboundUrl(answer.location, url);
    if (next.origin !== url.origin) for (const name of stripped) headers.delete(name);
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === "POST")) {
      method = method === "HEAD" ? "HEAD" : "GET";
      body = undefined;
      headers.delete("content-type");
      headers.delete("content-length");
    }
    url = next;
  }
}

/**
 * The one guarded fetch (R11, see `followGuarded`), for callers that need a fetch Response: the SDKs (OpenAI,
 * Postmark) are given this function, and the agent's HTTP tools use it.
 */
export function guardedFetch(options: GuardOptions): GuardedFetch {
  return async (input, init = {}) => {
    const first = outboundUrl(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const { response } = await followGuarded(first, init, options, async ({ url, method, headers, body, dispatcher }) => {
      const response = await undiciFetch(url, { ...init, method, headers, body, redirect: "manual", dispatcher });
      return { status: response.status, location: response.headers.get("location"), response, discard: () => response.body?.cancel().catch(() => {}) ?? Promise.resolve() };
    });
    return response;
  };
}

/** What `guardedRequest` answers: the final hop's status, headers (lower-case names) and body stream, and its URL. */
export interface GuardedResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /** Must be read to its end or destroyed (the connection goes back to its pool only then). */
  body: Dispatcher.ResponseData["body"];
  url: URL;
}

export interface GuardedRequestInit {
  method: string;
  headers: Headers;
  body?: string;
  signal: AbortSignal;
}

/**
 * The guarded call of http.request (R11, R61): the same guard and hop loop as `guardedFetch`, through undici's
 * `request()` (a fraction of fetch's cost per call) on the pool's kept-alive connections. It sends what fetch
 * sent unless the caller set it — Accept of any type, a User-Agent, Accept-Encoding — and the caller decodes.
 */
export async function guardedRequest(url: URL, init: GuardedRequestInit, options: GuardOptions): Promise<GuardedResponse> {
  const headers = new Headers(init.headers);
  if (!headers.has("accept")) headers.set("accept", "*/*");
  if (!headers.has("user-agent")) headers.set("user-agent", "undici");
  headers.delete("host"); // fetch ignored it too: the URL names the host
  const encodings = !headers.has("accept-encoding");
  if (encodings && headers.has("range")) headers.set("accept-encoding", "identity");
  const { response, url: final } = await followGuarded(url, { method: init.method, headers, body: init.body }, options, async ({ url, method, headers, body, dispatcher }) => {
    const sent = Object.fromEntries(headers);
    if (encodings && !sent["accept-encoding"]) sent["accept-encoding"] = url.protocol === "https:" ? "br, gzip, deflate" : "gzip, deflate";
    const answer = await undiciRequest(url, {
      dispatcher,
      method: method as Dispatcher.HttpMethod,
      headers: sent,
      body,
      signal: init.signal,
    });
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
    return { status: answer.statusCode, location: flat.location ?? null, response: { answer, headers: flat }, discard: () => answer.body.dump().catch(() => {}) };
  });
  return { status: response.answer.statusCode, statusText: STATUS_CODES[response.answer.statusCode] ?? "", headers: response.headers, body: response.answer.body, url: final };
}
