import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useId, useState, type ChangeEvent } from "react";
import { Field } from "~/components/Field";
import { TopBar } from "~/components/TopBar";
import { execute, requireData } from "~/lib/graphql.server";
import { formatTime } from "~/lib/live";
import { CREATE_WORKFLOW, DELETE_WORKFLOW, DUPLICATE_WORKFLOW, IMPORT_WORKFLOW, ME, WORKFLOWS, type WorkflowSummary } from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Workflows · Algorythmos Studio" }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { me } = await requireData(context, request, ME);
  const wanted = new URL(request.url).searchParams.get("workspace");
  const workspace = me.workspaces.find((w) => w.id === wanted) ?? me.workspaces[0] ?? null;
  if (!workspace) return { me, workspace: null, workflows: [] };
  const data = await requireData(context, request, WORKFLOWS, { workspaceId: workspace.id, first: 100 });
  return { me, workspace, workflows: data.workflows.edges.map((edge) => edge.node) };
}

interface ActionData {
  intent: string;
  error: string | null;
  fields: Record<string, string>;
  message?: string;
}

export async function action({ context, request }: ActionFunctionArgs): Promise<ActionData | Response> {
  const form = await request.formData();
  const intent = String(form.get("intent") ?? "create");
  const workspaceId = String(form.get("workspaceId") ?? "");
  const fail = (error: { code: string; message: string; fields: Record<string, string> }): ActionData | Response => {
    if (error.code === "UNAUTHENTICATED") return redirect("/login?redirectTo=/workflows");
    return { intent, error: Object.keys(error.fields).length ? null : error.message, fields: error.fields };
  };

  if (intent === "duplicate") {
    const result = await execute(context, request, DUPLICATE_WORKFLOW, { id: String(form.get("id") ?? "") });
    return result.ok ? { intent, error: null, fields: {}, message: `Created “${result.data.duplicateWorkflow.name}”` } : fail(result.error);
  }
  if (intent === "delete") {
    const result = await execute(context, request, DELETE_WORKFLOW, { id: String(form.get("id") ?? "") });
    return result.ok ? { intent, error: null, fields: {}, message: `Deleted “${result.data.deleteWorkflow.name}”` } : fail(result.error);
  }
  if (intent === "import") {
    const text = String(form.get("json") ?? "").trim();
    if (!text) return { intent, error: null, fields: { json: "Paste the exported JSON or choose a file" } };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { intent, error: null, fields: { json: "This is not valid JSON" } };
    }
    const result = await execute(context, request, IMPORT_WORKFLOW, { input: { workspaceId, json } });
    if (!result.ok) {
      // Problems inside the imported definition are reported on the JSON field as a whole.
      const detail = Object.values(result.error.fields)[0];
      return { intent, error: null, fields: { json: detail ? `${result.error.message}: ${detail}` : result.error.message } };
    }
    return redirect(`/workflows/${encodeURIComponent(result.data.importWorkflow.id)}`);
  }

  const name = String(form.get("name") ?? "").trim();
  if (!name) return { intent, error: null, fields: { name: "Give the workflow a name" } };
  const result = await execute(context, request, CREATE_WORKFLOW, { input: { workspaceId, name } });
  if (!result.ok) return fail(result.error);
  return redirect(`/workflows/${encodeURIComponent(result.data.createWorkflow.id)}`);
}

