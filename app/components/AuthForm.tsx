import { Form, useActionData, useNavigation } from "@remix-run/react";
import { useState, type ReactNode } from "react";
import type { AuthActionData } from "~/lib/auth-form.server";

interface AuthFormProps {
  /** The page's heading and its submit button's name ("Log in", "Sign up"). */
  title: string;
  /** The form's inputs, given what the action returned (echoed values, messages per field). */
  fields(data: AuthActionData | undefined): ReactNode;
  /** The line under the form that links to the other page. */
  footer: ReactNode;
}

/** The page of /login and /signup: they differ only in their fields and the link between them. */
export function AuthForm({ title, fields, footer }: AuthFormProps) {
  const data = useActionData<AuthActionData>() as AuthActionData | undefined;
  const busy = useNavigation().state === "submitting";
  // "Wrong email or password" is about what was sent: once the person edits a field it no longer applies.
  const [staleError, setStaleError] = useState<string | null>(null);
  const formError = data?.error && data.error !== staleError ? data.error : null;
  return (
    <main className="page narrow">
      <h1>{title}</h1>
      <Form method="post" className="stack" noValidate onInput={() => setStaleError(data?.error ?? null)} onSubmit={() => setStaleError(null)}>
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
        {fields(data)}
        <button type="submit" className="primary" disabled={busy}>
          {title}
        </button>
      </Form>
      <p>{footer}</p>
    </main>
  );
}
