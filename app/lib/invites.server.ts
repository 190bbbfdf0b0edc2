import type { AppLoadContext } from "@remix-run/node";
import { execute } from "./graphql.server";
import { ACCEPT_INVITE } from "./operations";

/** The invite token a sign-up or log-in came with (`?invite=`), if any. */
export const inviteTokenOf = (request: Request) => new URL(request.url).searchParams.get("invite")?.trim() || null;

/**
 * Accepts an invite as the signed-in account of `request`: where to go next — the workspace joined, or back
 * to the invite's page, which says why it could not be accepted (used, expired, another email).
 */
export async function acceptInviteAndGo(context: AppLoadContext, request: Request, token: string): Promise<string> {
  const result = await execute(context, request, ACCEPT_INVITE, { input: { token } });
  return result.ok ? `/workflows?workspace=${encodeURIComponent(result.data.acceptInvite.id)}` : `/invite/${encodeURIComponent(token)}?failed=1`;
}