export default function Workflows() {
  const { me, workspace, workflows } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as ActionData | undefined;
  const navigation = useNavigation();
  const submit = useSubmit();
  const creating = navigation.state === "submitting" && navigation.formData?.get("intent") === "create";
  const canCreate = workspace && workspace.role !== "viewer";
  const [query, setQuery] = useState("");
  const searchId = useId();
  const needle = query.trim().toLowerCase();
  const shown = needle ? workflows.filter((w) => `${w.name} ${w.description}`.toLowerCase().includes(needle)) : workflows;
  const created = result?.intent === "create" ? result : undefined;

  return (
    <>
      <TopBar name={me.name} workspaceId={workspace?.id} />
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
          <p className="empty">No workflows yet. Create your first one below, or import one.</p>
        ) : (
          <>
            <div className="list-tools" role="search">
              <div className="field">
                <label htmlFor={searchId}>Search workflows</label>
                <input id={searchId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Filter by name or description" />
              </div>
              <span className="muted small" aria-live="polite">
                {needle ? `${shown.length} of ${workflows.length}` : `${workflows.length} workflow(s)`}
              </span>
            </div>
            {result?.message && result.intent !== "create" ? (
              <p className="notice" role="status">
                {result.message}
              </p>
            ) : null}
            {result?.error && result.intent !== "create" ? (
              <p className="form-error" role="alert">
                {result.error}
              </p>
            ) : null}
            {shown.length === 0 ? (
              <p className="empty">No workflow matches “{query}”.</p>
            ) : (
              <ul className="workflow-list" aria-label="Workflows">
                {shown.map((workflow) => (
                  <WorkflowRow key={workflow.id} workflow={workflow} canWrite={!!canCreate} />
                ))}
              </ul>
            )}
          </>
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
        {canCreate ? <ImportForm workspaceId={workspace.id} result={result?.intent === "import" ? result : undefined} /> : null}
      </main>
    </>
  );
}

function WorkflowRow({ workflow, canWrite }: { workflow: WorkflowSummary; canWrite: boolean }) {
  const fetcher = useFetcher<ActionData>();
  const [confirming, setConfirming] = useState(false);
  const busy = fetcher.state !== "idle";
  const error = fetcher.data?.error;
  const nameId = useId();
  return (
    <li data-testid={`workflow-${workflow.id}`}>
      <span className="workflow-name">
        <Link to={`/workflows/${workflow.id}`} id={nameId}>
          {workflow.name}
        </Link>
        {workflow.description ? <span className="muted"> — {workflow.description}</span> : null}
        <span className="muted small"> · updated {formatTime(workflow.updatedAt)}</span>
      </span>
      <span className="row-actions">
        {/* Described by the workflow's name (not labelled with it), so the name's own link stays the one link called that. */}
        <Link className="button-link" to={`/workflows/${workflow.id}/runs`} aria-describedby={nameId}>
          Runs
        </Link>
        <a className="button-link" href={`/workflows/${workflow.id}/export`} download aria-describedby={nameId} title="Download as JSON">
          Export
        </a>
        {canWrite ? (
          <>
            <fetcher.Form method="post" action="/workflows?index" className="inline">
              <input type="hidden" name="intent" value="duplicate" />
              <input type="hidden" name="id" value={workflow.id} />
              <button type="submit" disabled={busy} aria-label={`Duplicate ${workflow.name}`}>
                Duplicate
              </button>
            </fetcher.Form>
            {confirming ? (
              <fetcher.Form method="post" action="/workflows?index" className="inline" role="group" aria-label={`Confirm deleting ${workflow.name}`}>
                <input type="hidden" name="intent" value="delete" />
                <input type="hidden" name="id" value={workflow.id} />
                <span className="small">Delete with its runs and versions?</span>
                <button type="submit" className="danger" disabled={busy} autoFocus>
                  Confirm delete
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </fetcher.Form>
            ) : (
              <button type="button" className="danger" onClick={() => setConfirming(true)} aria-label={`Delete ${workflow.name}`}>
                Delete
              </button>
            )}
          </>
        ) : null}
      </span>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}

function ImportForm({ workspaceId, result }: { workspaceId: string; result: ActionData | undefined }) {
  const navigation = useNavigation();
  const importing = navigation.state === "submitting" && navigation.formData?.get("intent") === "import";
  const [text, setText] = useState("");
  const [fileError, setFileError] = useState<string | null>(null);
  const id = useId();
  const error = fileError ?? result?.fields.json;
  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > 2 * 1024 * 1024) {
      setFileError("That file is larger than 2 MB");
      return;
    }
    setFileError(null);
    void file.text().then(setText, () => setFileError("Could not read that file"));
  };
  return (
    <Form method="post" className="card stack">
      <h2>Import a workflow</h2>
      <p className="muted small">Paste JSON from Export (or a bare workflow definition), or choose a .json file.</p>
      <input type="hidden" name="workspaceId" value={workspaceId} />
      <input type="hidden" name="intent" value="import" />
      <div className="field">
        <label htmlFor={`${id}-file`}>JSON file</label>
        <input id={`${id}-file`} type="file" accept="application/json,.json" onChange={onFile} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-json`}>Workflow JSON</label>
        <textarea
          id={`${id}-json`}
          name="json"
          className="mono"
          rows={6}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        {error ? (
          <p className="field-error" id={`${id}-error`}>
            {error}
          </p>
        ) : null}
      </div>
      <button type="submit" className="primary" disabled={importing}>
        Import workflow
      </button>
    </Form>
  );
}
