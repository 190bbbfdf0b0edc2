/**
 * The seed's edge (issue #18): content-hashed assets cached for good and the rest briefly, compression
 * negotiated by Accept-Encoding for pages and API answers (never for event streams or tiny answers), the
 * session cookie Secure behind TLS, and the asset URL prefix a CDN needs. Read with node:http and zlib, so
 * what travels on the wire is what is checked (fetch would decompress silently).
 */
import { EnvSchema } from "@algorythmos/platform";
import { request as httpRequest } from "node:http";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { negotiateEncoding } from "../../server/compression.js";
import { HASHED_ASSET_CACHE, publicRequest, UNHASHED_ASSET_CACHE } from "../../server/studio.js";
import { testEnv } from "../support/env.js";
import { signUpUser, startTestStack } from "../support/stack.js";

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; headersOnly?: boolean } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      if (options.headersOnly) {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) });
        res.on("error", () => {}); // the abort below
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", (error) => (options.headersOnly ? undefined : reject(error)));
    req.end(options.body);
  });
}

const decode = (response: Raw): string => {
  const encoding = response.headers["content-encoding"];
  if (encoding === "br") return zlib.brotliDecompressSync(response.body).toString("utf8");
  if (encoding === "gzip") return zlib.gunzipSync(response.body).toString("utf8");
  return response.body.toString("utf8");
};

describe("Accept-Encoding negotiation", () => {
  it("prefers brotli, honours q-values and refusals", () => {
    expect(negotiateEncoding("gzip, deflate, br")).toBe("br");
    expect(negotiateEncoding("gzip;q=1, br;q=0.5")).toBe("gzip");
    expect(negotiateEncoding("gzip")).toBe("gzip");
    expect(negotiateEncoding("br;q=0, gzip;q=0")).toBeNull();
    expect(negotiateEncoding("identity")).toBeNull();
    expect(negotiateEncoding("*")).toBe("br");
    expect(negotiateEncoding("*, br;q=0")).toBe("gzip");
    expect(negotiateEncoding(undefined)).toBeNull();
  });
});

describe("the request Remix sees (Secure cookies behind TLS)", () => {
  const plain = new Request("http://studio.example.com/login", { headers: { "x-forwarded-proto": "https" } });
  it("is https when PUBLIC_URL is https", () => {
    expect(new URL(publicRequest({ PUBLIC_URL: "https://studio.example.com", TRUST_PROXY: false }, new Request("http://studio.example.com/login")).url).protocol).toBe("https:");
  });
  it("believes X-Forwarded-Proto only from a trusted proxy", () => {
    expect(new URL(publicRequest({ PUBLIC_URL: undefined, TRUST_PROXY: true }, plain).url).protocol).toBe("https:");
    expect(new URL(publicRequest({ PUBLIC_URL: undefined, TRUST_PROXY: false }, plain).url).protocol).toBe("http:");
  });
});

describe("ASSET_URL_PREFIX", () => {
  const parse = (value: string) => EnvSchema.shape.ASSET_URL_PREFIX.safeParse(value).success;
  it("takes a path or an http(s) URL ending in /, and nothing else", () => {
    expect(parse("/build/")).toBe(true);
    expect(parse("https://cdn.example.com/studio/build/")).toBe(true);
    expect(parse("https://cdn.example.com/build")).toBe(false);
    expect(parse("//cdn.example.com/build/")).toBe(false);
    expect(parse("ftp://cdn.example.com/build/")).toBe(false);
    expect(() => testEnv({ ASSET_URL_PREFIX: "cdn/" })).toThrow(/ASSET_URL_PREFIX must be a path or an http\(s\) URL/);
  });
  it("a server refuses a build made for another prefix, saying how to fix it", async () => {
    await expect(startTestStack({ studio: true, collab: false, worker: false }, { ASSET_URL_PREFIX: "https://cdn.example.com/build/" })).rejects.toThrow(
      /built for ASSET_URL_PREFIX=\/build\/ but this server has https:\/\/cdn\.example\.com\/build\/.*npm run build/,
    );
  });
});

