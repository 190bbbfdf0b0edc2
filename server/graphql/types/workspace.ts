import { CREDENTIAL_TYPE_NAMES } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { createCredential, deleteCredential, listCredentials, type CredentialView } from "../../services/credentials.js";
import { inviteMember, listMembers, removeMember, type MemberView } from "../../services/workspaces.js";
import { seenBy, viewerOf, type Viewed } from "../viewer.js";
import { RoleEnum, UserRef, WorkspaceRef } from "./user.js";

const MemberRef = builder.objectRef<MemberView & Viewed>("Member").implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (member) => seenBy({ id: member.userId, email: member.email, name: member.name }, member.viewer) }),
    role: t.field({ type: RoleEnum, resolve: (member) => member.role }),
  }),
});

const CredentialTypeEnum = builder.enumType("CredentialType", { values: CREDENTIAL_TYPE_NAMES });

const CredentialRef = builder.objectRef<CredentialView>("Credential").implement({
  description: "A stored secret, by name and type. The secret itself is never readable back.",
  fields: (t) => ({
    id: t.exposeID("id"),
    workspaceId: t.exposeID("workspaceId"),
    name: t.exposeString("name"),
    type: t.field({ type: CredentialTypeEnum, resolve: (credential) => credential.type as never }),
    createdAt: t.field({ type: "DateTime", resolve: (credential) => credential.createdAt }),
  }),
});

builder.objectFields(WorkspaceRef, (t) => ({
  members: t.field({
    type: [MemberRef],
    resolve: async (workspace, _args, ctx) => (await listMembers(ctx.deps, viewerOf(workspace, ctx), workspace.id)).map((member) => seenBy(member, workspace.viewer)),
  }),
  credentials: t.field({ type: [CredentialRef], resolve: (workspace, _args, ctx) => listCredentials(ctx.deps, viewerOf(workspace, ctx), workspace.id) }),
}));

const InviteMemberInput = builder.inputType("InviteMemberInput", {
  fields: (t) => ({ workspaceId: t.id({ required: true }), email: t.string({ required: true }), role: t.field({ type: RoleEnum, required: true }) }),
});
const RemoveMemberInput = builder.inputType("RemoveMemberInput", {
  fields: (t) => ({ workspaceId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const CreateCredentialInput = builder.inputType("CreateCredentialInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true }),
    type: t.field({ type: CredentialTypeEnum, required: true }),
    secret: t.field({ type: "JSON", required: true, description: "openai: { apiKey, baseURL? }; postmark: { serverToken }; httpHeader: { headerName, headerValue }" }),
  }),
});

builder.queryField("credentials", (t) =>
  t.field({
    type: [CredentialRef],
    args: { workspaceId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => listCredentials(ctx.deps, ctx.caller, String(args.workspaceId)),
  }),
);

builder.mutationFields((t) => ({
  inviteMember: t.field({
    type: MemberRef,
    description: "Adds an existing account to the workspace with a role, or changes a member's role (owners only).",
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => inviteMember(ctx.deps, ctx.caller, input),
  }),
  removeMember: t.field({
    type: MemberRef,
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => removeMember(ctx.deps, ctx.caller, String(input.workspaceId), String(input.userId)),
  }),
  createCredential: t.field({
    type: CredentialRef,
    args: { input: t.arg({ type: CreateCredentialInput, required: true }) },
    resolve: (_root, { input }, ctx) => createCredential(ctx.deps, ctx.caller, input),
  }),
  deleteCredential: t.field({
    type: CredentialRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => deleteCredential(ctx.deps, ctx.caller, String(args.id)),
  }),
}));
