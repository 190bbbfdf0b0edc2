import { AcceptInviteInput, InviteMemberInput, InviteToken, newId, ROLES, type Role } from "@algorythmos/domain";
import { transaction } from "@algorythmos/platform";
import { createHash, randomBytes } from "node:crypto";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { requireUser, requireWorkspaceRole } from "./access.js";
import type { WorkspaceView } from "./users.js";
import { changeMembership, inviteMember, type MemberView } from "./workspaces.js";

/**
 * Invite links (#17): for people without an account yet. The inviter gets a link `/invite/<token>` once (only
 * the token's SHA-256 is stored); whoever signs up or logs in with the invited email and opens it joins the
 * workspace with the invited role — once (single-use), until it expires, unless an owner revoked it or sent a
 * newer one to the same email. The link works without email: the inviter copies it.
 */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const TOKEN_PREFIX = "inv_";

export type InviteStatus = "PENDING" | "EXPIRED" | "ACCEPTED" | "REVOKED";

export interface InviteView {
  id: string;
  workspaceId: string;
  email: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date;
  status: InviteStatus;
  invitedBy: { id: string; email: string; name: string } | null;
}

export interface CreatedInvite {
  invite: InviteView;
  /** The link's secret, shown once. */
  token: string;
  /** `/invite/<token>` on the studio's public address (PUBLIC_URL, else this server's port on localhost). */
  url: string;
}

/** What inviteMember did: added an account at once (`member`), or made an invite link for an unknown email. */
export type InviteMemberResult = { role: Role; member: MemberView; created: null } | { role: Role; member: null; created: CreatedInvite };

const INVITE_SELECT = {
  id: true,
  workspaceId: true,
  email: true,
  role: true,
  createdAt: true,
  expiresAt: true,
  acceptedAt: true,
  revokedAt: true,
  invitedBy: { select: { id: true, email: true, name: true } },
} as const;

type InviteRow = { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date } & Omit<InviteView, "status">;

const hashInviteToken = (token: string) => createHash("sha256").update(token).digest("hex");

function statusOf(row: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now = Date.now()): InviteStatus {
  if (row.acceptedAt) return "ACCEPTED";
  if (row.revokedAt) return "REVOKED";
  return row.expiresAt.getTime() <= now ? "EXPIRED" : "PENDING";
}

const view = ({ acceptedAt: _a, revokedAt: _r, ...row }: InviteRow): InviteView => ({ ...row, status: statusOf({ acceptedAt: _a, revokedAt: _r, expiresAt: row.expiresAt }) });

export const inviteUrl = (deps: ServerDeps, token: string) =>
  `${(deps.env.PUBLIC_URL ?? `http://localhost:${deps.env.PORT}`).replace(/\/+$/, "")}/invite/${encodeURIComponent(token)}`;

/**
 * GraphQL inviteMember: an email an account uses joins at once (as before); any other email gets an invite link.
 * Owners only, checked before anything is read.
 */
