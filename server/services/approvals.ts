/**
 * Approvals (docs/run-engine.md R33): a person's decision on a waiting approval step — through resumeRun (an
 * editor of the workflow's workspace, recorded as decidedById) or the step's signed single-use URL. The
 * decision is one conditional update of the RunApproval row (only while undecided); then the run's delayed
 * job is promoted so the engine settles the step now (R34). The engine alone writes the ledger.
 */
import { createHash } from "node:crypto";
import { type Db, type RunJob, wakeRun } from "@algorythmos/platform";
import type { Queue } from "bullmq";
import { z } from "zod";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { requireWorkspaceRole } from "./access.js";
import { getRun, type RunView } from "./runs.js";

export const ResumeRunInput = z.object({
  runId: z.string().min(1),
  stepId: z.string().min(1).max(300),
  decision: z.enum(["APPROVE", "REJECT"]),
  comment: z.string().max(10_000).nullish(),
  data: z.unknown().optional(),
});
export type ResumeRunInput = z.infer<typeof ResumeRunInput>;

export type Decision = "approved" | "rejected";
export const toDecision = (value: "APPROVE" | "REJECT" | "approve" | "reject"): Decision => (value.toUpperCase() === "APPROVE" ? "approved" : "rejected");

export interface ApprovalView {
  id: string;
  runId: string;
  stepId: string;
  workflowId: string;
  title: string;
  instructions: string;
  expiresAt: Date | null;
  decision: Decision | null;
  comment: string | null;
  data: unknown;
  decidedById: string | null;
  decidedVia: "user" | "link" | "timeout" | null;
  decidedAt: Date | null;
  createdAt: Date;
}

const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/** The approval step's title and instructions, from its waiting ledger row (its config as it ran). */
async function describe(db: Db, rows: { id: string; runId: string; stepId: string; expiresAt: Date | null; decision: string | null; comment: string | null; data: unknown; decidedById: string | null; decidedVia: string | null; decidedAt: Date | null; createdAt: Date; run: { workflowId: string } }[]): Promise<ApprovalView[]> {
  if (!rows.length) return [];
  const steps = await db.runStep.findMany({
    where: { OR: rows.map((row) => ({ runId: row.runId, stepId: row.stepId, type: "approval" })) },
    select: { runId: true, stepId: true, input: true },
    orderBy: { attempt: "asc" },
  });
  const configs = new Map(steps.map((step) => [`${step.runId} ${step.stepId}`, step.input as { title?: unknown; instructions?: unknown } | null]));
  return rows.map(({ run, ...row }) => {
    const config = configs.get(`${row.runId} ${row.stepId}`);
    return { ...row, decision: row.decision as Decision | null, decidedVia: row.decidedVia as ApprovalView["decidedVia"], workflowId: run.workflowId, title: typeof config?.title === "string" ? config.title : row.stepId, instructions: typeof config?.instructions === "string" ? config.instructions : "" };
  });
}

const APPROVAL_SELECT = {
  id: true,
  runId: true,
  stepId: true,
  expiresAt: true,
  decision: true,
  comment: true,
  data: true,
  decidedById: true,
  decidedVia: true,
  decidedAt: true,
  createdAt: true,
  run: { select: { workflowId: true, status: true } },
} as const;

type Decided = { ok: true; approval: ApprovalView } | { ok: false; reason: "missing" | "decided" | "expired" | "not-running" };

/**
 * Records a decision once: the conditional update matches only an undecided, unexpired approval of a running
 * run. Then the run is woken (its delayed job promoted). Used by resumeRun and the signed URL alike.
 */
