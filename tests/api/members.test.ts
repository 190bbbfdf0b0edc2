/**
 * Members and invites (#17): owners invite by email — an account joins at once, anyone else gets a single-use,
 * expiring invite link — change roles and remove members; never the last owner. Every change reaches the
 * removed or demoted member's next request at once (the role cache forgets them, docs/security.md "Cached roles").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { codeOf, createWorkflow, gql, invite, ok, rest, signUp, type Account } from "../support/api.js";
import { startTestStack } from "../support/stack.js";

let stack: Stack;
let owner: Account;
let editor: Account;
let viewer: Account;
let workspaceId = "";
let workflowId = "";

const INVITE = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { role user { id } invite { id email role status expiresAt } inviteUrl inviteToken } }`;
const SET_ROLE = `mutation($input: SetMemberRoleInput!) { setMemberRole(input: $input) { role user { id } } }`;
const REMOVE = `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { role } }`;
const REVOKE = `mutation($input: RevokeInviteInput!) { revokeInvite(input: $input) { id status } }`;
const ACCEPT = `mutation($input: AcceptInviteInput!) { acceptInvite(input: $input) { id name role } }`;
const PREVIEW = `query($token: String!) { invitePreview(token: $token) { workspaceName email role status invitedByName } }`;
const INVITES = `query($id: ID!) { workspace(id: $id) { invites { id email role status invitedBy { name } } } }`;

let emailCount = 0;
const newEmail = (name: string) => `${name}-${Date.now()}-${emailCount++}@example.test`;

async function signUpAs(email: string, name: string): Promise<Account> {
  const password = "correct horse battery";
  const signed = ok(await gql(stack.url, `mutation($input: SignUpInput!) { signUp(input: $input) { token refreshToken user { id } } }`, { input: { email, password, name } }));
  return { token: signed.signUp.token, refreshToken: signed.signUp.refreshToken, email, password, userId: signed.signUp.user.id, workspaceId: "" };
}

const inviteLink = async (email: string, role: string, as = owner) => ok(await gql(stack.url, INVITE, { input: { workspaceId, email, role } }, as.token)).inviteMember;
const roleIn = async (account: Account) =>
  (ok(await gql(stack.url, `{ me { workspaces { id role } } }`, {}, account.token)).me.workspaces as { id: string; role: string }[]).find((w) => w.id === workspaceId)?.role ?? null;

beforeAll(async () => {
  stack = await startTestStack({ collab: false, worker: false });
  [owner, editor, viewer] = await Promise.all([signUp(stack.url, "Owner"), signUp(stack.url, "Editor"), signUp(stack.url, "Viewer")]);
  workspaceId = owner.workspaceId;
  await invite(stack.url, owner, workspaceId, editor, "editor");
  await invite(stack.url, owner, workspaceId, viewer, "viewer");
  workflowId = (await createWorkflow(stack.url, owner.token, workspaceId, "Members flow")).id;
});
afterAll(async () => {
  await stack?.close();
});

describe("invite links", () => {
  it("an owner's invite of an email without an account is a link; whoever signs up with it joins with the role, once", async () => {
    const email = newEmail("newcomer");
    const made = await inviteLink(email, "editor");
    expect(made.user).toBeNull();
    expect(made.invite).toMatchObject({ email, role: "editor", status: "PENDING" });
    expect(made.inviteUrl).toMatch(new RegExp(`/invite/${made.inviteToken}$`));
    // Only the hash is stored.
    expect(await stack.deps.db.invite.count({ where: { tokenHash: made.inviteToken } })).toBe(0);

    const listed = ok(await gql(stack.url, INVITES, { id: workspaceId }, owner.token)).workspace.invites;
    expect(listed).toContainEqual({ id: made.invite.id, email, role: "editor", status: "PENDING", invitedBy: { name: "Owner" } });
    // The token is the preview's only credential.
    expect(ok(await gql(stack.url, PREVIEW, { token: made.inviteToken })).invitePreview).toMatchObject({ email, role: "editor", status: "PENDING", invitedByName: "Owner" });
    expect(codeOf(await gql(stack.url, PREVIEW, { token: "inv_not-a-real-token" }))).toBe("NOT_FOUND");
    expect(codeOf(await gql(stack.url, ACCEPT, { input: { token: made.inviteToken } }))).toBe("UNAUTHENTICATED");

    // Another account cannot use it.
    const stranger = await signUp(stack.url, "Stranger");
    const wrong = await gql(stack.url, ACCEPT, { input: { token: made.inviteToken } }, stranger.token);
    expect(codeOf(wrong)).toBe("FORBIDDEN");
    expect(wrong.errors![0]!.message).toContain(email);

    const newcomer = await signUpAs(email, "Newcomer");
    expect(await roleIn(newcomer)).toBeNull();
    expect(ok(await gql(stack.url, ACCEPT, { input: { token: made.inviteToken } }, newcomer.token)).acceptInvite).toMatchObject({ id: workspaceId, role: "editor" });
    expect(await roleIn(newcomer)).toBe("editor");
    // Its next request may write here.
    expect(codeOf(await gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id: workflowId, name: "Renamed by newcomer" } }, newcomer.token))).toBe("OK");

    const again = await gql(stack.url, ACCEPT, { input: { token: made.inviteToken } }, newcomer.token);
    expect(codeOf(again)).toBe("CONFLICT");
    expect(again.errors![0]!.extensions!.reason).toBe("INVITE_ACCEPTED");
    expect(ok(await gql(stack.url, PREVIEW, { token: made.inviteToken })).invitePreview.status).toBe("ACCEPTED");
    expect(ok(await gql(stack.url, INVITES, { id: workspaceId }, owner.token)).workspace.invites.some((i: { id: string }) => i.id === made.invite.id)).toBe(false);
    // An email an account uses still joins (or changes role) at once, as before invite links existed.
    const direct = await inviteLink(editor.email, "editor");
    expect(direct).toMatchObject({ role: "editor", user: { id: editor.userId }, invite: null, inviteUrl: null, inviteToken: null });
  });

  it("expired, revoked and replaced links are refused with the reason; a newer link to the same email replaces the old one", async () => {
    const email = newEmail("late");
    const first = await inviteLink(email, "viewer");
    const second = await inviteLink(email, "editor");
    expect(ok(await gql(stack.url, PREVIEW, { token: first.inviteToken })).invitePreview.status).toBe("REVOKED");
    const late = await signUpAs(email, "Late");
    const replaced = await gql(stack.url, ACCEPT, { input: { token: first.inviteToken } }, late.token);
    expect(codeOf(replaced)).toBe("CONFLICT");
    expect(replaced.errors![0]!.message).toMatch(/withdrawn or replaced/);

    await stack.deps.db.invite.update({ where: { id: second.invite.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(ok(await gql(stack.url, INVITES, { id: workspaceId }, owner.token)).workspace.invites.find((i: { id: string }) => i.id === second.invite.id)?.status).toBe("EXPIRED");
    const expired = await gql(stack.url, ACCEPT, { input: { token: second.inviteToken } }, late.token);
    expect(codeOf(expired)).toBe("CONFLICT");
    expect(expired.errors![0]!.message).toMatch(/expired/);

    expect(await roleIn(late)).toBeNull();

    const otherEmail = newEmail("withdrawn");
    const withdrawn = await inviteLink(otherEmail, "viewer");
    expect(ok(await gql(stack.url, REVOKE, { input: { inviteId: withdrawn.invite.id } }, owner.token)).revokeInvite.status).toBe("REVOKED");
    const other = await signUpAs(otherEmail, "Withdrawn");
    expect(codeOf(await gql(stack.url, ACCEPT, { input: { token: withdrawn.inviteToken } }, other.token))).toBe("CONFLICT");
    expect(await roleIn(other)).toBeNull();
  });

  it("editors and viewers cannot invite, revoke, change roles, remove or list invites; outsiders learn nothing", async () => {
    const pending = await inviteLink(newEmail("pending"), "viewer");
    const outsider = await signUp(stack.url, "Outsider");
    for (const [account, expected] of [[editor, "FORBIDDEN"], [viewer, "FORBIDDEN"], [outsider, "NOT_FOUND"]] as const) {
      expect(codeOf(await gql(stack.url, INVITE, { input: { workspaceId, email: newEmail("nope"), role: "owner" } }, account.token))).toBe(expected);
      expect(codeOf(await gql(stack.url, REVOKE, { input: { inviteId: pending.invite.id } }, account.token))).toBe(expected);
      expect(codeOf(await gql(stack.url, SET_ROLE, { input: { workspaceId, userId: account.userId, role: "owner" } }, account.token))).toBe(expected);
      expect(codeOf(await gql(stack.url, REMOVE, { input: { workspaceId, userId: owner.userId } }, account.token))).toBe(expected);
      if (account !== outsider) expect(codeOf(await gql(stack.url, INVITES, { id: workspaceId }, account.token))).toBe(expected);
    }
    expect(await stack.deps.db.invite.count({ where: { workspaceId, email: { startsWith: "nope-" } } })).toBe(0);
    expect(ok(await gql(stack.url, PREVIEW, { token: pending.inviteToken })).invitePreview.status).toBe("PENDING");
    expect(await roleIn(editor)).toBe("editor");
  });
});

describe("roles and removal", () => {
  it("a role change and a removal take effect on the member's next request", async () => {
    const member = await signUp(stack.url, "Member");
    await invite(stack.url, owner, workspaceId, member, "editor");
    const rename = () => gql(stack.url, `mutation($input: UpdateWorkflowInput!) { updateWorkflow(input: $input) { id } }`, { input: { id: workflowId, name: "Members flow" } }, member.token);
    expect(codeOf(await rename())).toBe("OK"); // the editor role is now cached
    expect(ok(await gql(stack.url, SET_ROLE, { input: { workspaceId, userId: member.userId, role: "viewer" } }, owner.token)).setMemberRole.role).toBe("viewer");
    expect(codeOf(await rename())).toBe("FORBIDDEN");
    expect(ok(await gql(stack.url, REMOVE, { input: { workspaceId, userId: member.userId } }, owner.token)).removeMember.role).toBe("viewer");
    expect(codeOf(await gql(stack.url, `query($id: ID!) { workflow(id: $id) { id } }`, { id: workflowId }, member.token))).toBe("NOT_FOUND");
    expect(codeOf(await gql(stack.url, SET_ROLE, { input: { workspaceId, userId: member.userId, role: "editor" } }, owner.token))).toBe("NOT_FOUND");
  });

  it("the last owner can neither be demoted nor removed (CONFLICT LAST_OWNER); with two owners, one may leave", async () => {
    const solo = await signUp(stack.url, "Solo");
    for (const result of [
      await gql(stack.url, SET_ROLE, { input: { workspaceId: solo.workspaceId, userId: solo.userId, role: "editor" } }, solo.token),
      await gql(stack.url, REMOVE, { input: { workspaceId: solo.workspaceId, userId: solo.userId } }, solo.token),
    ]) {
      expect(codeOf(result)).toBe("CONFLICT");
      expect(result.errors![0]!.message).toMatch(/needs an owner/);
      expect(result.errors![0]!.extensions!.reason).toBe("LAST_OWNER");
    }
    // Two owners demoting each other at once: one of them stays owner.
    const second = await signUp(stack.url, "Second");
    await invite(stack.url, solo, solo.workspaceId, second, "owner");
    const results = await Promise.all([
      gql(stack.url, SET_ROLE, { input: { workspaceId: solo.workspaceId, userId: second.userId, role: "viewer" } }, solo.token),
      gql(stack.url, SET_ROLE, { input: { workspaceId: solo.workspaceId, userId: solo.userId, role: "viewer" } }, second.token),
    ]);
    expect(results.map(codeOf).sort()).toEqual(["CONFLICT", "OK"]);
    const owners = await stack.deps.db.membership.findMany({ where: { workspaceId: solo.workspaceId, role: "owner" }, select: { userId: true } });
    expect(owners).toHaveLength(1);
    // The remaining owner makes the other an owner again, then leaves; their next request is refused.
    const [stays, leaves] = owners[0]!.userId === solo.userId ? [second, solo] : [solo, second];
    ok(await gql(stack.url, SET_ROLE, { input: { workspaceId: solo.workspaceId, userId: stays.userId, role: "owner" } }, leaves.token));
    ok(await gql(stack.url, REMOVE, { input: { workspaceId: solo.workspaceId, userId: leaves.userId } }, leaves.token));
    expect(codeOf(await gql(stack.url, `query($id: ID!) { workspace(id: $id) { id } }`, { id: solo.workspaceId }, leaves.token))).toBe("NOT_FOUND");
  });
});

describe("REST", () => {
  it("invites, accept, role and removal through /api answer as GraphQL does", async () => {
    const email = newEmail("rest");
    const created = await rest(stack.url, "POST", `/api/workspaces/${workspaceId}/invites`, { token: owner.token, json: { email, role: "viewer" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ invite: { email, role: "viewer", status: "PENDING", invitedBy: { name: "Owner" } }, url: expect.stringContaining(`/invite/${created.body.token}`) });
    const listed = await rest(stack.url, "GET", `/api/workspaces/${workspaceId}/invites`, { token: owner.token });
    expect(listed.body.items.map((item: { email: string }) => item.email)).toContain(email);
    expect((await rest(stack.url, "GET", `/api/workspaces/${workspaceId}/invites`, { token: editor.token })).status).toBe(403);
    // The members route still wants an account (an unknown email is 404, naming the invites route).
    const unknown = await rest(stack.url, "POST", `/api/workspaces/${workspaceId}/members`, { token: owner.token, json: { email: newEmail("nobody"), role: "viewer" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain("/invites");

    const joiner = await signUpAs(email, "Rest joiner");
    const accepted = await rest(stack.url, "POST", "/api/invites/accept", { token: joiner.token, json: { token: created.body.token } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id: workspaceId, role: "viewer" });
    expect((await rest(stack.url, "POST", "/api/invites/accept", { token: joiner.token, json: { token: created.body.token } })).status).toBe(409);

    const patched = await rest(stack.url, "PATCH", `/api/workspaces/${workspaceId}/members/${joiner.userId}`, { token: owner.token, json: { role: "editor" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ userId: joiner.userId, role: "editor" });
    expect((await rest(stack.url, "PATCH", `/api/workspaces/${workspaceId}/members/${joiner.userId}`, { token: owner.token, json: { role: "admin" } })).status).toBe(400);
    expect((await rest(stack.url, "DELETE", `/api/workspaces/${workspaceId}/members/${joiner.userId}`, { token: owner.token })).status).toBe(200);
    expect((await rest(stack.url, "GET", `/api/workspaces/${workspaceId}/members`, { token: joiner.token })).status).toBe(404);
    const lastOwner = await rest(stack.url, "DELETE", `/api/workspaces/${workspaceId}/members/${owner.userId}`, { token: owner.token });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.details).toMatchObject({ reason: "LAST_OWNER" });

    const pending = await rest(stack.url, "POST", `/api/workspaces/${workspaceId}/invites`, { token: owner.token, json: { email: newEmail("revoked"), role: "viewer" } });
    const revoked = await rest(stack.url, "DELETE", `/api/invites/${pending.body.invite.id}`, { token: owner.token });
    expect(revoked.body).toMatchObject({ id: pending.body.invite.id, status: "REVOKED" });
  });
});
