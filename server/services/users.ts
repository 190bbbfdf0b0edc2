import { LogInInput, newId, SignUpInput, type Role } from "@algorythmos/domain";
import { hashPassword, isUniqueViolation, transaction, verifyPassword } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, fromZodError, notFound } from "../errors.js";
import { limitAuthAttempts } from "../limits.js";
import { requireUser } from "./access.js";
import { issueSession, type AuthPayload, type UserView } from "./sessions.js";

const USER_SELECT = { id: true, email: true, name: true } as const;
export type { AuthPayload, UserView };

export async function signUp(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<AuthPayload> {
  await limitAuthAttempts(deps, caller);
  const parsed = SignUpInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await transaction(deps.db, async (tx) => {
      const user = await tx.user.create({ data: { id: newId("usr"), email: input.email, name: input.name, passwordHash }, select: USER_SELECT });
      const workspace = await tx.workspace.create({ data: { id: newId("ws"), name: `${input.name}'s workspace` }, select: { id: true } });
      await tx.membership.create({ data: { id: newId("mem"), userId: user.id, workspaceId: workspace.id, role: "owner" } });
      return user;
    });
    return issueSession(deps, user);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("CONFLICT", "An account with this email already exists", { fields: [{ path: ["input", "email"], message: "Already registered" }] });
    throw error;
  }
}

export async function logIn(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<AuthPayload> {
  await limitAuthAttempts(deps, caller);
  const parsed = LogInInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const row = await deps.db.user.findUnique({ where: { email: parsed.data.email }, select: { ...USER_SELECT, passwordHash: true } });
  if (!row || !(await verifyPassword(parsed.data.password, row.passwordHash))) {
    throw new AppError("UNAUTHENTICATED", "Email or password is wrong");
  }
  const { passwordHash: _, ...user } = row;
  return issueSession(deps, user);
}

export async function getMe(deps: ServerDeps, caller: Caller): Promise<UserView> {
  const user = await deps.db.user.findUnique({ where: { id: requireUser(caller) }, select: USER_SELECT });
  if (!user) throw notFound("User");
  return user;
}

export interface WorkspaceView {
  id: string;
  name: string;
  role: Role;
}

export async function getMyWorkspace(deps: ServerDeps, caller: Caller, workspaceId: string): Promise<WorkspaceView> {
  const workspace = (await listMyWorkspaces(deps, caller)).find((candidate) => candidate.id === workspaceId);
  if (!workspace) throw notFound("Workspace");
  return workspace;
}

export async function listMyWorkspaces(deps: ServerDeps, caller: Caller): Promise<WorkspaceView[]> {
  const memberships = await deps.db.membership.findMany({
    where: { userId: requireUser(caller) },
    orderBy: { createdAt: "asc" },
    select: { role: true, workspace: { select: { id: true, name: true } } },
  });
  return memberships.map((m) => ({ id: m.workspace.id, name: m.workspace.name, role: m.role }));
}