export async function decideApproval(
  deps: { db: Db; runQueue: Queue<RunJob> },
  where: { runId: string; stepId: string } | { tokenHash: string },
  decision: { decision: Decision; comment?: string | null; data?: unknown; decidedById: string | null; via: "user" | "link" },
): Promise<Decided> {
  const found = await deps.db.runApproval.findFirst({ where: "tokenHash" in where ? { tokenHash: where.tokenHash } : { runId: where.runId, stepId: where.stepId }, select: APPROVAL_SELECT });
  if (!found) return { ok: false, reason: "missing" };
  if (found.decidedAt) return { ok: false, reason: "decided" };
  if (found.expiresAt && found.expiresAt.getTime() <= Date.now()) return { ok: false, reason: "expired" };
  if (found.run.status !== "running") return { ok: false, reason: "not-running" };
  const now = new Date();
  const updated = await deps.db.runApproval.updateMany({
    where: { id: found.id, decidedAt: null },
    data: {
      decision: decision.decision,
      comment: decision.comment ?? null,
      ...(decision.data === undefined || decision.data === null ? {} : { data: decision.data as never }),
      decidedById: decision.decidedById,
      decidedVia: decision.via,
      decidedAt: now,
    },
  });
  if (updated.count !== 1) return { ok: false, reason: "decided" }; // someone else decided first
  await wakeRun(deps.runQueue, found.runId).catch(() => {}); // the reconciler wakes it otherwise (R34)
  const [view] = await describe(deps.db, [{ ...found, decision: decision.decision, comment: decision.comment ?? null, data: decision.data ?? null, decidedById: decision.decidedById, decidedVia: decision.via, decidedAt: now }]);
  return { ok: true, approval: view! };
}

/** resumeRun: an editor (or owner) of the run's workspace approves or rejects a waiting approval step. */
export async function resumeRun(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<{ run: RunView; approval: ApprovalView }> {
  const parsed = ResumeRunInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await getRun(deps, caller, input.runId, "write");
  const result = await decideApproval(deps, { runId: input.runId, stepId: input.stepId }, {
    decision: toDecision(input.decision),
    comment: input.comment,
    data: input.data,
    decidedById: caller.principal!.userId,
    via: "user",
  });
  if (!result.ok) {
    if (result.reason === "missing") throw notFound(`Approval for step "${input.stepId}"`);
    if (result.reason === "decided") throw new AppError("CONFLICT", `The approval of step "${input.stepId}" was already decided`);
    if (result.reason === "expired") throw new AppError("CONFLICT", `The approval of step "${input.stepId}" timed out; its default decision applies`);
    throw new AppError("CONFLICT", "The run is no longer running");
  }
  return { run: await getRun(deps, caller, input.runId), approval: result.approval };
}

/** The undecided approvals of a workspace's running runs, oldest first (the studio's inbox). */
export async function pendingApprovals(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<ApprovalView[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "read");
  const rows = await deps.db.runApproval.findMany({
    where: { decidedAt: null, run: { workspaceId, status: "running" } },
    orderBy: { createdAt: "asc" },
    take: 200,
    select: APPROVAL_SELECT,
  });
  return describe(deps.db, rows);
}

/** A run's approvals (decided or not), for its page. */
export async function runApprovals(deps: ServerDeps, runId: string): Promise<ApprovalView[]> {
  const rows = await deps.db.runApproval.findMany({ where: { runId }, orderBy: { createdAt: "asc" }, select: APPROVAL_SELECT });
  return describe(deps.db, rows);
}

/** The approval a signed URL's token opens, without deciding (the page's GET). Null for an unknown token. */
export async function approvalByToken(deps: { db: Db }, token: string): Promise<(ApprovalView & { runStatus: string }) | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const found = await deps.db.runApproval.findUnique({ where: { tokenHash: tokenHash(token) }, select: APPROVAL_SELECT });
  if (!found) return null;
  const [view] = await describe(deps.db, [found]);
  return { ...view!, runStatus: found.run.status };
}

/** The signed URL's POST: decides once; `decided` / `expired` answer 410 on the page. */
export async function decideByToken(deps: { db: Db; runQueue: Queue<RunJob> }, token: string, decision: Decision, comment: string | null): Promise<Decided> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { ok: false, reason: "missing" };
  return decideApproval(deps, { tokenHash: tokenHash(token) }, { decision, comment, decidedById: null, via: "link" });
}
