/**
 * Pinned data (docs/run-engine.md R47, R48) on the real worker with PostgreSQL, Redis and BullMQ: a draft run
 * takes a pinned step's output without executing it; a published or test run executes every step.
 */
import { bytes, json, storedRunEvents } from "@algorythmos/platform";
import { newId } from "@algorythmos/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, startTestServer, stepStatuses, workflow, type Harness } from "./harness.js";

let h: Harness;
let web: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  [h, web] = await Promise.all([startHarness(), startTestServer()]);
});
afterAll(async () => {
  await h?.close();
  await web?.close();
});

/** start → fetch (http.request, pinned) → shape (transform of fetch's output) */
const pinnedFetch = (tag: string) => ({
  ...workflow(
    [
      ["fetch", "http.request", { url: `${web.url}/json?${tag}` }],
      ["shape", "transform", { expression: "steps.fetch.output.body.items[0] & '!'" }],
    ],
    [["start", "fetch"], ["fetch", "shape"]],
  ),
  pinned: { fetch: { status: 200, headers: {}, body: { items: ["pinned-item"] } } },
});
const requestsFor = (tag: string) => web.requests.filter((request) => request.url.includes(tag)).length;

describe("R47 draft runs use pinned outputs", () => {
  it("R47: a pinned http.request is not sent; its pinned output reaches the next step; the trace marks it pinned", async () => {
    const run = await h.run(pinnedFetch("r47-draft"));
    expect(run.status).toBe("succeeded");
    expect(requestsFor("r47-draft")).toBe(0);
    expect(run.output).toEqual({ shape: "pinned-item!" });
    const fetch = run.steps.find((step) => step.stepId === "fetch")!;
    expect(fetch).toMatchObject({ status: "succeeded", attempt: 1, input: { pinned: true }, output: { body: { items: ["pinned-item"] } } });
    const events = await storedRunEvents(h.db, run.id);
    const fetchEvents = events.filter((event) => event.stepId === "fetch");
    expect(fetchEvents.map((event) => [event.type, event.pinned])).toEqual([
      ["step.started", true],
      ["step.succeeded", true],
    ]);
    // A step that executed is not marked.
    expect(events.filter((event) => event.stepId === "shape").every((event) => event.pinned === undefined)).toBe(true);
  });

  it("R47: a pinned condition branches on its pinned result", async () => {
    //  start → check (pinned { result: false }) ─true→ yes / ─false→ no
    const run = await h.run({
      ...workflow(
        [
          ["check", "condition", { expression: "true" }],
          ["yes", "transform", { expression: "'yes'" }],
          ["no", "transform", { expression: "'no'" }],
        ],
        [["start", "check"], ["check", "yes", "true"], ["check", "no", "false"]],
      ),
      pinned: { check: { result: false, value: false } },
    });
    expect(run.status).toBe("succeeded");
    expect(stepStatuses(run)).toMatchObject({ check: "succeeded", yes: "skipped", no: "succeeded" });
    expect(run.output).toEqual({ no: "no" });
  });
});

describe("R48 published and test runs ignore pins", () => {
  it("R48: a run of a published version executes the pinned step", async () => {
    const versionId = newId("ver");
    const definition = pinnedFetch("r48-published");
    await h.db.workflowSnapshot.create({
      data: { id: versionId, workflowId: h.workflowId, version: 1, label: "v1", kind: "published", yjsState: bytes(new Uint8Array()), definition: json(definition) },
    });
    const runId = newId("run");
    await h.db.run.create({ data: { id: runId, workflowId: h.workflowId, workspaceId: h.workspaceId, definition: json(definition), trigger: "manual", input: json({}), versionId } });
    await h.enqueue(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(requestsFor("r48-published")).toBe(1);
    expect(run.steps.find((step) => step.stepId === "fetch")!.input).not.toEqual({ pinned: true });
  });

  it("R48: a test case's run (trigger test) executes the pinned step", async () => {
    const runId = newId("run");
    await h.db.run.create({ data: { id: runId, workflowId: h.workflowId, workspaceId: h.workspaceId, definition: json(pinnedFetch("r48-test")), trigger: "test", input: json({}) } });
    await h.enqueue(runId);
    const run = await h.waitForFinal(runId);
    expect(run.status).toBe("succeeded");
    expect(requestsFor("r48-test")).toBe(1);
    expect((await storedRunEvents(h.db, runId)).some((event) => event.pinned)).toBe(false);
  });
});
