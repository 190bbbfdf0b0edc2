import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { clearedSessionCookie } from "~/lib/session.server";

/** POST only: a GET (a link, a prefetch, an <img>) must not be able to sign anyone out. */
export const action = ({ request }: ActionFunctionArgs) =>
  redirect("/login", { headers: { "Set-Cookie": clearedSessionCookie(request) } });

export const loader = () => redirect("/login");
