import { ROLES } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { createWorkspace } from "../../services/workspaces.js";
import { getMe, getMyWorkspace, listMyWorkspaces, type UserView, type WorkspaceView } from "../../services/users.js";

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

const CreateWorkspaceInput = builder.inputType("CreateWorkspaceInput", {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.queryField("workspace", (t) =>
  t.field({
    type: WorkspaceRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => getMyWorkspace(ctx.deps, ctx.caller, String(args.id)),
  }),
);

builder.queryField("me", (t) =>
  t.field({ type: UserRef, description: "The signed-in user.", resolve: (_root, _args, ctx) => getMe(ctx.deps, ctx.caller) }),
);

builder.mutationFields((t) => ({
  createWorkspace: t.field({
    type: WorkspaceRef,
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWorkspace(ctx.deps, ctx.caller, input),
  }),
}));
