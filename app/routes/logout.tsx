import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { clearedSessionCookie } from "~/lib/session.server";

export const action = ({ request }: ActionFunctionArgs) =>
  redirect("/login", { headers: { "Set-Cookie": clearedSessionCookie(request) } });

export const loader = () => redirect("/workflows");
