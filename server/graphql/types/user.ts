import { ROLES } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { forbidden } from "../../errors.js";
import { seenBy, viewerOf, type Viewed } from "../viewer.js";
import { createWorkspace } from "../../services/workspaces.js";
import { getMe, getMyWorkspace, listMyWorkspaces, type UserView, type WorkspaceView } from "../../services/users.js";

export const RoleEnum = builder.enumType("Role", { values: ROLES });

export const WorkspaceRef = builder.objectRef<WorkspaceView & Viewed>("Workspace").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.field({ type: RoleEnum, description: "The caller's role here.", resolve: (w) => w.role }),
  }),
});

export const UserRef = builder.objectRef<UserView & Viewed>("User").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
    workspaces: t.field({
      type: [WorkspaceRef],
      resolve: async (user, _args, ctx) => {
        const viewer = viewerOf(user, ctx);
        if (viewer.principal && viewer.principal.userId !== user.id) throw forbidden("Only your own workspaces are listed");
        return (await listMyWorkspaces(ctx.deps, viewer)).map((workspace) => seenBy(workspace, user.viewer));
      },
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
