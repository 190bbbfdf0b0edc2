/**
 * Attack class "webhook floods and hostile bodies" (issue #12 item 12): the secret is checked first, from the
 * workflow's primary key alone, in constant time — so an anonymous caller with a wrong secret never makes the
 * server read or decode the workflow's document — and bodies PostgreSQL cannot store (NUL characters, bytes
 * that are not UTF-8, lone surrogates) answer 400 BAD_USER_INPUT, never 500.
 */
import { appendWorkflowUpdates } from "@algorythmos/platform";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Stack } from "../../scripts/stack.js";
import { createWorkflow, publishWorkflow, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";
import { recordAttackClass } from "./report.js";

let stack: Stack;
let owner: Account;

const definition = (name: string) => ({
  schemaVersion: 1,
  name,
  steps: [{ id: "hook", type: "trigger.webhook", name: "Hook", config: {}, position: { x: 0, y: 0 } }],
  edges: [],
});

async function webhookWorkflow(name: string) {
  const created = await createWorkflow(stack.url, owner.token, owner.workspaceId, name, definition(name));
  await publishWorkflow(stack.url, owner.token, created.id); // webhooks run the published version (R37)
  const { webhookSecret } = await stack.deps.db.workflow.findUniqueOrThrow({ where: { id: created.id }, select: { webhookSecret: true } });
  return { id: created.id, secret: webhookSecret };
}

const runsOf = (workflowId: string) => stack.deps.db.run.count({ where: { workflowId } });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  owner = await signUp(stack.url, "Hooks");
});
afterAll(async () => {
  await stack?.close();
});

