import { LogInInput } from "@algorythmos/domain";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { Field } from "~/components/Field";
import { authAction, redirectIfSignedIn, type AuthActionData } from "~/lib/auth-form.server";
import { LOG_IN } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Log in · Algorythmos Studio" }];

export const loader = ({ context, request }: LoaderFunctionArgs) => redirectIfSignedIn(context, request);

export const action = ({ context, request }: ActionFunctionArgs) => authAction(context, request, LogInInput, LOG_IN);

export default function LogIn() {
  const data = useActionData<typeof action>() as AuthActionData | undefined;
  const busy = useNavigation().state === "submitting";
  const [params] = useSearchParams();
  const signupHref = params.get("redirectTo") ? `/signup?${params}` : "/signup";
  return (
    <main className="page narrow">
      <h1>Log in</h1>
      <Form method="post" className="stack" noValidate>
        {data?.error ? (
          <p className="form-error" role="alert">
            {data.error}
          </p>
        ) : null}
        <Field label="Email" name="email" type="email" autoComplete="email" required defaultValue={data?.values.email} error={data?.fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={data?.fields.password} />
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
      </Form>
      <p>
        New here? <Link to={signupHref}>Create an account</Link>
      </p>
    </main>
  );
}
