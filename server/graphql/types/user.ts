import type { Role } from "@algorythmos/domain";
import { builder } from "../builder.js";
import { forbidden } from "../../errors.js";
import { seenBy, viewerOf, type Viewed } from "../viewer.js";
import { createWorkspace } from "../../services/workspaces.js";
import { getMe, getMyWorkspace, listMyWorkspaces, type UserView, type WorkspaceView } from "../../services/users.js";

export const RoleEnum = builder.enumType("Role", {
  description: "What a member may do in a workspace.",
  values: {
    owner: { description: "Reads, writes, and manages members and credentials." },
    editor: { description: "Reads and writes workflows, runs them, manages credentials." },
    viewer: { description: "Reads workflows and runs; writes nothing." },
  } satisfies Record<Role, { description: string }>,
});

export const WorkspaceRef = builder.objectRef<WorkspaceView & Viewed>("Workspace").implement({
  description: "A team's space: its workflows, runs, credentials and members.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The workspace's id (`ws_…`)." }),
    name: t.exposeString("name", { description: "The workspace's name." }),
    role: t.field({ type: RoleEnum, description: "The caller's role here.", resolve: (w) => w.role }),
  }),
});

export const UserRef = builder.objectRef<UserView & Viewed>("User").implement({
  description: "An account.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The account's id (`usr_…`)." }),
    email: t.exposeString("email", { description: "The email the account signs in with." }),
    name: t.exposeString("name", { description: "The name shown to other members." }),
    workspaces: t.field({
      type: [WorkspaceRef],
      description: "The workspaces this account belongs to, oldest first. Only your own: FORBIDDEN for another user's.",
      resolve: async (user, _args, ctx) => {
        const viewer = viewerOf(user, ctx);
        if (viewer.principal && viewer.principal.userId !== user.id) throw forbidden("Only your own workspaces are listed");
        return (await listMyWorkspaces(ctx.deps, viewer)).map((workspace) => seenBy(workspace, user.viewer));
      },
    }),
  }),
});

const CreateWorkspaceInput = builder.inputType("CreateWorkspaceInput", {
  description: "A new workspace; the caller becomes its owner.",
  fields: (t) => ({ name: t.string({ required: true, description: "The workspace's name." }) }),
});

builder.queryField("workspace", (t) =>
  t.field({
    type: WorkspaceRef,
    description: "One of the caller's workspaces (NOT_FOUND for any other).",
    args: { id: t.arg.id({ required: true, description: "The workspace's id." }) },
    resolve: (_root, args, ctx) => getMyWorkspace(ctx.deps, ctx.caller, String(args.id)),
  }),
);

builder.queryField("me", (t) =>
  t.field({ type: UserRef, description: "The signed-in user.", resolve: (_root, _args, ctx) => getMe(ctx.deps, ctx.caller) }),
);

builder.mutationFields((t) => ({
  createWorkspace: t.field({
    type: WorkspaceRef,
    description: "Creates a workspace owned by the caller.",
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true, description: "The new workspace." }) },
    resolve: (_root, { input }, ctx) => createWorkspace(ctx.deps, ctx.caller, input),
  }),
}));