export async function inviteMemberOrLink(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<InviteMemberResult> {
  const member = await inviteMember(deps, caller, rawInput, "none");
  const input = InviteMemberInput.parse(rawInput); // inviteMember validated it
  if (member) return { role: input.role, member, created: null };
  return { role: input.role, member: null, created: await createInvite(deps, caller, rawInput) };
}

/**
 * A new invite link for an email (owners only). A newer link to the same email replaces the pending one (it is
 * revoked), so "send a new link" is inviting again.
 */
export async function createInvite(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<CreatedInvite> {
  const parsed = InviteMemberInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  const invitedById = requireUser(caller);
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "manage");
  const existing = await deps.db.membership.findFirst({ where: { workspaceId: input.workspaceId, user: { email: input.email } }, select: { id: true } });
  if (existing) {
    throw new AppError("CONFLICT", "This person is already a member; change their role in the members list", {
      fields: [{ path: ["input", "email"], message: "Already a member" }],
    });
  }
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const now = new Date();
  const row = await transaction(deps.db, async (tx) => {
    await tx.invite.updateMany({
      where: { workspaceId: input.workspaceId, email: input.email, acceptedAt: null, revokedAt: null },
      data: { revokedAt: now },
    });
    return tx.invite.create({
      data: {
        id: newId("inv"),
        workspaceId: input.workspaceId,
        email: input.email,
        role: input.role,
        tokenHash: hashInviteToken(token),
        invitedById,
        expiresAt: new Date(now.getTime() + INVITE_TTL_MS),
      },
      select: INVITE_SELECT,
    });
  });
  return { invite: view(row), token, url: inviteUrl(deps, token) };
}

/** The workspace's invites not yet accepted or revoked (expired ones too, marked so), newest first. */
export async function listInvites(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<InviteView[]> {
  await requireWorkspaceRole(deps.db, caller, workspaceId, "manage");
  const rows = await deps.db.invite.findMany({
    where: { workspaceId, acceptedAt: null, revokedAt: null },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: INVITE_SELECT,
  });
  return rows.map(view);
}

/** Revokes an invite (owners of its workspace only): its link stops working at once. */
export async function revokeInvite(deps: ServerDeps, caller: Caller, inviteId: string): Promise<InviteView> {
  requireUser(caller);
  const found = await deps.db.invite.findUnique({ where: { id: inviteId }, select: { workspaceId: true } });
  // Outsiders learn nothing: an invite of a workspace they are not in is as missing as one that does not exist.
  await requireWorkspaceRole(deps.db, caller, found?.workspaceId ?? "", "manage", "Invite");
  if (!found) throw notFound("Invite");
  const row = await deps.db.invite.findUniqueOrThrow({ where: { id: inviteId }, select: INVITE_SELECT });
  if (row.acceptedAt) throw new AppError("CONFLICT", "This invite was already accepted; remove the member instead", { reason: "INVITE_ACCEPTED" });
  if (row.revokedAt) return view(row);
  return view(await deps.db.invite.update({ where: { id: inviteId }, data: { revokedAt: new Date() }, select: INVITE_SELECT }));
}

/** What the holder of an invite link may see before signing in: where it leads, and whether it still works. */
export interface InvitePreview {
  workspaceName: string;
  email: string;
  role: Role;
  status: InviteStatus;
  expiresAt: Date;
  invitedByName: string | null;
}

async function findByToken(deps: ServerDeps, rawToken: unknown) {
  const parsed = InviteToken.safeParse(rawToken);
  if (!parsed.success) throw fromZodError(parsed.error, ["token"]);
  const row = await deps.db.invite.findUnique({
    where: { tokenHash: hashInviteToken(parsed.data) },
    select: { ...INVITE_SELECT, workspace: { select: { name: true } } },
  });
  if (!row) throw new AppError("NOT_FOUND", "This invite link is not valid: check that it was copied whole, or ask for a new one");
  return row;
}

/** The link's token is its only credential (anyone holding it may see this much, signed in or not). */
export async function previewInvite(deps: ServerDeps, rawToken: unknown): Promise<InvitePreview> {
  const row = await findByToken(deps, rawToken);
  return { workspaceName: row.workspace.name, email: row.email, role: row.role, status: statusOf(row), expiresAt: row.expiresAt, invitedByName: row.invitedBy?.name ?? null };
}

const REFUSALS: Record<Exclude<InviteStatus, "PENDING">, string> = {
  ACCEPTED: "This invite link was already used; ask the person who invited you for a new one",
  REVOKED: "This invite was withdrawn or replaced by a newer link; ask the person who invited you for a new one",
  EXPIRED: "This invite link expired; ask the person who invited you for a new one",
};

/**
 * Joins the caller to the invite's workspace with its role, once. The caller's account must use the invited
 * email. A member already there keeps the higher of their role and the invited one. The claim and the
 * membership are one transaction (changeMembership's), and the claim only succeeds on a pending row, so two
 * tabs accepting at once join once.
 */
export async function acceptInvite(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkspaceView> {
  const userId = requireUser(caller);
  const parsed = AcceptInviteInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const row = await findByToken(deps, parsed.data.token);
  const status = statusOf(row);
  if (status !== "PENDING") throw new AppError("CONFLICT", REFUSALS[status], { reason: `INVITE_${status}` });
  const user = await deps.db.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true } });
  if (user.email !== row.email) {
    throw new AppError("FORBIDDEN", `This invite is for ${row.email}, and you are signed in as ${user.email}: log in with that email, or ask for an invite to yours`, {
      reason: "INVITE_EMAIL_MISMATCH",
    });
  }
  const current = await deps.db.membership.findUnique({ where: { userId_workspaceId: { userId, workspaceId: row.workspaceId } }, select: { role: true } });
  // ROLES is ordered from most to least access.
  const role = current && ROLES.indexOf(current.role) < ROLES.indexOf(row.role) ? current.role : row.role;
  await changeMembership(deps, { workspaceId: row.workspaceId, userId, role, join: true }, async (tx) => {
    const claimed = await tx.invite.updateMany({
      where: { id: row.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
      data: { acceptedAt: new Date(), acceptedById: userId },
    });
    if (claimed.count === 0) throw new AppError("CONFLICT", REFUSALS.ACCEPTED, { reason: "INVITE_ACCEPTED" });
  });
  return { id: row.workspaceId, name: row.workspace.name, role };
}
