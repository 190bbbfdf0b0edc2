/**
 * approval (docs/run-engine.md R33): the run pauses, holding no worker, until a person decides — through
 * `resumeRun` (an editor of the workspace) or the signed single-use URL the step exposes — or the timeout
 * takes the default decision. The decision lives in the `RunApproval` row (written by the server, or here
 * for a timeout); the step's ledger row only settles when a delivery reads it, so the engine stays the one
 * writer of the ledger.
 */
import { createHash, randomBytes } from "node:crypto";
import { newId, type StepConfig } from "@algorythmos/domain";
import { Prisma, query, type Db, type Env } from "@algorythmos/platform";
import { DuplicateDelivery, StepError } from "../errors.js";
import type { EngineStepArgs, EngineStepResult } from "./engine-step-contract.js";
import { insertRowSql, insertStep, updateStep } from "./ledger.js";
import { stepConfig } from "./step-config.js";

/** The token's hash as stored (RunApproval.tokenHash): the URL's token itself is never stored there. */
export const approvalTokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/** Where people open the approval: PUBLIC_URL (the studio's public address), else this host's server port. */
export function approvalUrl(env: Env, token: string): string {
  const base = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, "");
  return `${base}/approvals/${token}`;
}

interface ApprovalRow {
  id: string;
  decision: string | null;
  comment: string | null;
  data: unknown;
  decidedById: string | null;
  decidedVia: string | null;
  decidedAt: Date | null;
  expiresAt: Date | null;
}

/** The engine-step handler of approval (engine-steps.ts contract). */
export async function approvalStep(args: EngineStepArgs): Promise<EngineStepResult> {
  const { deps, run, step, ledgerId, prior, publish } = args;
  const resolved = stepConfig(run, step);
  if (prior?.status === "waiting") return settle(args, resolved.error === undefined ? (resolved.config as StepConfig<"approval">) : null);

  const attempt = (prior?.attempt ?? 0) + 1;
  const id = newId("rst");
  const startedAt = new Date();
  if (resolved.error !== undefined) {
    await insertStep(publish, { id, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "running", input: resolved.raw, startedAt }, { type: "step.started", stepId: ledgerId, status: "running" });
    await updateStep(publish, { id, from: ["running"] }, { status: "failed", error: resolved.error }, { type: "step.failed", stepId: ledgerId, status: "failed", error: resolved.error });
    return { status: "failed", error: resolved.error };
  }
  const config = resolved.config as StepConfig<"approval">;
  const token = randomBytes(32).toString("base64url");
  const expiresAt = config.timeoutMs === undefined ? null : new Date(startedAt.getTime() + config.timeoutMs);
  const output = { approvalUrl: approvalUrl(deps.env, token), expiresAt: expiresAt?.toISOString() ?? null };
  // The approval and the waiting ledger row with its step.waiting, ONE statement: a crash leaves both or
  // neither, so the URL in the output always has its row (the token exists only here and in that output).
  const stored = await publish.withLedger(
    { type: "step.waiting", stepId: ledgerId, status: "waiting", output },
    {
      write: insertRowSql({ id, runId: run.runId, stepId: ledgerId, type: step.type, attempt, status: "waiting", input: config, output, startedAt }),
      with: [
        Prisma.sql`INSERT INTO "RunApproval" ("id", "runId", "stepId", "tokenHash", "expiresAt", "createdAt")
          VALUES (${newId("apv")}, ${run.runId}, ${ledgerId}, ${approvalTokenHash(token)}, ${expiresAt ? Prisma.sql`${expiresAt.toISOString()}::timestamp(3)` : Prisma.sql`NULL`}, ${startedAt.toISOString()}::timestamp(3))
          RETURNING "id"`,
      ],
    },
  );
  if (!stored) throw new DuplicateDelivery(run.runId, ledgerId);
  return expiresAt ? { status: "waiting", resumeAt: expiresAt } : { status: "waiting", resumeAt: null };
}

/** R33: a waiting approval settles once decided; past its timeout it takes the default decision first. */
async function settle(args: EngineStepArgs, config: StepConfig<"approval"> | null): Promise<EngineStepResult> {
  const { deps, run, ledgerId, prior, publish, stop } = args;
  if (stop.aborted) return { status: "waiting", resumeAt: null }; // R15: the walk closes the row
  let approval = await readApproval(deps.db, run.runId, ledgerId);
  if (!approval) {
    const error = "The approval's record is missing";
    if (!(await updateStep(publish, { id: prior!.id, from: ["waiting"] }, { status: "failed", error }, { type: "step.failed", stepId: ledgerId, status: "failed", error }))) throw new DuplicateDelivery(run.runId, ledgerId);
    return { status: "failed", error };
  }
  if (!approval.decidedAt && approval.expiresAt && approval.expiresAt.getTime() <= Date.now()) {
    // Only when nobody decided first (the same conditional update as a person's decision).
    const decision = (config?.timeoutDecision ?? "reject") === "approve" ? "approved" : "rejected";
    await query(
      deps.db,
      Prisma.sql`UPDATE "RunApproval" SET "decision" = ${decision}, "decidedVia" = 'timeout', "decidedAt" = ${new Date().toISOString()}::timestamp(3)
        WHERE "id" = ${approval.id} AND "decidedAt" IS NULL RETURNING "id"`,
    );
    approval = (await readApproval(deps.db, run.runId, ledgerId))!;
  }
  if (!approval.decidedAt) return { status: "waiting", resumeAt: approval.expiresAt };
  const decidedBy = approval.decidedById
    ? await deps.db.user.findUnique({ where: { id: approval.decidedById }, select: { id: true, name: true } })
    : null;
  const output = {
    decision: approval.decision,
    comment: approval.comment,
    data: approval.data ?? null,
    decidedBy,
    decidedVia: approval.decidedVia,
    decidedAt: approval.decidedAt.toISOString(),
  };
  if (!(await updateStep(publish, { id: prior!.id, from: ["waiting"] }, { status: "succeeded", output }, { type: "step.succeeded", stepId: ledgerId, status: "succeeded", output }))) {
    throw new DuplicateDelivery(run.runId, ledgerId);
  }
  return { status: "succeeded", output };
}

async function readApproval(db: Db, runId: string, stepId: string): Promise<ApprovalRow | null> {
  const rows = await query<ApprovalRow>(
    db,
    Prisma.sql`SELECT "id", "decision", "comment", "data", "decidedById", "decidedVia", "decidedAt", "expiresAt" FROM "RunApproval" WHERE "runId" = ${runId} AND "stepId" = ${stepId}`,
  );
  return rows[0] ?? null;
}

