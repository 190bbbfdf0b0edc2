import { redirect, type AppLoadContext } from "@remix-run/node";
import type { z } from "zod";
import type { ApiError } from "./errors";
import { execute, safeRedirect } from "./graphql.server";
import { ME, type Operation } from "./operations";
import { SESSION_COOKIE, sessionCookie } from "./session.server";

export interface AuthActionData {
  error: string | null;
  fields: Record<string, string>;
  values: Record<string, string>;
}

/** Signed-in visitors of /login and /signup go straight to their workflows. */
export async function redirectIfSignedIn(context: AppLoadContext, request: Request) {
  const result = await execute(context, request, ME);
  if (result.ok) throw redirect("/workflows");
  return null;
}

/**
 * logIn and signUp share one flow: validate with the domain schema (the API validates again), call the
 * mutation, store the token in the httpOnly cookie and redirect; or return messages for the form.
 */
export async function authAction<Input extends Record<string, string>>(
  context: AppLoadContext,
  request: Request,
  schema: z.ZodType<Input>,
  mutation: Operation<Record<string, { token: string }>, { input: Input }>,
  /**
   * Runs as the account just signed in (its request carries the new session), before the redirect; returns
   * where to go instead of `redirectTo`. An invite link accepted right after sign-up or log-in uses it.
   */
  afterAuth?: (signedIn: Request) => Promise<string>,
): Promise<AuthActionData | Response> {
  const form = await request.formData();
  const values = Object.fromEntries([...form.entries()].map(([k, v]) => [k, typeof v === "string" ? v : ""]));
  const { password: _password, ...echo } = values; // never send the password back into the page
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "");
      fields[key] ??= issue.message;
    }
    return { error: null, fields, values: echo };
  }
  const result = await execute(context, request, mutation, { input: parsed.data });
  if (!result.ok) return failure(result.error, echo);
  const token = Object.values(result.data)[0]?.token;
  if (!token) return { error: "The server did not return a session", fields: {}, values: echo };
  let to = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  if (afterAuth) {
    const headers = new Headers(request.headers);
    headers.set("cookie", `${SESSION_COOKIE}=${encodeURIComponent(token)}`);
    to = safeRedirect(await afterAuth(new Request(request.url, { method: request.method, headers })), to);
  }
  return redirect(to, {
    headers: { "Set-Cookie": sessionCookie(request, token) },
  });
}

function failure(error: ApiError, values: Record<string, string>): AuthActionData {
  const hasFields = Object.keys(error.fields).length > 0;
  return { error: hasFields ? null : error.message, fields: error.fields, values };
}
