import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useEffect, useId, useState, type ChangeEvent } from "react";
import { Field } from "~/components/Field";
import { TemplatesGallery, type TemplatesGalleryProps } from "~/components/TemplatesGallery";
import { TopBar } from "~/components/TopBar";
import { Dialog, DialogClose } from "~/components/ui/Dialog";
import { execute, requireData } from "~/lib/graphql.server";
import { formatTime } from "~/lib/live";
import {
  CREATE_WORKFLOW,
  DELETE_WORKFLOW,
  DUPLICATE_WORKFLOW,
  IMPORT_WORKFLOW,
  ME,
  WORKFLOW_TEMPLATES,
  WORKFLOWS,
  type TemplateSummary,
  type WorkflowSummary,
} from "~/lib/operations";

export const meta: MetaFunction = () => [{ title: "Workflows · Algorythmos Studio" }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { me } = await requireData(context, request, ME);
  const wanted = new URL(request.url).searchParams.get("workspace");
  const workspace = me.workspaces.find((w) => w.id === wanted) ?? me.workspaces[0] ?? null;
  if (!workspace) return { me, workspace: null, workflows: [], templates: [] as TemplateSummary[] };
  const [data, gallery] = await Promise.all([
    requireData(context, request, WORKFLOWS, { workspaceId: workspace.id, first: 100 }),
    requireData(context, request, WORKFLOW_TEMPLATES),
  ]);
  // The cards need no definitions: "Use template" reads the chosen one on the server.
  const templates: TemplateSummary[] = gallery.workflowTemplates.map(({ definition: _definition, ...summary }) => summary);
  return { me, workspace, workflows: data.workflows.edges.map((edge) => edge.node), templates };
}

/** Why a viewer sees the create buttons disabled. */
const VIEWER_REASON = "Viewers can’t create workflows in this workspace: ask an owner to make you an editor.";

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
  if (intent === "template") {
    const templateId = String(form.get("templateId") ?? "").trim();
    const { workflowTemplates } = await requireData(context, request, WORKFLOW_TEMPLATES);
    const template = workflowTemplates.find((entry) => entry.id === templateId);
    if (!template) {
      const error = templateId ? `There is no template “${templateId.slice(0, 100)}”. Pick one from the gallery.` : "Pick a template from the gallery.";
      return { intent, error, fields: {} };
    }
    const result = await execute(context, request, CREATE_WORKFLOW, { input: { workspaceId, name: template.title, definition: template.definition } });
    if (!result.ok) {
      if (result.error.code === "UNAUTHENTICATED") return redirect("/login?redirectTo=/workflows");
      return { intent, error: `Could not create “${template.title}”: ${result.error.message}`, fields: {} };
    }
    return redirect(`/workflows/${encodeURIComponent(result.data.createWorkflow.id)}`);
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
  const { me, workspace, workflows, templates } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as ActionData | undefined;
  const submit = useSubmit();
  const canCreate = !!workspace && workspace.role !== "viewer";
  const [query, setQuery] = useState("");
  const searchId = useId();
  const firstRunId = useId();
  const needle = query.trim().toLowerCase();
  const shown = needle ? workflows.filter((w) => `${w.name} ${w.description}`.toLowerCase().includes(needle)) : workflows;
  const created = result?.intent === "create" ? result : undefined;
  const templateError = result?.intent === "template" ? result.error : null;
  const listMessage = result && result.intent !== "create" && result.intent !== "template" && result.intent !== "import" ? result : undefined;
  const disabledReason = canCreate ? null : VIEWER_REASON;

  return (
    <>
      <TopBar name={me.name} workspaceId={workspace?.id} />
      <main className="page">
        <div className="page-heading">
          <h1>Workflows</h1>
          {workspace && workflows.length > 0 ? (
            <TemplatesDialog templates={templates} workspaceId={workspace.id} disabledReason={disabledReason} error={templateError} />
          ) : null}
        </div>
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
          // First run: the gallery leads, a blank workflow and an import follow.
          <section className="first-run" aria-labelledby={firstRunId} data-testid="first-run">
            <h2 id={firstRunId}>Create your first workflow</h2>
            <p className="muted">Start from a template that already works, then make it yours. Or begin with a blank workflow, or import one.</p>
            <TemplatesGallery templates={templates} workspaceId={workspace.id} disabledReason={disabledReason} error={templateError} />
          </section>
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
            {listMessage?.message ? (
              <p className="notice" role="status">
                {listMessage.message}
              </p>
            ) : null}
            {listMessage?.error ? (
              <p className="form-error" role="alert">
                {listMessage.error}
              </p>
            ) : null}
            {shown.length === 0 ? (
              <p className="empty">No workflow matches “{query}”.</p>
            ) : (
              <ul className="workflow-list" aria-label="Workflows">
                {shown.map((workflow) => (
                  <WorkflowRow key={workflow.id} workflow={workflow} canWrite={canCreate} />
                ))}
              </ul>
            )}
          </>
        )}

        {workspace ? (
          <div className={workflows.length === 0 ? "start-options" : undefined}>
            <NewWorkflowForm
              key={workspace.id}
              workspaceId={workspace.id}
              title={workflows.length === 0 ? "Start with a blank workflow" : "New workflow"}
              result={created}
              disabledReason={disabledReason}
            />
            <ImportForm workspaceId={workspace.id} result={result?.intent === "import" ? result : undefined} disabledReason={disabledReason} />
          </div>
        ) : null}
      </main>
    </>
  );
}

