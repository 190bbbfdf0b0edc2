import type { Role } from "@algorythmos/domain";
import type { Db } from "./db.js";

/** The caller's role in the workspace that owns a workflow, or null (outsiders learn nothing). */
export async function roleForWorkflow(db: Db, userId: string, workflowId: string): Promise<Role | null> {
  const workflow = await db.workflow.findUnique({
    where: { id: workflowId },
    select: { workspace: { select: { memberships: { where: { userId }, select: { role: true } } } } },
  });
  return workflow?.workspace.memberships[0]?.role ?? null;
}

export async function roleForWorkspace(db: Db, userId: string, workspaceId: string): Promise<Role | null> {
  const membership = await db.membership.findUnique({
    where: { userId_workspaceId: { userId, workspaceId } },
    select: { role: true },
  });
  return membership?.role ?? null;
}
