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

const REDIRECT_BASE = "http://studio.invalid";
/** Control characters, whitespace and backslashes: browsers drop tab/CR/LF from URLs and read "\\" as "/". */
const UNSAFE_IN_REDIRECT = /[\u0000-\u0020\u007f\\\s]/u;

/**
 * Only a path on this site, so a crafted ?redirectTo= cannot send the user elsewhere (`/\t/evil.example` is
 * `//evil.example` to a browser). The path is resolved as a browser would and answered normalised; anything
 * odd falls back rather than being repaired.
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/workflows"): string {
  if (typeof to !== "string" || !to.startsWith("/") || UNSAFE_IN_REDIRECT.test(to)) return fallback;
  let url: URL;
  try {
    url = new URL(to, REDIRECT_BASE);
  } catch {
    return fallback;
  }
  const path = url.pathname + url.search + url.hash;
  // Dot segments can normalise to "//host" (`/.//evil.example`), which a browser reads as another site.
  return url.origin === REDIRECT_BASE && !path.startsWith("//") ? path : fallback;
}
