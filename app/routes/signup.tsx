import { SignUpInput } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { AuthForm } from "~/components/AuthForm";
import { Field } from "~/components/Field";
import { authAction, redirectIfSignedIn } from "~/lib/auth-form.server";
import { SIGN_UP } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Sign up · Algorythmos Studio" }];

export const loader = ({ context, request }: LoaderFunctionArgs) => redirectIfSignedIn(context, request);

export const action = ({ context, request }: ActionFunctionArgs) => authAction(context, request, SignUpInput, SIGN_UP);

export default function SignUp() {
  return (
    <AuthForm
      title="Sign up"
      fields={(data) => (
        <>
          <Field label="Name" name="name" autoComplete="name" required defaultValue={data?.values.name} error={data?.fields.name} />
          <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={data?.values.email} error={data?.fields.email} />
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
          Already have an account? <Link to="/login">Log in</Link>
        </>
      }
    />
  );
}
