import { canWrite, type Role } from "@algorythmos/domain";
import { roleForWorkflow, roleForWorkspace, type Db } from "@algorythmos/platform";
import type { Caller } from "../context.js";
import { forbidden, notFound, unauthenticated } from "../errors.js";

export type Need = "read" | "write" | "manage";

function check(role: Role | null, need: Need, what: string): Role {
  // Outsiders learn nothing, not even that the thing exists.
  if (!role) throw notFound(what);
  if (need === "write" && !canWrite(role)) throw forbidden("Viewers can read but not change this workspace");
  if (need === "manage" && role !== "owner") throw forbidden("Only workspace owners can do this");
  return role;
}

export function requireUser(caller: Caller): string {
  if (!caller.principal) throw unauthenticated();
  return caller.principal.userId;
}

/** `what` names the thing an outsider is told is missing: the workspace itself, or a credential in it. */
export async function requireWorkspaceRole(db: Db, caller: Caller, workspaceId: string, need: Need, what = "Workspace"): Promise<Role> {
  return check(await roleForWorkspace(db, requireUser(caller), workspaceId), need, what);
}

/** `what` names the thing an outsider is told is missing: the workflow itself, or its run or version. */
export async function requireWorkflowRole(db: Db, caller: Caller, workflowId: string, need: Need, what = "Workflow"): Promise<Role> {
  return check(await roleForWorkflow(db, requireUser(caller), workflowId), need, what);
}
