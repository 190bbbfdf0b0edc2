/**
 * The small parts of docs/observability.md that need no process: the optional trace field of execute-run
 * jobs (old jobs still parse), the GraphQL operation label (bounded by the schema), the /metrics token, and
 * health reports (a hung dependency is reported down, not waited for).
 */
import { checkDependencies, describeOperation, healthReport, jobCatalog, metricsResponse } from "@algorythmos/platform";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";

describe("execute-run job data", () => {
  const schema = jobCatalog.runs["execute-run"];
  it("a job queued before the trace field parses; one with a W3C context keeps it; an oversized context is refused", () => {
    expect(schema.safeParse({ runId: "run_1" }).success).toBe(true);
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    expect(schema.parse({ runId: "run_1", trace: { traceparent } }).trace).toEqual({ traceparent });
    expect(schema.safeParse({ runId: "run_1", trace: { traceparent: "x".repeat(10_000) } }).success).toBe(false);
  });
});

describe("GraphQL operation labels", () => {
  it("use the operation type and its first root field, never the client's operation name", () => {
    const document = parse(`query Anything123 { workflow(id: "x") { id } } mutation Other { startRun(input: {}) { id } }`);
    expect(describeOperation(document, "Other")).toEqual({ type: "mutation", field: "startRun", name: "Other" });
    expect(describeOperation(document, null)).toEqual({ type: "query", field: "workflow", name: "Anything123" });
    expect(describeOperation(parse(`{ ...F } fragment F on Query { me { id } }`)).field).toBe("fragment");
  });
});

describe("/metrics token", () => {
  it("without METRICS_TOKEN the series are served; with it only the exact bearer token gets them", async () => {
    expect((await metricsResponse(undefined, null)).status).toBe(200);
    const token = "a-metrics-token-of-some-length";
    for (const authorization of [null, "", `Bearer ${token.slice(1)}`, `Bearer ${token} `, `bearer ${token}`, token]) {
      const answer = await metricsResponse(token, authorization);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body).error.code).toBe("UNAUTHENTICATED");
    }
    const allowed = await metricsResponse(token, `Bearer ${token}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain("algo_http_requests_total");
  });
});

describe("health", () => {
  it("a failing dependency is down with its reason, a hung one is down once the check's bound passes", async () => {
    const dependencies = await checkDependencies({
      fine: async () => "PONG",
      failing: async () => {
        throw new Error("connection refused");
      },
      hung: () => new Promise(() => {}),
    });
    expect(dependencies.fine).toMatchObject({ status: "ok" });
    expect(dependencies.failing).toMatchObject({ status: "down", error: "connection refused" });
    expect(dependencies.hung).toMatchObject({ status: "down", error: "no answer within 2000 ms" });
  });

  it("is 200 ok only when ready and every dependency answers; the older fields follow postgres and redis", async () => {
    const up = async () => undefined;
    const down = async () => {
      throw new Error("gone");
    };
    expect(await healthReport(true, { postgres: up, redis: up })).toMatchObject({ httpStatus: 200, body: { status: "ok", database: "ok", redis: "ok" } });
    expect(await healthReport(false, { postgres: up, redis: up })).toMatchObject({ httpStatus: 503, body: { status: "starting" } });
    expect(await healthReport(true, { postgres: up, redis: down })).toMatchObject({ httpStatus: 503, body: { status: "degraded", database: "ok", redis: "down: gone" } });
  });
});
