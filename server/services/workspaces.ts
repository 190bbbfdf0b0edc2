import { CreateWorkspaceInput, newId } from "@algorythmos/domain";
import { transaction } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { fromZodError } from "../errors.js";
import { requireUser } from "./access.js";
import type { WorkspaceView } from "./users.js";

export async function createWorkspace(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkspaceView> {
  const userId = requireUser(caller);
  const parsed = CreateWorkspaceInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  return transaction(deps.db, async (tx) => {
    const workspace = await tx.workspace.create({ data: { id: newId("ws"), name: parsed.data.name }, select: { id: true, name: true } });
    await tx.membership.create({ data: { id: newId("mem"), userId, workspaceId: workspace.id, role: "owner" } });
    return { ...workspace, role: "owner" as const };
  });
}
