import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { Field } from "~/components/Field";
import { execute, requireData } from "~/lib/graphql.server";
import { CREATE_WORKFLOW, ME, WORKFLOWS } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Workflows · Algorythmos Studio" }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { me } = await requireData(context, request, ME);
  const wanted = new URL(request.url).searchParams.get("workspace");
  const workspace = me.workspaces.find((w) => w.id === wanted) ?? me.workspaces[0] ?? null;
  if (!workspace) return { me, workspace: null, workflows: [] };
  const data = await requireData(context, request, WORKFLOWS, { workspaceId: workspace.id, first: 100 });
  return { me, workspace, workflows: data.workflows.edges.map((edge) => edge.node) };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const name = String(form.get("name") ?? "").trim();
  const workspaceId = String(form.get("workspaceId") ?? "");
  if (!name) return { error: null, fields: { name: "Give the workflow a name" } };
  const result = await execute(context, request, CREATE_WORKFLOW, { input: { workspaceId, name } });
  if (!result.ok) {
    if (result.error.code === "UNAUTHENTICATED") return redirect("/login?redirectTo=/workflows");
    return { error: Object.keys(result.error.fields).length ? null : result.error.message, fields: result.error.fields };
  }
  return redirect(`/workflows/${encodeURIComponent(result.data.createWorkflow.id)}`);
}

export default function Workflows() {
  const { me, workspace, workflows } = useLoaderData<typeof loader>();
  const created = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const creating = navigation.state === "submitting" && navigation.formData?.get("intent") === "create";
  const canCreate = workspace && workspace.role !== "viewer";

  return (
    <>
      <header className="topbar">
        <span className="brand">Algorythmos Studio</span>
        <span className="muted">Signed in as {me.name}</span>
        <Form method="post" action="/logout">
          <button type="submit">Log out</button>
        </Form>
      </header>
      <main className="page">
        <h1>Workflows</h1>
        {me.workspaces.length > 1 ? (
          // A plain GET form, so switching works without JavaScript; with it, changing the select submits.
          <Form method="get" className="inline-form" onChange={(event) => submit(event.currentTarget)}>
            <div className="field">
              <label htmlFor="workspace">Workspace</label>
              <select id="workspace" name="workspace" defaultValue={workspace?.id}>
                {me.workspaces.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name} ({w.role})
                  </option>
                ))}
              </select>
            </div>
            <noscript>
              <button type="submit">Switch</button>
            </noscript>
          </Form>
        ) : workspace ? (
          <p className="muted">Workspace: {workspace.name}</p>
        ) : null}

        {!workspace ? (
          <p className="empty">You are not a member of any workspace yet.</p>
        ) : workflows.length === 0 ? (
          <p className="empty">No workflows yet. Create your first one below.</p>
        ) : (
          <ul className="workflow-list" aria-label="Workflows">
            {workflows.map((workflow) => (
              <li key={workflow.id}>
                <Link to={`/workflows/${workflow.id}`}>{workflow.name}</Link>
                {workflow.description ? <span className="muted"> — {workflow.description}</span> : null}
              </li>
            ))}
          </ul>
        )}

        {canCreate ? (
          <Form method="post" className="card stack" key={workspace.id}>
            <h2>New workflow</h2>
            {created?.error ? (
              <p className="form-error" role="alert">
                {created.error}
              </p>
            ) : null}
            <input type="hidden" name="workspaceId" value={workspace.id} />
            <input type="hidden" name="intent" value="create" />
            <Field label="Workflow name" name="name" required maxLength={200} error={created?.fields.name} />
            <button type="submit" className="primary" disabled={creating}>
              Create workflow
            </button>
          </Form>
        ) : null}
      </main>
    </>
  );
}
