import { LogInInput } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useSearchParams } from "@remix-run/react";
import { AuthForm } from "~/components/AuthForm";
import { Field } from "~/components/Field";
import { authAction, redirectIfSignedIn } from "~/lib/auth-form.server";
import { acceptInviteAndGo, inviteTokenOf } from "~/lib/invites.server";
import { LOG_IN } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Log in · Algorythmos Studio" }];

export const loader = ({ context, request }: LoaderFunctionArgs) => redirectIfSignedIn(context, request);

export const action = ({ context, request }: ActionFunctionArgs) => {
  // From an invite link (/invite/<token>): the account joins that workspace right after, and lands in it.
  const invite = inviteTokenOf(request);
  return authAction(context, request, LogInInput, LOG_IN, invite ? (signedIn) => acceptInviteAndGo(context, signedIn, invite) : undefined);
};

export default function LogIn() {
  const [params] = useSearchParams();
  // Keep where the visitor was going if they sign up instead.
  const signupHref = params.get("redirectTo") || params.get("invite") ? `/signup?${params}` : "/signup";
  const invitedEmail = params.get("invite") ? (params.get("email") ?? undefined) : undefined;
  return (
    <AuthForm
      title="Log in"
      fields={(data) => (
        <>
          <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={data?.values.email ?? invitedEmail} error={data?.fields.email} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required error={data?.fields.password} />
        </>
      )}
      footer={
        <>
          New here? <Link to={signupHref}>Create an account</Link>
        </>
      }
    />
  );
}
