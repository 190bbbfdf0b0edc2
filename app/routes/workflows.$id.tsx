import { definitionFromDoc, diffDefinitions, WorkflowDefinition, type Problem } from "@algorythmos/domain";
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import xyflowStyles from "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Canvas } from "~/components/editor/Canvas";
import { ConnectionStatus } from "~/components/editor/ConnectionStatus";
import { NameInput } from "~/components/editor/NameInput";
import { Presence } from "~/components/editor/Presence";
import { RunPanel } from "~/components/editor/RunPanel";
import { StepPanel } from "~/components/editor/StepPanel";
import { CREATE_VERSION_INTENT, RESTORE_VERSION_INTENT, VersionsPanel, type VersionActionResult } from "~/components/editor/VersionsPanel";
import { useDocVersion, useWorkflowDoc } from "~/lib/collab";
import { addStep, defaultConfig } from "~/lib/doc-edits";
import { toApiError } from "~/lib/errors";
import { execute, requireData } from "~/lib/graphql.server";
import { CREATE_VERSION, CREDENTIALS, EDITOR, RESTORE_VERSION, START_RUN, VERSIONS, type StepTypeInfo } from "~/lib/operations";
import { START_RUN_INTENT, useRun, type StartRunResult } from "~/lib/runs";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: xyflowStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.workflow.name ?? "Workflow"} · Algorythmos Studio` }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  const [{ me, workflow, stepTypes }, { workflow: history }] = await Promise.all([
    requireData(context, request, EDITOR, { id }),
    requireData(context, request, VERSIONS, { id }),
  ]);
  const role = me.workspaces.find((w) => w.id === workflow.workspaceId)?.role ?? "viewer";
  // Names and types only (secrets never leave the server); the editor offers them for credentialId.
  const credentials = await execute(context, request, CREDENTIALS, { workspaceId: workflow.workspaceId });
  return {
    user: { id: me.id, name: me.name },
    workflow,
    stepTypes,
    versions: history.versions,
    credentials: credentials.ok ? credentials.data.credentials.map(({ id, name, type }) => ({ id, name, type })) : undefined,
    readOnly: role === "viewer",
  };
}

/** The Run button's startRun (see ~/lib/runs.ts), and saving and restoring versions. */
export async function action({ context, request, params }: ActionFunctionArgs): Promise<StartRunResult | VersionActionResult> {
  const form = await request.formData();
  const intent = form.get("intent");
  const workflowId = params.id ?? "";
  if (intent === CREATE_VERSION_INTENT) {
    const label = String(form.get("label") ?? "").trim();
    if (!label) return { ok: false, error: { ...toApiError(null), code: "BAD_USER_INPUT", message: "Give the version a label", fields: { label: "Give the version a label" } } };
    const result = await execute(context, request, CREATE_VERSION, { input: { workflowId, label } });
    return result.ok ? { ok: true, data: { message: `Saved v${result.data.createVersion.version}` } } : result;
  }
  if (intent === RESTORE_VERSION_INTENT) {
    const result = await execute(context, request, RESTORE_VERSION, { versionId: String(form.get("versionId") ?? "") });
    return result.ok ? { ok: true, data: { message: "Restored" } } : result;
  }
  if (intent !== START_RUN_INTENT) throw new Response("Unknown action", { status: 400 });
  let input: unknown;
  try {
    input = JSON.parse(String(form.get("input") ?? "{}"));
  } catch {
    return { ok: false, error: { ...toApiError(null), code: "BAD_USER_INPUT", message: "Run input must be valid JSON" } };
  }
  return execute(context, request, START_RUN, { input: { workflowId, input } });
}

// Starting a run changes nothing the loader reads; skip re-running it (saving a version does: the list).
export const shouldRevalidate: ShouldRevalidateFunction = ({ formData, defaultShouldRevalidate }) =>
  formData?.get("intent") === START_RUN_INTENT || formData?.get("intent") === RESTORE_VERSION_INTENT ? false : defaultShouldRevalidate;

const CATEGORY_ORDER = ["trigger", "action", "logic"];

export default function WorkflowRoute() {
  const data = useLoaderData<typeof loader>();
  // A fresh editor (doc, provider, local state) per workflow when navigating between them.
  return <WorkflowEditor key={data.workflow.id} {...data} />;
}

type EditorProps = ReturnType<typeof useLoaderData<typeof loader>>;

function WorkflowEditor({ user, workflow, stepTypes, versions, credentials, readOnly }: EditorProps) {
  const { doc, provider, awareness, status, closeMessage, synced, people, peers, me, undoManager } = useWorkflowDoc(workflow.id, user);
  const version = useDocVersion(doc);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const { run, start } = useRun(workflow.id);
  const [panel, setPanel] = useState<"step" | "history">("step");
  const [comparingId, setComparingId] = useState<string | null>(null);

  const state = useMemo(() => (doc && synced ? definitionFromDoc(doc) : null), [doc, synced, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const problemsByStep = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const problem of state?.problems ?? []) {
      if (problem.stepId) map.set(problem.stepId, [...(map.get(problem.stepId) ?? []), problem.message]);
    }
    return map;
  }, [state]);
  const types = useMemo(() => new Map(stepTypes.map((t) => [t.type, t])), [stepTypes]);
  const typeLabels = useMemo(() => Object.fromEntries(stepTypes.map((t) => [t.type, t.label])), [stepTypes]);
  const palette = useMemo(
    () => [...stepTypes].sort((a, b) => CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category)),
    [stepTypes],
  );
  const onSelect = useCallback((id: string | null) => setSelectedId(id), []);

  // Presence: the others see which step we have selected and where our pointer is on the canvas.
  useEffect(() => {
    awareness?.setLocalStateField("selectedStepId", selectedId);
  }, [awareness, selectedId]);
  const onCursor = useCallback(
    (position: { x: number; y: number } | null) => {
      awareness?.setLocalStateField("cursor", position);
    },
    [awareness],
  );

  // Compare a version with now: a live diff of what is on screen (same diffDefinitions the API's versionDiff uses).
  const compared = versions.find((v) => v.id === comparingId) ?? null;
  const diff = useMemo(() => {
    if (!compared || !state) return null;
    const parsed = WorkflowDefinition.safeParse(compared.definition);
    return parsed.success ? diffDefinitions(parsed.data, state.definition) : null;
  }, [compared, state]);
  const selected = state?.definition.steps.find((s) => s.id === selectedId) ?? null;
  const editable = !readOnly && !!doc && synced;

  // Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) undo this user's own canvas and config edits. Text fields keep
  // their native undo, and the notes editor its own.
  useEffect(() => {
    if (!undoManager) return;
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey)) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable='true']")) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) undoManager.undo();
      else if ((key === "z" && event.shiftKey) || key === "y") undoManager.redo();
      else return;
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undoManager]);

  const add = (type: StepTypeInfo) => {
    if (!doc || !state) return;
    const steps = state.definition.steps;
    const lowest = steps.reduce<{ x: number; y: number } | null>((low, s) => (!low || s.position.y > low.y ? s.position : low), null);
    const id = addStep(doc, {
      type: type.type,
      name: type.label,
      config: defaultConfig(type.configSchema),
      position: lowest ? { x: lowest.x, y: lowest.y + 120 } : { x: 0, y: 0 },
    });
    setSelectedId(id);
  };

  return (
    <div className={readOnly ? "editor read-only" : "editor"}>
      <header className="topbar editor-bar">
        <Link to="/workflows" className="back">
          ← Workflows
        </Link>
        <NameInput doc={doc} synced={synced} initialName={workflow.name} readOnly={readOnly} awareness={awareness} />
        {readOnly ? (
          <span className="badge view-only" data-testid="view-only">
            View only
          </span>
        ) : null}
        <ConnectionStatus status={status} message={closeMessage} />
        <Presence people={people} myId={user.id} />
        <nav className="editor-links" aria-label="Workflow">
          <Link to={`/workflows/${workflow.id}/runs`}>Runs</Link>
          <button type="button" aria-pressed={panel === "history"} onClick={() => setPanel(panel === "history" ? "step" : "history")}>
            History
          </button>
        </nav>
        <div className="undo-buttons">
          <button type="button" onClick={() => undoManager?.undo()} disabled={!editable} title="Undo (Ctrl+Z)">
            Undo
          </button>
          <button type="button" onClick={() => undoManager?.redo()} disabled={!editable} title="Redo (Ctrl+Shift+Z)">
            Redo
          </button>
        </div>
      </header>

      {readOnly ? null : (
        <aside className="palette" aria-label="Add a step">
          <h2>Add a step</h2>
          {palette.map((type) => (
            <button key={type.type} type="button" onClick={() => add(type)} disabled={!editable} title={type.description}>
              Add {type.label}
            </button>
          ))}
        </aside>
      )}

      <section className="canvas" aria-label="Workflow canvas">
        {doc && state ? (
          <Canvas
            doc={doc}
            definition={state.definition}
            problemsByStep={problemsByStep}
            stepStatuses={run.steps}
            typeLabels={typeLabels}
            readOnly={!editable}
            selectedId={selectedId}
            onSelect={onSelect}
            diff={diff}
            peers={peers}
            onCursor={onCursor}
          />
        ) : (
          <p className="canvas-placeholder">{status === "offline" ? "Offline." : "Loading the workflow…"}</p>
        )}
      </section>

      <aside className="side" aria-label={panel === "history" ? "Version history" : "Run and step"}>
        {panel === "history" ? (
          <VersionsPanel versions={versions} readOnly={readOnly} comparingId={comparingId} diff={diff} onCompare={setComparingId} />
        ) : null}
        {panel === "step" ? <RunPanel run={run} steps={state?.definition.steps ?? []} disabled={readOnly} onRun={start} /> : null}
        {panel !== "step" ? null : doc && selected ? (
          <StepPanel
            key={selected.id}
            doc={doc}
            step={selected}
            stepType={types.get(selected.type)}
            problems={(state?.problems ?? []).filter((p) => p.stepId === selected.id)}
            readOnly={!editable}
            provider={provider}
            me={me}
            credentials={credentials}
          />
        ) : (
          <p className="muted panel-section">Select a step to configure it.</p>
        )}
        {panel === "step" ? <Problems problems={state?.problems ?? []} onSelect={setSelectedId} /> : null}
      </aside>
    </div>
  );
}

function Problems({ problems, onSelect }: { problems: Problem[]; onSelect(id: string): void }) {
  return (
    <section className="panel-section" aria-labelledby="problems-heading">
      <h2 id="problems-heading">Problems ({problems.length})</h2>
      {problems.length === 0 ? (
        <p className="muted">No problems: this workflow can run.</p>
      ) : (
        <ul className="problems" data-testid="problems">
          {problems.map((problem, index) => (
            <li key={`${problem.code}-${problem.stepId ?? ""}-${problem.edgeId ?? ""}-${index}`}>
              {problem.stepId ? (
                <button type="button" className="link" onClick={() => onSelect(problem.stepId!)}>
                  {problem.message}
                </button>
              ) : (
                problem.message
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
