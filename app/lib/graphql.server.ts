import { redirect, type AppLoadContext } from "@remix-run/node";
import { toApiError, type Result } from "./errors";
import type { Operation } from "./operations";

/** Runs an operation in-process as the request's user (the server forwards the session cookie). */
export async function execute<Data, Variables extends Record<string, unknown>>(
  context: AppLoadContext,
  request: Request,
  operation: Operation<Data, Variables>,
  variables?: Variables,
): Promise<Result<Data>> {
  const response = await context.graphql<Data>(request, operation.query, variables);
  if (response.errors?.length || !response.data) return { ok: false, error: toApiError(response.errors) };
  return { ok: true, data: response.data };
}

/**
 * For loaders of signed-in pages: the data, or a thrown redirect to /login (UNAUTHENTICATED) or an error
 * response the route's error boundary shows (NOT_FOUND → 404, anything else → 500).
 */
export async function requireData<Data, Variables extends Record<string, unknown>>(
  context: AppLoadContext,
  request: Request,
  operation: Operation<Data, Variables>,
  variables?: Variables,
): Promise<Data> {
  const result = await execute(context, request, operation, variables);
  if (result.ok) return result.data;
  const { code, message } = result.error;
  if (code === "UNAUTHENTICATED") {
    const url = new URL(request.url);
    throw redirect(`/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
  }
  const status = code === "NOT_FOUND" ? 404 : code === "FORBIDDEN" ? 403 : 500;
  throw new Response(message, { status, statusText: code });
}

/** Only same-site relative paths, so a crafted ?redirectTo= cannot send the user elsewhere. */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/workflows"): string {
  if (typeof to !== "string" || !to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  return to;
}
