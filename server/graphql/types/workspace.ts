import type { CredentialType } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { createCredential, deleteCredential, listCredentials, type CredentialView } from "../../services/credentials.js";
import { acceptInvite, inviteMemberOrLink, listInvites, previewInvite, revokeInvite, type InviteMemberResult, type InvitePreview, type InviteStatus, type InviteView } from "../../services/invites.js";
import { listMembers, removeMember, setMemberRole, type MemberView } from "../../services/workspaces.js";
import { seenBy, viewerOf, type Viewed } from "../viewer.js";
import { RoleEnum, UserRef, WorkspaceRef } from "./user.js";

const MemberRef = builder.objectRef<MemberView & Viewed>("Member").implement({
  description: "An account's membership of a workspace.",
  fields: (t) => ({
    user: t.field({ type: UserRef, description: "The member's account.", resolve: (member) => seenBy({ id: member.userId, email: member.email, name: member.name }, member.viewer) }),
    role: t.field({ type: RoleEnum, description: "What the member may do here.", resolve: (member) => member.role }),
  }),
});

const InviteStatusEnum = builder.enumType("InviteStatus", {
  description: "Whether an invite link still works.",
  values: {
    PENDING: { description: "Not used yet and not expired: the link works." },
    EXPIRED: { description: "Past its expiry (7 days after it was made): invite again for a new link." },
    ACCEPTED: { description: "Used: someone joined with it (a link works once)." },
    REVOKED: { description: "Withdrawn by an owner, or replaced by a newer link to the same email." },
  } satisfies Record<InviteStatus, { description: string }>,
});

const InviteRef = builder.objectRef<InviteView & Viewed>("Invite").implement({
  description: "An invite link for someone without an account (or not signed in yet): joins them with a role once they sign up or log in with its email.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The invite's id (`inv_…`); its link's token is never readable back." }),
    workspaceId: t.exposeID("workspaceId", { description: "The workspace it joins." }),
    email: t.exposeString("email", { description: "The email the account accepting it must use." }),
    role: t.field({ type: RoleEnum, description: "The role it gives.", resolve: (invite) => invite.role }),
    status: t.field({ type: InviteStatusEnum, description: "Whether the link still works.", resolve: (invite) => invite.status }),
    createdAt: t.field({ type: "DateTime", description: "When it was made.", resolve: (invite) => invite.createdAt }),
    expiresAt: t.field({ type: "DateTime", description: "When the link stops working.", resolve: (invite) => invite.expiresAt }),
    invitedBy: t.field({
      type: UserRef,
      nullable: true,
      description: "Who made it (null once that account is deleted).",
      resolve: (invite) => (invite.invitedBy ? seenBy(invite.invitedBy, invite.viewer) : null),
    }),
  }),
});

const InviteMemberPayloadRef = builder.objectRef<InviteMemberResult & Viewed>("InviteMemberPayload").implement({
  description:
    "What inviteMember did: an email an account uses joined at once (`user` set); any other email got an invite link (`invite`, `inviteUrl` and `inviteToken` set, shown only here).",
  fields: (t) => ({
    role: t.field({ type: RoleEnum, description: "The role given, or to be given once the invite is accepted.", resolve: (result) => result.role }),
    user: t.field({
      type: UserRef,
      nullable: true,
      description: "The account that is now a member; null when no account uses the email (see `invite`).",
      resolve: (result) => (result.member ? seenBy({ id: result.member.userId, email: result.member.email, name: result.member.name }, result.viewer) : null),
    }),
    invite: t.field({ type: InviteRef, nullable: true, description: "The pending invite, when no account uses the email.", resolve: (result) => (result.created ? seenBy(result.created.invite, result.viewer) : null) }),
    inviteUrl: t.string({
      nullable: true,
      description: "The invite link to send (`<PUBLIC_URL>/invite/<token>`); shown once, single-use, expires with the invite.",
      resolve: (result) => result.created?.url ?? null,
    }),
    inviteToken: t.string({ nullable: true, description: "The link's token, for acceptInvite; shown once.", resolve: (result) => result.created?.token ?? null }),
  }),
});

