import { canWrite, type Role } from "@algorythmos/domain";
import { accessChangesChannel, cachedRoleForWorkflow, cachedRoleForWorkspace, parseAccessChange, parseSessionEnds, roleForWorkflow, sessionEndsChannel, type Db } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, forbidden, notFound, unauthenticated } from "../errors.js";
import type { ChannelHub } from "../realtime.js";

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
  return check(await cachedRoleForWorkspace(db, requireUser(caller), workspaceId), need, what);
}

/** `what` names the thing an outsider is told is missing: the workflow itself, or its run or version. */
export async function requireWorkflowRole(db: Db, caller: Caller, workflowId: string, need: Need, what = "Workflow"): Promise<Role> {
  return check(await cachedRoleForWorkflow(db, requireUser(caller), workflowId), need, what);
}

/**
 * For long-lived reads (subscriptions): calls `onLost` once, within a Redis round trip and a role query, when
 * the caller no longer has `need` on the workflow — removed or demoted, as published by changeMembership — or
 * when the session of the caller's token ends (logOut, endSession, refresh-token reuse). Listens before it
 * returns: start it BEFORE the first authorisation check, so no change can fall in between. Returns the stop.
 */
export async function watchWorkflowAccess(
  deps: ServerDeps,
  hub: ChannelHub,
  caller: Caller,
  workflowId: string,
  need: Need,
  onLost: (error: AppError) => void,
): Promise<() => Promise<void>> {
  const userId = requireUser(caller);
  const sessionId = caller.principal?.sessionId;
  let lost = false;
  const lose = (error: AppError) => {
    if (lost) return;
    lost = true;
    onLost(error);
  };
  const stops = [
    await hub.listen(accessChangesChannel(deps.env.REDIS_PREFIX), (message) => {
      // Any change of this user may concern this workflow's workspace: re-reading the role tells.
      if (lost || parseAccessChange(message)?.userId !== userId) return;
      roleForWorkflow(deps.db, userId, workflowId).then(
        (role) => {
          try {
            check(role, need, "Workflow");
          } catch {
            lose(new AppError("FORBIDDEN", "Your access to this workspace changed; subscribe again if you still have it"));
          }
        },
        (error) => {
          // Fail closed: a stream whose access cannot be re-checked ends (the client may subscribe again).
          deps.logger.warn("access re-check failed", { workflowId, error });
          lose(new AppError("FORBIDDEN", "Your access could not be re-checked; subscribe again"));
        },
      );
    }),
  ];
  if (sessionId) {
    stops.push(
      await hub.listen(sessionEndsChannel(deps.env.REDIS_PREFIX), (message) => {
        if (parseSessionEnds(message).includes(sessionId)) lose(new AppError("UNAUTHENTICATED", "Your session ended; sign in again"));
      }),
    );
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}