/** The gallery, secondary once the workspace has workflows: a "Templates" button opening it in a dialog. */
function TemplatesDialog(props: TemplatesGalleryProps) {
  const [open, setOpen] = useState(false);
  // A refused "Use template" comes back as the action's answer: show it where it was asked.
  useEffect(() => {
    if (props.error) setOpen(true);
  }, [props.error]);
  return (
    <Dialog
      open={open}
      onClose={() => setOpen(false)}
      title="Start from a template"
      className="templates-dialog"
      testId="templates-dialog"
      trigger={
        <button type="button" className="templates-open" onClick={() => setOpen(true)}>
          Templates
        </button>
      }
      headerActions={
        <DialogClose asChild>
          <button type="button">Close</button>
        </DialogClose>
      }
    >
      <TemplatesGallery {...props} />
    </Dialog>
  );
}

/** A viewer's create forms: shown, disabled, with the reason (a disabled fieldset disables every control in it). */
function DisabledReason({ id, reason }: { id: string; reason: string | null }) {
  return reason ? (
    <p className="template-locked small" id={id}>
      {reason}
    </p>
  ) : null;
}

function NewWorkflowForm({
  workspaceId,
  title,
  result,
  disabledReason,
}: {
  workspaceId: string;
  title: string;
  result: ActionData | undefined;
  disabledReason: string | null;
}) {
  const navigation = useNavigation();
  const creating = navigation.state === "submitting" && navigation.formData?.get("intent") === "create";
  const reasonId = useId();
  return (
    <Form method="post" className="card stack">
      <h2>{title}</h2>
      <DisabledReason id={reasonId} reason={disabledReason} />
      {result?.error ? (
        <p className="form-error" role="alert">
          {result.error}
        </p>
      ) : null}
      <fieldset className="plain-fieldset" disabled={!!disabledReason} aria-describedby={disabledReason ? reasonId : undefined}>
        <input type="hidden" name="workspaceId" value={workspaceId} />
        <input type="hidden" name="intent" value="create" />
        <Field label="Workflow name" name="name" required maxLength={200} error={result?.fields.name} />
        <button type="submit" className="primary" disabled={creating}>
          Create workflow
        </button>
      </fieldset>
    </Form>
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

function ImportForm({ workspaceId, result, disabledReason }: { workspaceId: string; result: ActionData | undefined; disabledReason: string | null }) {
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
      <DisabledReason id={`${id}-reason`} reason={disabledReason} />
      <fieldset className="plain-fieldset" disabled={!!disabledReason} aria-describedby={disabledReason ? `${id}-reason` : undefined}>
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
      </fieldset>
    </Form>
  );
}