const InvitePreviewRef = builder.objectRef<InvitePreview>("InvitePreview").implement({
  description: "What an invite link leads to, for whoever holds it (signed in or not).",
  fields: (t) => ({
    workspaceName: t.exposeString("workspaceName", { description: "The workspace it joins." }),
    email: t.exposeString("email", { description: "The email the accepting account must use." }),
    role: t.field({ type: RoleEnum, description: "The role it gives.", resolve: (preview) => preview.role }),
    status: t.field({ type: InviteStatusEnum, description: "Whether the link still works.", resolve: (preview) => preview.status }),
    expiresAt: t.field({ type: "DateTime", description: "When the link stops working.", resolve: (preview) => preview.expiresAt }),
    invitedByName: t.string({ nullable: true, description: "The name of who invited them.", resolve: (preview) => preview.invitedByName }),
  }),
});

const CredentialTypeEnum = builder.enumType("CredentialType", {
  description: "What a credential holds, and so which steps can use it.",
  values: {
    openai: { description: "An OpenAI API key (and optional base URL), for openai.chat steps." },
    postmark: { description: "A Postmark server token, for email.postmark steps." },
    httpHeader: { description: "A header name and value that http.request steps send (e.g. Authorization)." },
  } satisfies Record<CredentialType, { description: string }>,
});

const CredentialRef = builder.objectRef<CredentialView>("Credential").implement({
  description: "A stored secret, by name and type. The secret itself is never readable back.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The credential's id (steps refer to it by this)." }),
    workspaceId: t.exposeID("workspaceId", { description: "The workspace it belongs to." }),
    name: t.exposeString("name", { description: "Its name, unique in the workspace." }),
    type: t.field({ type: CredentialTypeEnum, description: "What it holds.", resolve: (credential) => credential.type as never }),
    createdAt: t.field({ type: "DateTime", description: "When it was stored.", resolve: (credential) => credential.createdAt }),
  }),
});

builder.objectFields(WorkspaceRef, (t) => ({
  members: t.field({
    type: [MemberRef],
    description: "Who belongs to the workspace, with their roles.",
    resolve: async (workspace, _args, ctx) => (await listMembers(ctx.deps, viewerOf(workspace, ctx), workspace.id)).map((member) => seenBy(member, workspace.viewer)),
  }),
  credentials: t.field({ type: [CredentialRef], description: "The workspace's credentials, by name and type.", resolve: (workspace, _args, ctx) => listCredentials(ctx.deps, viewerOf(workspace, ctx), workspace.id) }),
  invites: t.field({
    type: [InviteRef],
    description: "Invites not yet accepted or revoked (expired ones too), newest first. Owners only (FORBIDDEN for others).",
    resolve: async (workspace, _args, ctx) => (await listInvites(ctx.deps, viewerOf(workspace, ctx), workspace.id)).map((invite) => seenBy(invite, workspace.viewer)),
  }),
}));

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  description: "Someone to add to a workspace (an account joins at once; any other email gets an invite link), or a member's new role.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace (owners only)." }),
    email: t.string({ required: true, description: "Their email: an existing account's, or the one they will sign up with." }),
    role: t.field({ type: RoleEnum, required: true, description: "The role to give." }),
  }),
});
const RemoveMemberInput = builder.inputType("RemoveMemberInput", {
  description: "A member to remove from a workspace.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace (owners only)." }),
    userId: t.id({ required: true, description: "The member's account id." }),
  }),
});
const SetMemberRoleInput = builder.inputType("SetMemberRoleInput", {
  description: "A member's new role.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace (owners only)." }),
    userId: t.id({ required: true, description: "The member's account id (yours too, while another owner remains)." }),
    role: t.field({ type: RoleEnum, required: true, description: "The new role." }),
  }),
});
const RevokeInviteInput = builder.inputType("RevokeInviteInput", {
  description: "An invite to withdraw.",
  fields: (t) => ({ inviteId: t.id({ required: true, description: "The invite's id (owners of its workspace only)." }) }),
});
const AcceptInviteInput = builder.inputType("AcceptInviteInput", {
  description: "An invite link to accept, as the signed-in account.",
  fields: (t) => ({ token: t.string({ required: true, description: "The token of the link `/invite/<token>`." }) }),
});
const CreateCredentialInput = builder.inputType("CreateCredentialInput", {
  description: "A secret to store for a workspace's steps.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace (editors and owners)." }),
    name: t.string({ required: true, description: "A name, unique in the workspace." }),
    type: t.field({ type: CredentialTypeEnum, required: true, description: "What the secret is." }),
    secret: t.field({ type: "JSON", required: true, description: "openai: { apiKey, baseURL? }; postmark: { serverToken }; httpHeader: { headerName, headerValue }" }),
  }),
});

