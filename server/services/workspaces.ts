import { CreateWorkspaceInput, InviteMemberInput, newId, type Role } from "@algorythmos/domain";
import { publishAccessChange, transaction } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireUser, requireWorkspaceRole } from "./access.js";
import type { WorkspaceView } from "./users.js";

export async function createWorkspace(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkspaceView> {
  const userId = requireUser(caller);
  const parsed = CreateWorkspaceInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  return transaction(deps.db, async (tx) => {
    const workspace = await tx.workspace.create({ data: { id: newId("ws"), name: parsed.data.name }, select: { id: true, name: true } });
    await tx.membership.create({ data: { id: newId("mem"), userId, workspaceId: workspace.id, role: "owner" } });
    return { ...workspace, role: "owner" as const };
  });
}

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
}

/** Adds an existing account to the workspace (owners only); an invite of a member changes their role. */
export async function inviteMember(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<MemberView> {
  const parsed = InviteMemberInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "manage");
  const user = await deps.db.user.findUnique({ where: { email: input.email }, select: { id: true, email: true, name: true } });
  if (!user) {
    throw new AppError("NOT_FOUND", "No account uses this email; ask them to sign up first", { fields: [{ path: ["input", "email"], message: "No such account" }] });
  }
  if (user.id === caller.principal!.userId) throw badInput("You cannot change your own role", [{ path: ["input", "email"], message: "That is you" }]);
  await changeMembership(deps, input.workspaceId, user.id, input.role);
  return { userId: user.id, email: user.email, name: user.name, role: input.role };
}

export async function listMembers(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<MemberView[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "read");
  const rows = await deps.db.membership.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "asc" },
    select: { role: true, user: { select: { id: true, email: true, name: true } } },
  });
  return rows.map((row) => ({ userId: row.user.id, email: row.user.email, name: row.user.name, role: row.role }));
}

export async function removeMember(deps: ServerDeps, caller: Caller, workspaceId: string, userId: string): Promise<MemberView> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  if (userId === caller.principal!.userId) throw badInput("Owners cannot remove themselves");
  const member = (await listMembers(deps, caller, workspaceId)).find((row) => row.userId === userId);
  if (!member) throw notFound("Member");
  await changeMembership(deps, workspaceId, userId, null);
  return member;
}

/**
 * The one place an existing member's access changes (a new role, or `null` to remove them). Once stored, the
 * change is published on the access-changes channel, so their open subscriptions and collab sockets re-check
 * and end or downgrade (docs/security.md, "Membership changes"). Workspace creation adds its owner directly:
 * gaining access needs no notice.
 */
async function changeMembership(deps: ServerDeps, workspaceId: string, userId: string, role: Role | null): Promise<void> {
  if (role) {
    await deps.db.membership.upsert({
      where: { userId_workspaceId: { userId, workspaceId } },
      create: { id: newId("mem"), userId, workspaceId, role },
      update: { role },
    });
  } else {
    await deps.db.membership.delete({ where: { userId_workspaceId: { userId, workspaceId } } });
  }
  await publishAccessChange(deps.redis, deps.env.REDIS_PREFIX, { workspaceId, userId });
}
