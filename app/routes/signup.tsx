import { SignUpInput } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useSearchParams } from "@remix-run/react";
import { AuthForm } from "~/components/AuthForm";
import { Field } from "~/components/Field";
import { authAction, redirectIfSignedIn } from "~/lib/auth-form.server";
import { acceptInviteAndGo, inviteTokenOf } from "~/lib/invites.server";
import { SIGN_UP } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Sign up · Algorythmos Studio" }];

export const loader = ({ context, request }: LoaderFunctionArgs) => redirectIfSignedIn(context, request);

export const action = ({ context, request }: ActionFunctionArgs) => {
  // From an invite link (/invite/<token>): the account joins that workspace right after, and lands in it.
  const invite = inviteTokenOf(request);
  return authAction(context, request, SignUpInput, SIGN_UP, invite ? (signedIn) => acceptInviteAndGo(context, signedIn, invite) : undefined);
};

export default function SignUp() {
  const [params] = useSearchParams();
  // From an invite link: the invited email is filled in, and "Log in" keeps the invite.
  const invitedEmail = params.get("invite") ? (params.get("email") ?? undefined) : undefined;
  const loginHref = params.get("invite") || params.get("redirectTo") ? `/login?${params}` : "/login";
  return (
    <AuthForm
      title="Sign up"
      fields={(data) => (
        <>
          {invitedEmail ? <p className="muted small">Once you sign up with {invitedEmail} you join the workspace you were invited to.</p> : null}
          <Field label="Name" name="name" autoComplete="name" required defaultValue={data?.values.name} error={data?.fields.name} />
          <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={data?.values.email ?? invitedEmail} error={data?.fields.email} />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            error={data?.fields.password}
          />
        </>
      )}
      footer={
        <>
          Already have an account? <Link to={loginHref}>Log in</Link>
        </>
      }
    />
  );
}
