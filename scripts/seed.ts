/** The demo `npm start` seeds once: a user, their workspace and a two-step HTTP workflow. */
import type { WorkflowDefinition } from "@algorythmos/domain";
import type { ServerDeps } from "../server/context.js";
import { signUp } from "../server/services/users.js";
import { insertWorkflow } from "../server/services/workflows.js";

export const DEMO_LOGIN = { email: "demo@algorythmos.dev", password: "demo-password" };

export function demoDefinition(studioUrl: string): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: "Check the studio's health",
    description: "A manual trigger, then an HTTP request to the studio's own /healthz.",
    settings: {},
    steps: [
      { id: "start", type: "trigger.manual", name: "Start", config: {}, position: { x: 0, y: 0 } },
      {
        id: "health",
        type: "http.request",
        name: "GET /healthz",
        config: { method: "GET", url: `${studioUrl}/healthz`, headers: {}, timeoutMs: 10_000 },
        position: { x: 280, y: 0 },
      },
    ],
    edges: [{ id: "start-health", source: "start", target: "health" }],
  };
}

export async function seedDemo(deps: ServerDeps, studioUrl: string): Promise<void> {
  if (await deps.db.user.findUnique({ where: { email: DEMO_LOGIN.email }, select: { id: true } })) return;
  const { user } = await signUp(deps, { principal: null, ip: null }, { ...DEMO_LOGIN, name: "Demo User" });
  const membership = await deps.db.membership.findFirstOrThrow({ where: { userId: user.id }, select: { workspaceId: true } });
  await deps.db.workspace.update({ where: { id: membership.workspaceId }, data: { name: "Demo workspace" } });
  await insertWorkflow(deps.db, membership.workspaceId, demoDefinition(studioUrl));
}