describe("the secret first", () => {
  it("a wrong secret never reads the document: 404 even when the stored document cannot be decoded", async () => {
    const hook = await webhookWorkflow("corrupt document");
    // A log entry that is not a Yjs update: decoding the document throws from here on.
    await appendWorkflowUpdates(stack.deps.db, hook.id, [new Uint8Array(randomBytes(64))]);
    const wrongSecrets = ["0".repeat(64), hook.secret.slice(0, 63), hook.secret + "0", "x", "é".repeat(64), hook.secret.toUpperCase()];
    const broken: string[] = [];
    for (const secret of wrongSecrets) {
      const response = await fetch(`${stack.url}/hooks/${hook.id}/${encodeURIComponent(secret)}`, { method: "POST", body: "{}" });
      const body = (await response.json()) as { error?: { code?: string } };
      if (response.status !== 404 || body.error?.code !== "NOT_FOUND") broken.push(`${JSON.stringify(secret.slice(0, 12))}…: ${response.status}`);
    }
    const missing = await fetch(`${stack.url}/hooks/wf_doesnotexist/${hook.secret}`, { method: "POST" });
    if (missing.status !== 404) broken.push(`unknown workflow: ${missing.status}`);
    recordAttackClass("Webhooks: wrong secrets against a workflow", { tried: wrongSecrets.length + 1, held: wrongSecrets.length + 1 - broken.length, broken });
    expect(broken).toEqual([]);
  });

  it("wrong secrets against a large workflow answer fast and leave /healthz responsive (figures in the log)", async () => {
    const hook = await webhookWorkflow("large document");
    const doc = new Y.Doc();
    doc.getText("padding").insert(0, "x".repeat(4 * 1024 * 1024));
    await appendWorkflowUpdates(stack.deps.db, hook.id, [Y.encodeStateAsUpdate(doc)]);
    doc.destroy();

    const timed = async (url: string, init?: RequestInit) => {
      const started = performance.now();
      const response = await fetch(url, init);
      await response.arrayBuffer();
      return { status: response.status, ms: performance.now() - started };
    };
    const rightSecret = await timed(`${stack.url}/hooks/${hook.id}/${hook.secret}`, { method: "POST", body: "{}" });
    expect(rightSecret.status).toBe(202);
    // The right secret runs the published version (R37), which is not the 4 MiB draft: what a read of the
    // document costs is measured with a draft run, which reads and decodes it.
    const documentRead = await timed(`${stack.url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ workflowId: hook.id }),
    });
    expect(documentRead.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let those calls' garbage be collected
    // The peer, measured the same way in the same run: 8 parallel requests that read nothing, and /healthz beside
    // them — what the same concurrency costs on this machine right now.
    const [peerHealth, ...peer] = await Promise.all([
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => timed(`${stack.url}/healthz`)),
      ...Array.from({ length: 8 }, () => timed(`${stack.url}/hooks/${hook.id}`, { method: "GET" })),
    ]);
    const peerMedian = median(peer.map((result) => result.ms));
    const [health, ...wrong] = await Promise.all([
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => timed(`${stack.url}/healthz`)),
      ...Array.from({ length: 8 }, () => timed(`${stack.url}/hooks/${hook.id}/${"0".repeat(64)}`, { method: "POST", body: "{}" })),
    ]);
    const wrongMedian = median(wrong.map((result) => result.ms));
    console.log(
      `webhook on a 4 MiB document: right secret ${rightSecret.ms.toFixed(1)} ms; a draft run (reads the document) ${documentRead.ms.toFixed(1)} ms; ` +
        `8 parallel wrong secrets median ${wrongMedian.toFixed(1)} ms; /healthz meanwhile ${health!.ms.toFixed(1)} ms; ` +
        `peer: 8 parallel requests that read nothing median ${peerMedian.toFixed(1)} ms, /healthz meanwhile ${peerHealth!.ms.toFixed(1)} ms`,
    );
    expect(wrong.every((result) => result.status === 404)).toBe(true);
    expect(peer.every((result) => result.status === 405 || result.status === 404)).toBe(true);
    // Before the fix each wrong secret decoded the document: 8 of them took ~6× one call that reads it, and
    // /healthz waited behind them. Relative bounds — half a document read, or 3× the same concurrency of
    // requests that read nothing, measured just before — so a busy shared machine does not decide the outcome.
    expect(wrongMedian).toBeLessThan(Math.max(documentRead.ms / 2, 3 * peerMedian, 50));
    expect(health!.ms).toBeLessThan(Math.max(documentRead.ms / 2, 3 * peerHealth!.ms, 50));
  });
});

describe("bodies PostgreSQL cannot store", () => {
  it("NUL characters, non-UTF-8 bytes and lone surrogates → 400 BAD_USER_INPUT, and no run", async () => {
    const hook = await webhookWorkflow("hostile bodies");
    const url = `${stack.url}/hooks/${hook.id}/${hook.secret}`;
    const attempts: [string, { query?: string; headers?: Record<string, string>; body: string | Uint8Array<ArrayBuffer> }][] = [
      ["a NUL byte in a text body", { headers: { "content-type": "text/plain" }, body: "before\u0000after" }],
      ["a NUL escape in JSON", { headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "a\u0000b" }) }],
      ["a NUL escape in a JSON key", { headers: { "content-type": "application/json" }, body: '{"a\\u0000":1}' }],
      ["a lone surrogate in JSON", { headers: { "content-type": "application/json" }, body: '{"name":"\\ud800"}' }],
      ["binary (not UTF-8)", { headers: { "content-type": "application/octet-stream" }, body: new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3]) }],
      ["binary declared as text", { headers: { "content-type": "text/plain" }, body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) }],
      ["a NUL in the query string", { query: "?x=%00", body: "{}" }],
    ];
    const broken: string[] = [];
    for (const [name, attempt] of attempts) {
      const response = await fetch(url + (attempt.query ?? ""), { method: "POST", headers: attempt.headers, body: attempt.body });
      const text = await response.text();
      if (response.status !== 400 || !text.includes("BAD_USER_INPUT")) broken.push(`${name}: ${response.status} ${text.slice(0, 120)}`);
    }
    recordAttackClass("Webhooks: bodies PostgreSQL cannot store", { tried: attempts.length, held: attempts.length - broken.length, broken });
    expect(broken).toEqual([]);
    expect(await runsOf(hook.id)).toBe(0);
    // The control: a clean body with non-ASCII text still starts a run.
    const clean = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Zoë ✓ 😀" }) });
    expect(clean.status).toBe(202);
    expect(await runsOf(hook.id)).toBe(1);
  });
});
