import type { Role } from "@algorythmos/domain";
import type { Db } from "./db.js";

/**
 * The caller's role in the workspace that owns a workflow, or null (outsiders learn nothing). Asked on every
 * workflow operation, so it is one indexed join rather than a nested read.
 */
export async function roleForWorkflow(db: Db, userId: string, workflowId: string): Promise<Role | null> {
  const rows = await db.$queryRaw<{ role: Role }[]>`
    SELECT m.role::text AS role
    FROM "Workflow" w JOIN "Membership" m ON m."workspaceId" = w."workspaceId" AND m."userId" = ${userId}
    WHERE w.id = ${workflowId}`;
  return rows[0]?.role ?? null;
}

export async function roleForWorkspace(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const membership = await db.membership.findUnique({
    where: { userId_workspaceId: { userId, workspaceId } },
    select: { role: true },
  });
  return membership?.role ?? null;
}
