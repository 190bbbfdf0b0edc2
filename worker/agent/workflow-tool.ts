/**
 * An ai.agent workflow tool (R43): the call starts the tool workflow's published version as a child run (as
 * workflow.call does, worker/engine/call.ts: id derived from the parent run and the sub-step's ledger id, so a
 * re-delivery finds the child it started) and its sub-step row waits (`waiting`, holding no worker) until the
 * child is final; the child's end wakes the run (R34) and the agent goes on from the ledger (R41).
 */
import { newId, type AgentTool } from "@algorythmos/domain";
import { Prisma, query } from "@algorythmos/platform";
import { childRunId, MAX_CALL_DEPTH, publishedTarget, runQueueOf, startChildRun } from "../engine/call.js";
import type { EngineStepArgs } from "../engine/engine-step-contract.js";
import { insertStep, OPEN_STATUSES, toJson, updateStep } from "../engine/ledger.js";
import type { LedgerRow } from "../engine/types.js";
import { enqueueRun } from "@algorythmos/platform";
import type { ToolOutcome } from "./tools.js";

/** The agent waits for a child run: the handler returns `waiting` (until woken). */
export class AgentWaiting extends Error {}

interface ChildRow {
  status: string;
  output: unknown;
  error: string | null;
}

/**
 * One workflow tool call under sub-step `id`: a settled outcome, or AgentWaiting while the child runs.
 * `prior` is the sub-step's latest row from an earlier delivery.
 */
export async function workflowTool(
  args: EngineStepArgs,
  id: string,
  prior: LedgerRow | undefined,
  tool: Extract<AgentTool, { kind: "workflow" }>,
  call: { id: string; name: string; arguments: Record<string, unknown> },
): Promise<ToolOutcome> {
  const { deps, run, step, publish } = args;
  let row: { id: string; startedAt: Date; childRunId: string };
  if (prior?.status === "waiting") {
    row = { id: prior.id, startedAt: prior.startedAt ?? new Date(), childRunId: (prior.output as { childRunId: string }).childRunId };
  } else {
    const attempt = (prior?.attempt ?? 0) + 1;
    const closing = prior && OPEN_STATUSES.includes(prior.status) ? { id: prior.id, from: prior.status, error: "Interrupted before the child run was recorded; attempted again" } : undefined;
    const input = { name: call.name, kind: "workflow", toolCallId: call.id, arguments: call.arguments, workflowId: tool.workflowId };
    const fail = async (error: string): Promise<ToolOutcome> => {
      const rowId = newId("rst");
      await insertStep(publish, { id: rowId, runId: run.runId, stepId: id, type: step.type, attempt, status: "running", input, startedAt: new Date() }, { type: "step.started", stepId: id, status: "running", attempt }, closing);
      await updateStep(publish, { id: rowId, from: ["running"] }, { status: "failed", error, output: { error } }, { type: "step.failed", stepId: id, status: "failed", attempt, error });
      return { error };
    };
    const [self] = await query<{ depth: number }>(deps.db, Prisma.sql`SELECT "depth" FROM "Run" WHERE "id" = ${run.runId}`);
    const depth = (self?.depth ?? 0) + 1;
    if (depth > MAX_CALL_DEPTH) return fail(`Recursion depth exceeded: workflow calls nest at most ${MAX_CALL_DEPTH} runs deep`);
    // A delivery that crashed after creating the child, before recording it, finds it here (R30).
    const existing = await deps.db.run.findFirst({ where: { parentRunId: run.runId, parentStepId: id }, select: { id: true } });
    let childId: string;
    if (existing) {
      childId = existing.id;
      await enqueueRun(runQueueOf(deps), childId).catch(() => {});
    } else {
      const target = await publishedTarget(deps.db, run.workspaceId, tool.workflowId);
      if (!target.ok) return fail(target.error);
      childId = childRunId(run.runId, id);
      await startChildRun(deps, {
        id: childId,
        workflowId: target.workflowId,
        workspaceId: run.workspaceId,
        versionId: target.versionId,
        definition: target.definition,
        input: toJson(call.arguments),
        trigger: "call",
        parentRunId: run.runId,
        parentStepId: id,
        depth,
      });
    }
    const rowId = newId("rst");
    const startedAt = new Date();
    const output = { childRunId: childId, workflowId: tool.workflowId };
    await insertStep(
      publish,
      { id: rowId, runId: run.runId, stepId: id, type: step.type, attempt, status: "waiting", input, output, startedAt },
      { type: "step.waiting", stepId: id, status: "waiting", attempt, output },
      closing,
    );
    row = { id: rowId, startedAt, childRunId: childId };
  }

  const [child] = await query<ChildRow>(deps.db, Prisma.sql`SELECT "status", "output", "error" FROM "Run" WHERE "id" = ${row.childRunId}`);
  if (child && (child.status === "queued" || child.status === "running")) throw new AgentWaiting();
  const latencyMs = Date.now() - row.startedAt.getTime();
  const from = { id: row.id, from: ["waiting" as const] };
  if (child?.status === "succeeded") {
    const output = { result: child.output ?? null, childRunId: row.childRunId, latencyMs };
    await updateStep(publish, from, { status: "succeeded", output }, { type: "step.succeeded", stepId: id, status: "succeeded", output });
    return { result: child.output ?? null };
  }
  const error = child ? `Child run ${row.childRunId} ${child.status}: ${child.error ?? "no reason recorded"}` : `Child run ${row.childRunId} no longer exists`;
  await updateStep(publish, from, { status: "failed", error, output: { error, childRunId: row.childRunId, latencyMs } }, { type: "step.failed", stepId: id, status: "failed", error });
  return { error };
}
