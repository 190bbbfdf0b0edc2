/**
 * Response compression for pages, API answers and the studio's scripts and styles: brotli or gzip, as the
 * request's Accept-Encoding prefers. Not for event streams (SSE, GraphQL subscriptions: a compressor would
 * hold events back), already-compressed types (images, fonts), partial or tiny answers, or answers that say
 * `no-transform`. WebSocket upgrades never pass through here. Chunks are flushed as they come, so a
 * streamed page (Remix's deferred data) still arrives piece by piece.
 */
import type { MiddlewareHandler } from "hono";
import { Readable } from "node:stream";
import zlib from "node:zlib";

/** Below this many bytes compression saves less than it costs. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

const COMPRESSIBLE = /^(text\/(?!event-stream)|application\/(json|graphql-response\+json|javascript|xml|manifest\+json|problem\+json)|image\/svg\+xml)/i;

export type Encoding = "br" | "gzip";

/** The encoding to answer with: the client's highest-q of br and gzip (br on a tie), or null. */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  const quality = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    const value = q ? Number(q.slice(2)) : 1;
    if (name) quality.set(name, Number.isFinite(value) ? value : 0);
  }
  const of = (name: Encoding) => quality.get(name) ?? (quality.has("*") ? quality.get("*")! : 0);
  const br = of("br");
  const gzip = of("gzip");
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? "br" : "gzip";
}

function compressor(encoding: Encoding): zlib.BrotliCompress | zlib.Gzip {
  if (encoding === "br") {
    // Quality 5: most of brotli's gain at a cost close to gzip's, per request.
    return zlib.createBrotliCompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
  }
  return zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH, level: 6 });
}

/**
 * The body's chunks through its reader (Yoga answers with @whatwg-node's ReadableStream, which
 * `Readable.fromWeb` refuses), `first` ahead of them. Stopping early (the client left) cancels the body.
 */
async function* chunksOf(first: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  let done = false;
  try {
    yield* first;
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Reads until `bytes` have come or the body ended (an answer with no Content-Length may still be tiny). */
async function readAtLeast(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number): Promise<{ chunks: Uint8Array[]; ended: boolean }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < bytes) {
    const next = await reader.read();
    if (next.done) return { chunks, ended: true };
    chunks.push(next.value);
    total += next.value.byteLength;
  }
  return { chunks, ended: false };
}

export function compression(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const response = c.res;
    const type = response.headers.get("content-type") ?? "";
    if (!COMPRESSIBLE.test(type)) return;
    // Whether or not this answer is compressed, caches must keep the variants apart.
    const vary = response.headers.get("vary");
    if (!vary || !/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary)) response.headers.append("vary", "Accept-Encoding");
    const encoding = negotiateEncoding(c.req.header("accept-encoding"));
    const length = response.headers.get("content-length");
    if (
      !encoding ||
      !response.body ||
      c.req.method === "HEAD" ||
      response.status === 204 ||
      response.status === 206 ||
      response.status === 304 ||
      response.headers.has("content-encoding") ||
      /no-transform/i.test(response.headers.get("cache-control") ?? "") ||
      (length !== null && Number(length) < COMPRESSION_THRESHOLD_BYTES)
    ) {
      return;
    }
    const reader = response.body.getReader();
    const start = length === null ? await readAtLeast(reader, COMPRESSION_THRESHOLD_BYTES) : { chunks: [], ended: false };
    if (start.ended) {
      c.res = new Response(Buffer.concat(start.chunks), { status: response.status, headers: response.headers });
      return;
    }
    const source = Readable.from(chunksOf(start.chunks, reader), { objectMode: false });
    const compressed = source.pipe(compressor(encoding));
    source.once("error", (error) => compressed.destroy(error));
    // Hono copies the old answer's headers onto the new one, so they are corrected after the swap.
    c.res = new Response(Readable.toWeb(compressed) as unknown as ReadableStream<Uint8Array>, { status: response.status, headers: response.headers });
    c.res.headers.delete("content-length");
    c.res.headers.set("content-encoding", encoding);
    // A strong ETag names the uncompressed bytes; the compressed ones are only weakly the same.
    const etag = c.res.headers.get("etag");
    if (etag && !etag.startsWith("W/")) c.res.headers.set("etag", `W/${etag}`);
  };
}
