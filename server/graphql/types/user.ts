import { ROLES } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { createWorkspace } from "../../services/workspaces.js";
import { getMe, listMyWorkspaces, logIn, signUp, type AuthPayload, type UserView, type WorkspaceView } from "../../services/users.js";

export const RoleEnum = builder.enumType("Role", { values: ROLES });

export const WorkspaceRef = builder.objectRef<WorkspaceView>("Workspace").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.field({ type: RoleEnum, description: "The caller's role here.", resolve: (w) => w.role }),
  }),
});

export const UserRef = builder.objectRef<UserView>("User").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
    workspaces: t.field({
      type: [WorkspaceRef],
      resolve: (_user, _args, ctx) => listMyWorkspaces(ctx.deps, ctx.caller),
    }),
  }),
});

const AuthPayloadRef = builder.objectRef<AuthPayload>("AuthPayload").implement({
  fields: (t) => ({
    token: t.exposeString("token", { description: "A bearer token (JWT) for the Authorization header." }),
    user: t.field({ type: UserRef, resolve: (payload) => payload.user }),
  }),
});

const SignUpInput = builder.inputType("SignUpInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    name: t.string({ required: true }),
  }),
});

const LogInInput = builder.inputType("LogInInput", {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});

const CreateWorkspaceInput = builder.inputType("CreateWorkspaceInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.queryField("me", (t) =>
  t.field({ type: UserRef, description: "The signed-in user.", resolve: (_root, _args, ctx) => getMe(ctx.deps, ctx.caller) }),
);

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayloadRef,
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: (_root, { input }, ctx) => signUp(ctx.deps, input),
  }),
  logIn: t.field({
    type: AuthPayloadRef,
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: (_root, { input }, ctx) => logIn(ctx.deps, input),
  }),
  createWorkspace: t.field({
    type: WorkspaceRef,
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWorkspace(ctx.deps, ctx.caller, input),
  }),
}));
