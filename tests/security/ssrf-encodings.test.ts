/**
 * SSRF attack list (issue #12): loopback, private and metadata addresses written every way a URL parser
 * accepts them, reached through the one guarded fetch with an empty allow-list. A real loopback server
 * listens on the port each URL names; it must receive nothing, and each refusal is a StepError.
 */
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StepError } from "../../worker/errors.js";
import { guardedFetch } from "../../worker/ssrf.js";
import { listenOnLoopback } from "../support/http.js";

let server: Awaited<ReturnType<typeof listenOnLoopback>>;
let hits = 0;
beforeAll(async () => {
  server = await listenOnLoopback(createServer((_request, response) => (hits++, response.end("reached"))));
});
afterAll(() => server?.close());

const encodings = (port: number) => [
  `http://127.0.0.1:${port}/`,
  `http://localhost:${port}/`,
  `http://LOCALHOST:${port}/`,
  `http://localhost.:${port}/`,
  `http://2130706433:${port}/`, // decimal
  `http://0x7f000001:${port}/`, // hex
  `http://0177.0.0.1:${port}/`, // octal
  `http://127.1:${port}/`, // short form
  `http://127.0.0.1.:${port}/`,
  `http://0.0.0.0:${port}/`,
  `http://0:${port}/`,
  `http://[::1]:${port}/`,
  `http://[::ffff:127.0.0.1]:${port}/`,
  `http://[::ffff:7f00:1]:${port}/`,
  `http://[0:0:0:0:0:ffff:127.0.0.1]:${port}/`,
  `http://%31%32%37.0.0.1:${port}/`, // percent-encoded host
  `http://127.0.0.1%09:${port}/`,
  `http://169.254.169.254:${port}/latest/meta-data`,
  `http://[fd00:ec2::254]:${port}/`,
  `http://10.0.0.1:${port}/`,
];

describe("SSRF encodings (issue #12)", () => {
  it("every spelling of a private address is refused before anything is sent", async () => {
    const fetch = guardedFetch({ allowHosts: [] });
    const results: { url: string; outcome: string }[] = [];
    for (const url of encodings(server.port)) {
      const outcome = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => `reached (${response.status})`,
        (error: unknown) => (error instanceof StepError ? "refused" : `error: ${(error as Error).message}`),
      );
      results.push({ url, outcome });
    }
    expect(results.filter((result) => result.outcome !== "refused")).toEqual([]);
    expect(hits).toBe(0);
  });

  it("a redirect to any of those spellings is refused too (every hop is checked)", async () => {
    let index = 0;
    const targets = encodings(server.port);
    const redirector = await listenOnLoopback(createServer((_request, response) => response.writeHead(302, { location: targets[index] }).end()));
    try {
      const fetch = guardedFetch({ allowHosts: [`127.0.0.1:${redirector.port}`] });
      for (; index < targets.length; index++) {
        await expect(fetch(`${redirector.url}/start`, { signal: AbortSignal.timeout(2_000) }), targets[index]).rejects.toBeInstanceOf(StepError);
      }
      expect(hits).toBe(0);
    } finally {
      await redirector.close();
    }
  });

  it("non-http schemes and credentials in the URL are refused", async () => {
    const fetch = guardedFetch({ allowHosts: ["127.0.0.1"] });
    for (const url of ["file:///etc/passwd", "gopher://127.0.0.1/", "data:text/plain,x", `http://user:pass@127.0.0.1:${server.port}/`]) {
      await expect(fetch(url), url).rejects.toBeInstanceOf(StepError);
    }
    expect(hits).toBe(0);
  });
});
