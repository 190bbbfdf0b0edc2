import { CreateWorkspaceInput, InviteMemberInput, newId, SetMemberRoleInput, type Role } from "@algorythmos/domain";
import { publishAccessChange, transaction, type Tx } from "@algorythmos/platform";
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

/**
 * Adds an existing account to the workspace (owners only); an invite of a member changes their role. With
 * `unknownEmail: "fail"` (REST's POST /members) an email no account uses is NOT_FOUND; with "none" it returns
 * null, and the caller (GraphQL inviteMember) makes an invite link instead (services/invites.ts).
 */
export async function inviteMember(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<MemberView>;
export async function inviteMember(deps: ServerDeps, caller: Caller, rawInput: unknown, unknownEmail: "none"): Promise<MemberView | null>;
export async function inviteMember(deps: ServerDeps, caller: Caller, rawInput: unknown, unknownEmail: "fail" | "none" = "fail"): Promise<MemberView | null> {
  const parsed = InviteMemberInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "manage");
  const user = await deps.db.user.findUnique({ where: { email: input.email }, select: { id: true, email: true, name: true } });
  if (!user) {
    if (unknownEmail === "none") return null;
    throw new AppError("NOT_FOUND", "No account uses this email; ask them to sign up first, or send them an invite link (POST /api/workspaces/{id}/invites)", {
      fields: [{ path: ["input", "email"], message: "No such account" }],
    });
  }
  if (user.id === caller.principal!.userId) throw badInput("You cannot change your own role here; use setMemberRole", [{ path: ["input", "email"], message: "That is you" }]);
  await changeMembership(deps, { workspaceId: input.workspaceId, userId: user.id, role: input.role, join: true });
  return { userId: user.id, email: user.email, name: user.name, role: input.role };
}

/**
 * A member's new role (owners only). Owners may change their own too, and another owner's, as long as the
 * workspace keeps one owner (CONFLICT LAST_OWNER otherwise).
 */
export async function setMemberRole(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<MemberView> {
  const parsed = SetMemberRoleInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "manage");
  const member = await findMember(deps, input.workspaceId, input.userId);
  if (member.role !== input.role) await changeMembership(deps, { workspaceId: input.workspaceId, userId: input.userId, role: input.role, join: false });
  return { ...member, role: input.role };
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

/**
 * Removes a member (owners only), the caller included (leaving), as long as the workspace keeps one owner
 * (CONFLICT LAST_OWNER otherwise). Their next request is refused: the role cache forgets them first.
 */
export async function removeMember(deps: ServerDeps, caller: Caller, workspaceId: string, userId: string): Promise<MemberView> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const member = await findMember(deps, workspaceId, userId);
  await changeMembership(deps, { workspaceId, userId, role: null, join: false });
  return member;
}

async function findMember(deps: ServerDeps, workspaceId: string, userId: string): Promise<MemberView> {
  const row = await deps.db.membership.findUnique({
    where: { userId_workspaceId: { userId, workspaceId } },
    select: { role: true, user: { select: { id: true, email: true, name: true } } },
  });
  if (!row) throw notFound("Member");
  return { userId: row.user.id, email: row.user.email, name: row.user.name, role: row.role };
}

export const lastOwnerError = () =>
  new AppError("CONFLICT", "A workspace needs an owner: make someone else an owner first, then change or remove this one", { reason: "LAST_OWNER" });

export interface MembershipChange {
  workspaceId: string;
  userId: string;
  /** The new role, or null to remove the member. */
  role: Role | null;
  /** true: someone joins (or an existing member gets `role`); false: only an existing member changes (else NOT_FOUND). */
  join: boolean;
}

/**
 * The one place a member's access changes: joining (an invite, an invite link accepted), a new role, a removal.
 * In one transaction that locks the workspace's owner rows, so two owners demoting each other at once cannot
 * leave it without one (LAST_OWNER). `within` runs first in the same transaction (an invite link is claimed
 * there, so a claim and its membership are stored together or not at all). Once stored, the change is
 * published on the access-changes channel — which also drops this process's cached roles of the user — so
 * their next request, open subscriptions and collab sockets see it (docs/security.md, "Membership changes").
 * Workspace creation adds its owner directly: gaining access needs no notice.
 */
export async function changeMembership(deps: ServerDeps, change: MembershipChange, within?: (tx: Tx) => Promise<void>): Promise<void> {
  const { workspaceId, userId, role } = change;
  await transaction(deps.db, async (tx) => {
    if (within) await within(tx);
    const owners = await tx.$queryRaw<{ userId: string }[]>`
      SELECT "userId" FROM "Membership" WHERE "workspaceId" = ${workspaceId} AND role = 'owner' FOR UPDATE`;
    if (role !== "owner" && owners.length === 1 && owners[0]!.userId === userId) throw lastOwnerError();
    if (role && change.join) {
      await tx.membership.upsert({
        where: { userId_workspaceId: { userId, workspaceId } },
        create: { id: newId("mem"), userId, workspaceId, role },
        update: { role },
      });
      return;
    }
    const changed = role
      ? await tx.membership.updateMany({ where: { userId, workspaceId }, data: { role } })
      : await tx.membership.deleteMany({ where: { userId, workspaceId } });
    if (changed.count === 0) throw notFound("Member");
  });
  await publishAccessChange(deps.redis, deps.env.REDIS_PREFIX, { workspaceId, userId });
}
