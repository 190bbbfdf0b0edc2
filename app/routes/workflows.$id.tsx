import { readComments, stepDisplayName } from "@algorythmos/domain";
import { definitionFromDoc, diffDefinitions, editorProblems, WorkflowDefinition } from "@algorythmos/domain";
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator, type ShouldRevalidateFunction } from "@remix-run/react";
import xyflowStyles from "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Canvas, type CanvasApi } from "~/components/editor/Canvas";
import { CommentsContext, CommentsPanel, type CommentsState, type Member } from "~/components/editor/Comments";
import { ConnectionStatus } from "~/components/editor/ConnectionStatus";
import { NameInput } from "~/components/editor/NameInput";
import { CanvasCollabContext, type CanvasCollab } from "~/components/editor/PeerCursors";
import { Presence } from "~/components/editor/Presence";
import { hasUnpublishedChanges, PUBLISH_INTENT, PublishDialog, publishedDefinition, timeAgo, type PublishActionResult } from "~/components/editor/PublishDialog";
import { ProblemsPanel, stillOpen } from "~/components/editor/ProblemsPanel";
import { RunPanel } from "~/components/editor/RunPanel";
import { StepLibrary } from "~/components/editor/StepLibrary";
import { StepPanel } from "~/components/editor/StepPanel";
import { StepTest } from "~/components/editor/StepTest";
import { TestCasesPanel } from "~/components/editor/TestCasesPanel";
import { CREATE_VERSION_INTENT, RESTORE_IN_EDITOR_INTENT, RESTORE_VERSION_INTENT, VersionsPanel, type VersionActionResult } from "~/components/editor/VersionsPanel";
import { WorkflowSettings } from "~/components/editor/WorkflowSettings";
import { NotificationsMenu } from "~/components/NotificationsMenu";
import { useDocVersion, useWorkflowDoc } from "~/lib/collab";
import { toApiError, type Result } from "~/lib/errors";
import { subscribe } from "~/lib/graphql.browser";
import { execute, requireData } from "~/lib/graphql.server";
import { useDebouncedRevalidate, useNow } from "~/lib/live";
import {
  CHANGES_SINCE_PUBLISHED,
  CREATE_VERSION,
  CREDENTIALS,
  EDITOR,
  PENDING_APPROVALS,
  PUBLISH_STATE,
  PUBLISH_WORKFLOW,
  SETTINGS,
  RESTORE_VERSION,
  SET_WORKFLOW_ACTIVE,
  START_RUN,
  START_RUN_VERSION,
  VERSION_KINDS,
  VERSIONS,
  WORKFLOW_PUBLICATION,
  WORKFLOW_RUN_EVENTS,
  WORKFLOWS,
  type StepTypeInfo,
} from "~/lib/operations";
import { START_RUN_INTENT, useRun, type StartRunResult } from "~/lib/runs";

const SET_ACTIVE_INTENT = "setActive";
type SetActiveResult = Result<{ active: boolean }>;

