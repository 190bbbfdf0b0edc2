/**
 * Attack class "open redirect" (issue #12 item 4): after logging in, `/login?redirectTo=…` must land on the
 * studio whatever the value holds — tab, CR and LF (browsers strip them from URLs, so `/\t/evil` becomes
 * `//evil`), backslashes (browsers read them as slashes), dot segments that normalise to `//`, schemes and
 * their percent-encoded variants. Each payload goes through the real login form action; the Location it
 * answers is resolved the way a browser resolves it (WHATWG URL, which strips tab/CR/LF first).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStudioIfStale } from "../../scripts/build-studio.js";
import type { Stack } from "../../scripts/stack.js";
import { signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

const PAYLOADS = [
  "//evil.example/x",
  "/\t/evil.example/x",
  "/\r/evil.example/x",
  "/\n/evil.example/x",
  "/\r\n/evil.example/x",
  "\t//evil.example/x",
  " //evil.example/x",
  "/\\evil.example/x",
  "\\\\evil.example/x",
  "/\\/evil.example/x",
  "/./\\evil.example/x",
  "/.//evil.example/x",
  "/../evil.example/x/..//evil.example",
  "/%2F/evil.example/x",
  "/%5Cevil.example/x",
  "/%09/evil.example/x",
  "https://evil.example/x",
  "http:evil.example",
  "javascript:alert(1)",
  "/\u0000/evil.example/x",
  "/\u000b/evil.example/x",
  "/\u3000/evil.example/x",
  "///evil.example/x",
  "/%0d%0a/evil.example/x",
];

let stack: Stack;
let user: Account;

beforeAll(async () => {
  await buildStudioIfStale(process.cwd(), () => {});
  stack = await startTestStack({ studio: true, collab: false, worker: false });
  user = await signUp(stack.url, "Redirect");
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** Logs in through the studio's form action with `redirectTo`, as the browser posts it; returns the Location. */
async function logInWith(redirectTo: string): Promise<{ status: number; location: string | null }> {
  const response = await fetch(`${stack.url}/login?${new URLSearchParams({ redirectTo })}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: stack.url },
    body: new URLSearchParams({ email: user.email, password: user.password }).toString(),
  });
  return { status: response.status, location: response.headers.get("location") };
}

describe("redirect after log-in", () => {
  it(`stays on the studio for ${PAYLOADS.length} hostile redirectTo values`, async () => {
    const broken: string[] = [];
    for (const payload of PAYLOADS) {
      const { status, location } = await logInWith(payload);
      const landed = new URL(location ?? "", stack.url);
      if (status !== 302 || !location || landed.origin !== new URL(stack.url).origin || !location.startsWith("/") || location.startsWith("//")) {
        broken.push(`${JSON.stringify(payload)} → ${status} ${JSON.stringify(location)}`);
      }
    }
    recordAttackClass("Open redirect after log-in", { tried: PAYLOADS.length, held: PAYLOADS.length - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("keeps a same-site destination, with its query and hash (the control)", async () => {
    expect(await logInWith("/workflows/wf_1?tab=runs#top")).toEqual({ status: 302, location: "/workflows/wf_1?tab=runs#top" });
    expect(await logInWith("/workspaces/ws_1/settings")).toEqual({ status: 302, location: "/workspaces/ws_1/settings" });
  });
});
