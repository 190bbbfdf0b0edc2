import { redirect } from "@remix-run/node";

/** The workflow list is home; its loader sends signed-out visitors to /login. */
export const loader = () => redirect("/workflows");