builder.queryField("credentials", (t) =>
  t.field({
    type: [CredentialRef],
    description: "A workspace's credentials, by name and type (never their secrets).",
    args: { workspaceId: t.arg.id({ required: true, description: "The workspace's id." }) },
    resolve: (_root, args, ctx) => listCredentials(ctx.deps, ctx.caller, String(args.workspaceId)),
  }),
);

builder.queryField("invitePreview", (t) =>
  t.field({
    type: InvitePreviewRef,
    description: "Where an invite link leads and whether it still works; the token is the only credential (no sign-in needed). NOT_FOUND for a wrong token.",
    args: { token: t.arg.string({ required: true, description: "The token of the link `/invite/<token>`." }) },
    resolve: (_root, args, ctx) => previewInvite(ctx.deps, args.token),
  }),
);

builder.mutationFields((t) => ({
  inviteMember: t.field({
    type: InviteMemberPayloadRef,
    description:
      "Owners only. An email an account uses joins at once with the role (a member's role changes); any other email gets an invite link (`inviteUrl`, shown once; single-use; expires in 7 days) that joins them once they sign up or log in with that email.",
    args: { input: t.arg({ type: InviteMemberInput, required: true, description: "The workspace, the email and the role." }) },
    resolve: (_root, { input }, ctx) => inviteMemberOrLink(ctx.deps, ctx.caller, input),
  }),
  revokeInvite: t.field({
    type: InviteRef,
    description: "Withdraws an invite (owners only): its link stops working at once. CONFLICT if it was already accepted.",
    args: { input: t.arg({ type: RevokeInviteInput, required: true, description: "The invite." }) },
    resolve: (_root, { input }, ctx) => revokeInvite(ctx.deps, ctx.caller, String(input.inviteId)),
  }),
  acceptInvite: t.field({
    type: WorkspaceRef,
    description:
      "Joins the signed-in account to the invite's workspace with its role (the account must use the invited email: FORBIDDEN otherwise). CONFLICT when the link was used, revoked or expired.",
    args: { input: t.arg({ type: AcceptInviteInput, required: true, description: "The invite link's token." }) },
    resolve: (_root, { input }, ctx) => acceptInvite(ctx.deps, ctx.caller, input),
  }),
  setMemberRole: t.field({
    type: MemberRef,
    description: "Changes a member's role (owners only; yours too). CONFLICT (`details.reason` LAST_OWNER) when it would leave the workspace without an owner.",
    args: { input: t.arg({ type: SetMemberRoleInput, required: true, description: "The workspace, the member and the role." }) },
    resolve: (_root, { input }, ctx) => setMemberRole(ctx.deps, ctx.caller, input),
  }),
  removeMember: t.field({
    type: MemberRef,
    description:
      "Removes a member (owners only; yourself too, to leave); their next request is refused and their open subscriptions on the workspace end with FORBIDDEN. CONFLICT (LAST_OWNER) for the last owner. Returns the membership as it was.",
    args: { input: t.arg({ type: RemoveMemberInput, required: true, description: "The workspace and the member." }) },
    resolve: (_root, { input }, ctx) => removeMember(ctx.deps, ctx.caller, String(input.workspaceId), String(input.userId)),
  }),
  createCredential: t.field({
    type: CredentialRef,
    description: "Stores a secret, encrypted (AES-256-GCM); only workers decrypt it.",
    args: { input: t.arg({ type: CreateCredentialInput, required: true, description: "The credential." }) },
    resolve: (_root, { input }, ctx) => createCredential(ctx.deps, ctx.caller, input),
  }),
  deleteCredential: t.field({
    type: CredentialRef,
    description: "Deletes a credential (editors and owners); returns it as it was.",
    args: { id: t.arg.id({ required: true, description: "The credential's id." }) },
    resolve: (_root, args, ctx) => deleteCredential(ctx.deps, ctx.caller, String(args.id)),
  }),
}));