describe("the studio's edge", () => {
  let stack: Stack;
  let trusting: Stack;
  beforeAll(async () => {
    [stack, trusting] = await Promise.all([
      startTestStack({ studio: true, collab: false, worker: false }),
      startTestStack({ studio: true, collab: false, worker: false }, { TRUST_PROXY: "true" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), trusting?.close()]);
  });

  it("pages: brotli or gzip as asked, identity when not asked, Vary either way", async () => {
    const identity = await raw(`${stack.url}/login`);
    expect(identity.status).toBe(200);
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.headers.vary).toMatch(/accept-encoding/i);
    for (const encoding of ["br", "gzip"] as const) {
      const compressed = await raw(`${stack.url}/login`, { headers: { "accept-encoding": encoding } });
      expect(compressed.headers["content-encoding"]).toBe(encoding);
      expect(compressed.headers["content-length"]).toBeUndefined();
      const html = decode(compressed);
      expect(html).toMatch(/^<!DOCTYPE html>/i);
      expect(compressed.body.length).toBeLessThan(Buffer.byteLength(html) / 2);
    }
  });

  it("hashed assets: the same bytes compressed, cached for a year as immutable; a missing one is a plain 404", async () => {
    const html = decode(await raw(`${stack.url}/login`));
    // The largest script the page references: a production build also has chunks under the 1 KiB not worth compressing.
    const assets = [...new Set(html.match(/\/build\/[\w./-]+-[A-Z0-9]{8}\.js/g) ?? [])];
    expect(assets.length, "the page references hashed scripts").toBeGreaterThan(0);
    const fetched = await Promise.all(assets.map(async (path) => ({ path, response: await raw(`${stack.url}${path}`) })));
    const { path: asset, response: identity } = fetched.sort((a, b) => b.response.body.length - a.response.body.length)[0]!;
    const brotli = await raw(`${stack.url}${asset}`, { headers: { "accept-encoding": "br" } });
    expect(identity.headers["cache-control"]).toBe(HASHED_ASSET_CACHE);
    expect(brotli.headers["cache-control"]).toBe(HASHED_ASSET_CACHE);
    expect(brotli.headers["content-encoding"]).toBe("br");
    expect(decode(brotli)).toBe(identity.body.toString("utf8"));

    const missing = await raw(`${stack.url}/build/entry.client-NOTTHERE.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers["cache-control"]).toBe("no-store");
  });

  it("unhashed files are cached briefly, not as immutable", async () => {
    const favicon = await raw(`${stack.url}/favicon.svg`);
    expect(favicon.status).toBe(200);
    expect(favicon.headers["cache-control"]).toBe(UNHASHED_ASSET_CACHE);
  });

  it("API answers are compressed; tiny answers and event streams are not", async () => {
    const introspection = JSON.stringify({ query: "{ __schema { types { name fields { name } } } }" });
    const json = { "content-type": "application/json" };
    const identity = await raw(`${stack.url}/graphql`, { method: "POST", headers: json, body: introspection });
    const brotli = await raw(`${stack.url}/graphql`, { method: "POST", headers: { ...json, "accept-encoding": "br" }, body: introspection });
    expect(brotli.headers["content-encoding"]).toBe("br");
    expect(JSON.parse(decode(brotli))).toEqual(JSON.parse(identity.body.toString("utf8")));

    const health = await raw(`${stack.url}/healthz`, { headers: { "accept-encoding": "br, gzip" } });
    expect(health.status).toBe(200);
    expect(health.headers["content-encoding"]).toBeUndefined();

    const { token } = await signUpUser(stack.url, "Sse");
    const query = encodeURIComponent('subscription { workflowRuns(workflowId: "wf_missing") { type } }');
    const stream = await raw(`${stack.url}/graphql?query=${query}`, {
      headers: { accept: "text/event-stream", "accept-encoding": "br, gzip", authorization: `Bearer ${token}` },
      headersOnly: true, // an event stream stays open
    });
    expect(stream.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(stream.headers["content-encoding"] ?? "none").toBe("none"); // Yoga marks its streams "none" for proxies
  });

  it("the session cookie is Secure only when a trusted proxy says the request came over TLS", async () => {
    const logIn = async (target: Stack, headers: Record<string, string>) => {
      const { email } = await signUpUser(target.url, "Cookie");
      const origin = new URL(target.url).origin;
      const answer = await raw(`${target.url}/login?index`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin, host: new URL(target.url).host, ...headers },
        body: new URLSearchParams({ email, password: "correct horse battery" }).toString(),
      });
      const cookie = [answer.headers["set-cookie"] ?? []].flat().find((line) => line.startsWith("algo_session="));
      expect(cookie, `log-in answered ${answer.status}`).toBeTruthy();
      return cookie!;
    };
    expect(await logIn(trusting, { "x-forwarded-proto": "https" })).toMatch(/;\s*Secure/);
    expect(await logIn(trusting, {})).not.toMatch(/Secure/);
    // Without TRUST_PROXY the header is anyone's to send: it decides nothing.
    expect(await logIn(stack, { "x-forwarded-proto": "https" })).not.toMatch(/Secure/);
  });
});
