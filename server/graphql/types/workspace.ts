import type { CredentialType } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { createCredential, deleteCredential, listCredentials, type CredentialView } from "../../services/credentials.js";
import { inviteMember, listMembers, removeMember, type MemberView } from "../../services/workspaces.js";
import { seenBy, viewerOf, type Viewed } from "../viewer.js";
import { RoleEnum, UserRef, WorkspaceRef } from "./user.js";

const MemberRef = builder.objectRef<MemberView & Viewed>("Member").implement({
  description: "An account's membership of a workspace.",
  fields: (t) => ({
    user: t.field({ type: UserRef, description: "The member's account.", resolve: (member) => seenBy({ id: member.userId, email: member.email, name: member.name }, member.viewer) }),
    role: t.field({ type: RoleEnum, description: "What the member may do here.", resolve: (member) => member.role }),
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
}));

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  description: "An account to add to a workspace, or a member's new role.",
  fields: (t) => ({
    workspaceId: t.id({ required: true, description: "The workspace (owners only)." }),
    email: t.string({ required: true, description: "The email of an existing account." }),
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

builder.mutationFields((t) => ({
  inviteMember: t.field({
    type: MemberRef,
    description: "Adds an existing account to the workspace with a role, or changes a member's role (owners only).",
    args: { input: t.arg({ type: InviteMemberInput, required: true, description: "The workspace, the account and the role." }) },
    resolve: (_root, { input }, ctx) => inviteMember(ctx.deps, ctx.caller, input),
  }),
  removeMember: t.field({
    type: MemberRef,
    description: "Removes a member (owners only); their open subscriptions on the workspace end with FORBIDDEN. Returns the membership as it was.",
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