export const links: LinksFunction = () => [{ rel: "stylesheet", href: xyflowStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.workflow.name ?? "Workflow"} · Algorythmos Studio` }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  const [{ me, workflow, stepTypes }, { workflow: history }] = await Promise.all([
    requireData(context, request, EDITOR, { id }),
    requireData(context, request, VERSIONS, { id }),
  ]);
  const role = me.workspaces.find((w) => w.id === workflow.workspaceId)?.role ?? "viewer";
  const workspaceId = workflow.workspaceId;
  // Workspace members, for @mentions in comments (left out, like the others, when the API refuses).
  const membersQuery = execute(context, request, SETTINGS, { workspaceId });
  // Each of these only adds to the page: one the API refuses leaves its part out, never the editor.
  const [credentials, publishState, versionKinds, changes, approvals, workflows] = await Promise.all([
    // Names and types only (secrets never leave the server); the editor offers them for credentialId.
    execute(context, request, CREDENTIALS, { workspaceId }),
    execute(context, request, PUBLISH_STATE, { id }),
    execute(context, request, VERSION_KINDS, { id }),
    execute(context, request, CHANGES_SINCE_PUBLISHED, { id }),
    execute(context, request, PENDING_APPROVALS, { workspaceId }),
    execute(context, request, WORKFLOWS, { workspaceId, first: 100 }),
  ]);
  const membersResult = await membersQuery;
  return {
    members: membersResult.ok ? membersResult.data.workspace.members.map(({ user: u }): Member => ({ id: u.id, name: u.name, email: u.email })) : [],
    user: { id: me.id, name: me.name },
    workflow,
    stepTypes,
    versions: history.versions,
    credentials: credentials.ok ? credentials.data.credentials.map(({ id, name, type }) => ({ id, name, type })) : undefined,
    readOnly: role === "viewer",
    publish: publishState.ok ? { active: publishState.data.workflow.active, published: publishState.data.workflow.published } : null,
    versionKinds: versionKinds.ok ? Object.fromEntries(versionKinds.data.workflow.versions.map((v) => [v.id, { kind: v.kind, message: v.message }])) : {},
    changesSincePublished: changes.ok ? changes.data.workflow.changesSincePublished : null,
    pendingApprovals: approvals.ok ? approvals.data.pendingApprovals.filter((a) => !a.workflowId || a.workflowId === id) : [],
    otherWorkflows: workflows.ok ? workflows.data.workflows.edges.map(({ node }) => ({ id: node.id, name: node.name })).filter((w) => w.id !== id) : [],
  };
}

/** The Run button's startRun (see ~/lib/runs.ts), saving and restoring versions, publishing and (de)activating. */
export async function action({ context, request, params }: ActionFunctionArgs): Promise<StartRunResult | VersionActionResult | PublishActionResult | SetActiveResult> {
  const form = await request.formData();
  const intent = form.get("intent");
  const workflowId = params.id ?? "";
  if (intent === PUBLISH_INTENT) {
    const message = String(form.get("message") ?? "").trim();
    if (!message) return { ok: false, error: { ...toApiError(null), code: "BAD_USER_INPUT", message: "Say what this publication changes", fields: { message: "Say what this publication changes" } } };
    const fromVersionId = String(form.get("fromVersionId") ?? "") || undefined;
    const overrideFailingTests = form.get("overrideFailingTests") === "true";
    const result = await execute(context, request, PUBLISH_WORKFLOW, { input: { workflowId, message, overrideFailingTests, ...(fromVersionId ? { fromVersionId } : {}) } });
    if (!result.ok) return result;
    const { version } = result.data.publishWorkflow;
    return { ok: true, data: { message: `Published v${version.version}`, version: version.version } };
  }
  if (intent === SET_ACTIVE_INTENT) {
    const result = await execute(context, request, SET_WORKFLOW_ACTIVE, { input: { workflowId, active: form.get("active") === "true" } });
    return result.ok ? { ok: true, data: { active: result.data.setWorkflowActive.active } } : result;
  }
  if (intent === CREATE_VERSION_INTENT) {
    const label = String(form.get("label") ?? "").trim();
    if (!label) return { ok: false, error: { ...toApiError(null), code: "BAD_USER_INPUT", message: "Give the version a label", fields: { label: "Give the version a label" } } };
    const result = await execute(context, request, CREATE_VERSION, { input: { workflowId, label } });
    return result.ok ? { ok: true, data: { message: `Saved v${result.data.createVersion.version}` } } : result;
  }
  if (intent === RESTORE_IN_EDITOR_INTENT) {
    // Saves the draft as it is; the browser then applies the restore to its live document (undoable there).
    const result = await execute(context, request, CREATE_VERSION, { input: { workflowId, label: String(form.get("label") ?? "") } });
    return result.ok ? { ok: true, data: { message: `The draft before it is saved as v${result.data.createVersion.version}` } } : result;
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
  // Draft runs keep the plain startRun (the default version); only a published run names its version.
  // R4: the trigger the run starts at, when the workflow has several (the Run panel's "Start at").
  const triggerStepId = String(form.get("triggerStepId") ?? "") || undefined;
  if (form.get("version") === "PUBLISHED") return execute(context, request, START_RUN_VERSION, { input: { workflowId, input, version: "PUBLISHED", triggerStepId } });
  return execute(context, request, START_RUN, { input: { workflowId, input, triggerStepId } });
}

// Starting a run changes nothing the loader reads; skip re-running it (saving a version does: the list).
export const shouldRevalidate: ShouldRevalidateFunction = ({ formData, defaultShouldRevalidate }) =>
  formData?.get("intent") === START_RUN_INTENT || formData?.get("intent") === RESTORE_VERSION_INTENT ? false : defaultShouldRevalidate;

export default function WorkflowRoute() {
  const data = useLoaderData<typeof loader>();
  // A fresh editor (doc, provider, local state) per workflow when navigating between them.
  return <WorkflowEditor key={data.workflow.id} {...data} />;
}

type EditorProps = ReturnType<typeof useLoaderData<typeof loader>>;

function WorkflowEditor({ user, workflow, stepTypes, versions, credentials, readOnly, publish, versionKinds, changesSincePublished, pendingApprovals, otherWorkflows }: EditorProps) {
  const { doc, provider, awareness, status, closeMessage, synced, people, peers, me, undoManager } = useWorkflowDoc(workflow.id, user);
  const version = useDocVersion(doc);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const { run, start } = useRun(workflow.id);
  const [panel, setPanel] = useState<"step" | "history" | "settings" | "comments">("step");
  const { members } = useLoaderData<typeof loader>();
  const [following, setFollowing] = useState<string | null>(null);
  const [activeCommentId, setActiveCommentId] = useState<string | null>(null);
  const [publishing, setPublishing] = useState(false);
  const { revalidate } = useRevalidator();
  const now = useNow(true, 15_000);
  const closePublish = useCallback(() => setPublishing(false), []);
  const openPublish = () => {
    setPublishing(true);
    revalidate(); // the latest publication and attribution
  };
  useLiveApprovals(workflow.id, pendingApprovals);
  useLivePublication(workflow.id, publish);
  // Someone else may have published or (de)activated meanwhile: coming back to the tab refreshes that.
  const revalidateRef = useRef(revalidate);
  revalidateRef.current = revalidate;
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === "visible") revalidateRef.current();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);
  const [comparingId, setComparingId] = useState<string | null>(null);

  const state = useMemo(() => (doc && synced ? definitionFromDoc(doc) : null), [doc, synced, version]); // eslint-disable-line react-hooks/exhaustive-deps
  // R54: everything the worker would refuse, plus the workspace's credentials and the warnings — recomputed
  // from the live document on every change, so a fixed problem (an undone cycle) goes at once.
  const problems = useMemo(() => (state ? editorProblems(state.problems, state.definition, { credentials }) : []), [state, credentials]);
  const problemsByStep = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const problem of problems) {
      if (problem.stepId) map.set(problem.stepId, [...(map.get(problem.stepId) ?? []), problem.message]);
    }
    return map;
  }, [problems]);
  const types = useMemo(() => new Map(stepTypes.map((t) => [t.type, t])), [stepTypes]);
  const typeLabels = useMemo(() => Object.fromEntries(stepTypes.map((t) => [t.type, t.label])), [stepTypes]);
  // The step library adds through the canvas: beside the selection, in view (the canvas knows both).
  const canvasApi = useRef<CanvasApi | null>(null);
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
  const published = publish?.published ?? null;
  const publishedBase = useMemo(() => publishedDefinition(published), [published]);
  const unpublished = !!state && !!publishedBase && hasUnpublishedChanges(publishedBase, state.definition);

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
    const id = canvasApi.current?.addStep(type);
    if (id) setSelectedId(id);
  };

  // Collaboration around the canvas: follow mode (PeerCursors) and comments (pins on the canvas, the panel).
  const stopFollowing = useCallback(() => setFollowing(null), []);
  const canvasCollab = useMemo((): CanvasCollab => ({ awareness, following, stopFollowing }), [awareness, following, stopFollowing]);
  const comments = useMemo(() => (doc && synced ? readComments(doc) : []), [doc, synced, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const openComment = useCallback((id: string | null) => {
    setActiveCommentId(id);
    if (id) setPanel("comments");
  }, []);
  const commentsState = useMemo((): CommentsState => ({ doc, comments, activeId: activeCommentId, open: openComment }), [doc, comments, activeCommentId, openComment]);
  const stepNames = useMemo(() => new Map((state?.definition.steps ?? []).map((s) => [s.id, stepDisplayName(s, typeLabels[s.type])])), [state, typeLabels]);
  const viewCentre = useCallback(() => {
    const view = (awareness?.getLocalState() as { viewport?: { x: number; y: number } } | null)?.viewport;
    return view ? { x: view.x, y: view.y } : { x: 0, y: 0 };
  }, [awareness]);

  return (
    <CanvasCollabContext.Provider value={canvasCollab}>
    <CommentsContext.Provider value={commentsState}>
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
        <Presence people={people} myId={user.id} following={following} onFollow={setFollowing} />
        <nav className="editor-links" aria-label="Workflow">
          <Link to={`/workflows/${workflow.id}/runs`} className="button-link">
            Runs
          </Link>
          <button type="button" aria-pressed={panel === "history"} onClick={() => setPanel(panel === "history" ? "step" : "history")}>
            History
          </button>
          <button type="button" aria-pressed={panel === "settings"} onClick={() => setPanel(panel === "settings" ? "step" : "settings")}>
            Settings
          </button>
          <button type="button" aria-pressed={panel === "comments"} onClick={() => setPanel(panel === "comments" ? "step" : "comments")} data-testid="comments-toggle">
            Comments{comments.some((c) => !c.resolved) ? ` (${comments.filter((c) => !c.resolved).length})` : ""}
          </button>
        </nav>
        {pendingApprovals.length ? (
          <Link to={`/runs/${encodeURIComponent(pendingApprovals[0]!.runId)}`} className="badge approvals-badge" data-testid="approvals-badge">
            {pendingApprovals.length} approval{pendingApprovals.length === 1 ? "" : "s"} waiting
          </Link>
        ) : null}
        {publish ? (
          <div className="publish-controls">
            {/* Two short lines (the state, then the draft's), so the header stays one row at 1280. */}
            <span className="publish-state" data-testid="publish-state">
              <span>{published ? `Published v${published.version}${now === null ? "" : ` · ${timeAgo(published.createdAt, now)}`}` : "Not published"}</span>
              {unpublished ? (
                <span className="unpublished">
                  <span className="separator"> · </span>Draft has unpublished changes
                </span>
              ) : null}
            </span>
            <ActiveToggle active={publish.active} disabled={readOnly} />
            {readOnly ? null : (
              <button type="button" className="primary" onClick={openPublish} disabled={!state}>
                Publish…
              </button>
            )}
          </div>
        ) : null}
        <div className="undo-buttons">
          <button type="button" className="icon-button" onClick={() => undoManager?.undo()} disabled={!editable} aria-label="Undo" title="Undo (Ctrl+Z)">
            <UndoIcon />
          </button>
          <button type="button" className="icon-button" onClick={() => undoManager?.redo()} disabled={!editable} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">
            <UndoIcon redo />
          </button>
        </div>
        {/* A mention reaches a person wherever they are, the editor included. */}
        <NotificationsMenu />
      </header>

      {readOnly ? null : (
        <StepLibrary stepTypes={stepTypes} disabled={!editable || !state} onAdd={add} />
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
            stepTypes={stepTypes}
            apiRef={canvasApi}
            undoManager={undoManager}
          />
        ) : (
          <p className="canvas-placeholder">{status === "offline" ? "Offline." : "Loading the workflow…"}</p>
        )}
      </section>

      <aside className="side" aria-label={panel === "history" ? "Version history" : "Run and step"}>
        {panel === "history" ? (
          <VersionsPanel
            versions={versions}
            readOnly={readOnly}
            comparingId={comparingId}
            diff={diff}
            onCompare={setComparingId}
            kinds={versionKinds}
            publishedId={published?.id ?? null}
            doc={editable ? doc : null}
            undoManager={undoManager}
          />
        ) : null}
        {panel === "comments" ? (
          <CommentsPanel
            me={{ id: user.id, name: user.name }}
            members={members}
            readOnly={!editable}
            awareness={awareness}
            selectedStep={selected ? { id: selected.id, name: stepDisplayName(selected, typeLabels[selected.type]) } : null}
            stepNames={stepNames}
            viewCentre={viewCentre}
            now={now}
          />
        ) : null}
        {panel === "settings" && doc && state ? (
          <WorkflowSettings doc={doc} settings={state.definition.settings} workflows={otherWorkflows} problems={state.problems} readOnly={!editable} />
        ) : null}
        {panel === "step" ? <RunPanel run={withOpenProblems(run, problems)} steps={state?.definition.steps ?? []} disabled={readOnly} onRun={start} publishedVersion={published?.version ?? null} /> : null}
        {panel !== "step" ? null : doc && selected ? (
          <StepPanel
            key={selected.id}
            doc={doc}
            step={selected}
            stepType={types.get(selected.type)}
            problems={problems.filter((p) => p.stepId === selected.id)}
            readOnly={!editable}
            provider={provider}
            me={me}
            credentials={credentials}
            allSteps={state?.definition.steps}
          />
        ) : (
          <p className="muted panel-section">Select a step to configure it.</p>
        )}
        {panel === "step" && doc && selected ? <StepTest key={`test-${selected.id}`} doc={doc} workflowId={workflow.id} step={selected} readOnly={!editable} /> : null}
        {panel === "step" ? <ProblemsPanel problems={problems} readOnly={readOnly} onSelect={setSelectedId} /> : null}
        {panel === "step" && doc && state ? <TestCasesPanel doc={doc} workflowId={workflow.id} testCases={state.definition.testCases ?? []} readOnly={!editable} /> : null}
      </aside>
      {publishing && state ? (
        <PublishDialog draft={state.definition} problems={state.problems} published={published} changes={changesSincePublished} now={now} onClose={closePublish} />
      ) : null}
    </div>
    </CommentsContext.Provider>
    </CanvasCollabContext.Provider>
  );
}

/** A curved arrow back (undo) or, mirrored, forward (redo). */
function UndoIcon({ redo = false }: { redo?: boolean }) {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" style={redo ? { transform: "scaleX(-1)" } : undefined}>
      <path d="M5.5 3.5 2.5 6.5l3 3" />
      <path d="M2.5 6.5h7a4 4 0 0 1 0 8H7" />
    </svg>
  );
}

/** Activate / deactivate: an inactive workflow's webhook answers 409 INACTIVE and its cron does not fire. */
function ActiveToggle({ active, disabled }: { active: boolean; disabled: boolean }) {
  const toggle = useFetcher<SetActiveResult>({ key: "set-active" });
  // The click shows at once: the fetcher's formData only arrives with a later render, and a controlled checkbox
  // re-rendered before it would spring back. Cleared once the fetcher is idle (the loader has the answer then).
  const [clicked, setClicked] = useState<boolean | null>(null);
  useEffect(() => {
    if (toggle.state === "idle") setClicked(null);
  }, [toggle.state]);
  const pending = toggle.formData ? toggle.formData.get("active") === "true" : null;
  const shown = pending ?? clicked ?? active;
  // "Active" / "Inactive" only once the server has it; until then the switch shows the click and says so.
  const saving = toggle.state !== "idle" || (clicked !== null && clicked !== active);
  const error = toggle.data && !toggle.data.ok ? toggle.data.error.message : null;
  return (
    <label className="active-toggle" title={shown ? "Webhook and cron runs are on" : "Webhook and cron runs are off; the draft stays editable"}>
      <input
        type="checkbox"
        role="switch"
        checked={shown}
        disabled={disabled || toggle.state !== "idle"}
        onChange={(e) => {
          setClicked(e.target.checked);
          toggle.submit({ intent: SET_ACTIVE_INTENT, active: String(e.target.checked) }, { method: "post" });
        }}
        aria-describedby={error ? "active-toggle-error" : undefined}
      />
      <span data-testid="active-state" aria-live="polite">{saving ? (shown ? "Activating…" : "Deactivating…") : shown ? "Active" : "Inactive"}</span>
      {error ? (
        <span className="field-error" id="active-toggle-error" role="alert">
          {error}
        </span>
      ) : null}
    </label>
  );
}

/**
 * Keeps the approvals badge live: a run of this workflow starting to wait, or a step that was waiting moving
 * on, reloads the page's data (a few times per approval, not once per step event).
 */
function useLiveApprovals(workflowId: string, pending: { runId: string; stepId: string }[]) {
  const revalidate = useDebouncedRevalidate(300);
  const waiting = useRef(new Set<string>());
  waiting.current = new Set(pending.map((a) => `${a.runId}:${a.stepId}`));
  useEffect(
    () =>
      subscribe(WORKFLOW_RUN_EVENTS, { workflowId }, {
        next: ({ workflowRuns: event }) => {
          if (event.status === "waiting" || (event.stepId && waiting.current.has(`${event.runId}:${event.stepId}`))) revalidate();
        },
      }),
    [workflowId, revalidate],
  );
}

/**
 * Keeps the publish state live (Publish button, active toggle, published version): when someone publishes,
 * activates or deactivates this workflow, in any tab, the page's data is read again. The subscription's first
 * event is the state as it is, which also catches a change made between the page load and the subscribe.
 */
function useLivePublication(workflowId: string, publish: { active: boolean; published: { id: string } | null } | null) {
  const revalidate = useDebouncedRevalidate(100);
  const shown = useRef(publish);
  shown.current = publish;
  useEffect(
    () =>
      subscribe(WORKFLOW_PUBLICATION, { workflowId }, {
        next: ({ workflowPublication: state }) => {
          const current = shown.current;
          if (!current || current.active !== state.active || (current.published?.id ?? null) !== (state.publishedVersionId ?? null)) revalidate();
        },
      }),
    [workflowId, revalidate],
  );
}

/** A refused run's message lists only the problems still there; once all are fixed it is gone (R54). */
function withOpenProblems<R extends { error: { problems: { code?: string; stepId?: string | null; edgeId?: string | null }[] } | null }>(run: R, problems: Parameters<typeof stillOpen>[1]): R {
  const refused = run.error?.problems ?? [];
  if (!refused.length) return run;
  const open = stillOpen(refused, problems);
  if (open.length === refused.length) return run;
  return { ...run, error: open.length ? { ...run.error!, problems: open } : null };
}
