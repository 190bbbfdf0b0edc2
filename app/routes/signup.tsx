import { SignUpInput } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { Field } from "~/components/Field";
import { authAction, redirectIfSignedIn, type AuthActionData } from "~/lib/auth-form.server";
import { SIGN_UP } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Sign up · Algorythmos Studio" }];

export const loader = ({ context, request }: LoaderFunctionArgs) => redirectIfSignedIn(context, request);

export const action = ({ context, request }: ActionFunctionArgs) => authAction(context, request, SignUpInput, SIGN_UP);

export default function SignUp() {
  const data = useActionData<typeof action>() as AuthActionData | undefined;
  const busy = useNavigation().state === "submitting";
  return (
    <main className="page narrow">
      <h1>Sign up</h1>
      <Form method="post" className="stack" noValidate>
        {data?.error ? (
          <p className="form-error" role="alert">
            {data.error}
          </p>
        ) : null}
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
        <button type="submit" className="primary" disabled={busy}>
          Sign up
        </button>
      </Form>
      <p>
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </main>
  );
}
