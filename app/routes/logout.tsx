import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { execute } from "~/lib/graphql.server";
import { END_SESSION } from "~/lib/operations";
import { clearedSessionCookie } from "~/lib/session.server";

/**
 * POST only: a GET (a link, a prefetch, an <img>) must not be able to sign anyone out. Ends the session on the
 * server (its token stops working everywhere), then clears the cookie — also when the session had already ended.
 */
export const action = async ({ request, context }: ActionFunctionArgs) => {
  await execute(context, request, END_SESSION);
  return redirect("/login", { headers: { "Set-Cookie": clearedSessionCookie(request) } });
};

export const loader = () => redirect("/login");
