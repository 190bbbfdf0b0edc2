import {
  applyDefinitionToDoc,
  canWrite,
  CreateWorkflowInput,
  ImportWorkflowInput,
  MAX_WORKFLOW_DOC_BYTES,
  UpdateWorkflowInput,
  WORKFLOW_EXPORT_FORMAT,
  docFromDefinition,
  readWorkflowImport,
  type ImportFormat,
  type ImportProblem,
  emptyDefinition,
  encodeDocState,
  newId,
  validateDefinition,
  WorkflowDefinition,
  type Problem,
} from "@algorythmos/domain";
import { bytes, changeWorkflowDoc, json, loadLiveWorkflow, readWorkflowRow, type Db } from "@algorythmos/platform";
import { definitionFromDoc } from "@algorythmos/domain";
import type { Caller, ServerDeps } from "../context.js";
import { AppError, badInput, fromZodError, notFound } from "../errors.js";
import { requireUser, requireWorkflowRole, requireWorkspaceRole, type Need } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page, type PageArgsInput } from "./pagination.js";

const WORKFLOW_SELECT = {
  id: true,
  workspaceId: true,
  name: true,
  description: true,
  definition: true,
  problems: true,
  latestVersion: true,
  createdAt: true,
  updatedAt: true,
} as const;

export interface WorkflowView {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  definition: WorkflowDefinition;
  problems: Problem[];
  latestVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

type WorkflowRow = Awaited<ReturnType<typeof findWorkflowRow>>;
const findWorkflowRow = (db: Db, id: string) => readWorkflowRow(db, id); // a prepared statement: the hot read of workflow(id)

function toView(row: NonNullable<WorkflowRow>): WorkflowView {
  return { ...row, definition: row.definition as WorkflowDefinition, problems: row.problems as unknown as Problem[] };
}

/** PAYLOAD_TOO_LARGE for a write that would leave a document past MAX_WORKFLOW_DOC_BYTES. */
function docTooLarge(sizeBytes: number): AppError {
  return new AppError(
    "PAYLOAD_TOO_LARGE",
    `The workflow document would be ${sizeBytes} bytes; the limit is ${MAX_WORKFLOW_DOC_BYTES} bytes. Remove steps or shorten their configuration.`,
    { limitBytes: MAX_WORKFLOW_DOC_BYTES, sizeBytes },
  );
}

/** Parses a client-supplied definition; BAD_USER_INPUT with field paths under `input.definition`. */
function parseDefinition(raw: unknown, name: string, description: string | undefined): WorkflowDefinition {
  if (raw === undefined || raw === null) return emptyDefinition(name, description ?? "");
  const candidate = typeof raw === "object" && !Array.isArray(raw) ? { ...raw, name, ...(description !== undefined && { description }) } : raw;
  const parsed = WorkflowDefinition.safeParse(candidate);
  if (!parsed.success) throw fromZodError(parsed.error, ["input", "definition"]);
  return parsed.data;
}

export async function createWorkflow(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkflowView> {
  const parsed = CreateWorkflowInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkspaceRole(deps.db, caller, input.workspaceId, "write");
  const definition = parseDefinition(input.definition, input.name, input.description);
  return insertWorkflow(deps.db, input.workspaceId, definition);
}

/** Stores a new workflow whose Y.Doc holds `definition`. Used by the API and by the demo seed. */
export async function insertWorkflow(db: Db, workspaceId: string, definition: WorkflowDefinition): Promise<WorkflowView> {
  const state = encodeDocState(docFromDefinition(definition));
  if (state.byteLength > MAX_WORKFLOW_DOC_BYTES) throw docTooLarge(state.byteLength);
  const row = await db.workflow.create({
    data: {
      id: newId("wf"),
      workspaceId,
      name: definition.name,
      description: definition.description,
      definition: json(definition),
      problems: json(validateDefinition(definition)),
      yjsState: bytes(state),
    },
    select: WORKFLOW_SELECT,
  });
  return toView(row);
}

export async function getWorkflow(deps: ServerDeps, caller: Caller, id: string, need: Need = "read"): Promise<WorkflowView> {
  await requireWorkflowRole(deps.db, caller, id, need);
  const row = await findWorkflowRow(deps.db, id);
  if (!row) throw notFound("Workflow");
  return toView(row);
}

export async function listWorkflows(
  deps: ServerDeps,
  caller: Caller,
  args: { workspaceId?: string | null } & PageArgsInput,
): Promise<Page<WorkflowView>> {
  // One workspace, or every workspace the caller belongs to.
  const scope = args.workspaceId
    ? (await requireWorkspaceRole(deps.db, caller, args.workspaceId, "read"), { workspaceId: args.workspaceId })
    : { workspace: { memberships: { some: { userId: requireUser(caller) } } } };
  const request = pageRequest(args);
  const rows = await deps.db.workflow.findMany({
    where: { ...scope, ...request.where },
    orderBy: PAGE_ORDER,
    take: request.take,
    select: WORKFLOW_SELECT,
  });
  const page = toPage(rows, request);
  return { items: page.items.map(toView), nextCursor: page.nextCursor };
}

/**
 * Edits a workflow through its Y.Doc, as a minimal change that live editors receive like anyone's edit.
 * Name and description win over the definition's own.
 */
export async function updateWorkflow(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkflowView> {
  const parsed = UpdateWorkflowInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  const input = parsed.data;
  await requireWorkflowRole(deps.db, caller, input.id, "write");
  let replacement: WorkflowDefinition | null = null;
  if (input.definition !== undefined) {
    const candidate = WorkflowDefinition.safeParse(input.definition);
    if (!candidate.success) throw fromZodError(candidate.error, ["input", "definition"]);
    replacement = candidate.data;
  }
  const changed = await changeWorkflowDoc(deps.db, deps.redis, deps.env.REDIS_PREFIX, input.id, (doc) => {
    const next = { ...(replacement ?? definitionFromDoc(doc).definition) };
    if (input.name !== undefined) next.name = input.name;
    if (input.description !== undefined) next.description = input.description;
    const before = encodeDocState(doc).byteLength;
    applyDefinitionToDoc(doc, next, "api");
    // Thrown before the change is appended: nothing is stored. A document already past the cap may shrink.
    const after = encodeDocState(doc).byteLength;
    if (after > MAX_WORKFLOW_DOC_BYTES && after > before) throw docTooLarge(after);
  }, { authorId: caller.principal?.userId ?? null });
  if (!changed) throw notFound("Workflow");
  return getWorkflow(deps, caller, input.id);
}

export async function deleteWorkflow(deps: ServerDeps, caller: Caller, id: string): Promise<WorkflowView> {
  const workflow = await getWorkflow(deps, caller, id, "write");
  await deps.db.workflow.delete({ where: { id } });
  return workflow;
}

/** Live definitions already read in this request, by workflow id (see server/graphql/request-reads.ts). */
export type LiveWorkflowReads = Map<string, Promise<WorkflowDefinition>>;

/**
 * The live definition (every acknowledged edit, even before it is materialised). With `reads`, a document is
 * loaded and decoded once however many times the request asks for it.
 */
export async function liveDefinition(db: Db, workflowId: string, reads?: LiveWorkflowReads): Promise<WorkflowDefinition> {
  const cached = reads?.get(workflowId);
  if (cached) return cached;
  const read = loadLiveWorkflow(db, workflowId).then((workflow) => {
    if (!workflow) throw notFound("Workflow");
    return workflow.definition;
  });
  reads?.set(workflowId, read);
  read.catch(() => reads?.delete(workflowId));
  return read;
}

export async function duplicateWorkflow(deps: ServerDeps, caller: Caller, id: string): Promise<WorkflowView> {
  const source = await getWorkflow(deps, caller, id);
  await requireWorkspaceRole(deps.db, caller, source.workspaceId, "write");
  const definition = await liveDefinition(deps.db, id);
  return insertWorkflow(deps.db, source.workspaceId, { ...definition, name: `${definition.name} (copy)`.slice(0, 200) });
}

export interface WorkflowExport {
  format: typeof WORKFLOW_EXPORT_FORMAT;
  definition: WorkflowDefinition;
}

export async function exportWorkflow(deps: ServerDeps, caller: Caller, id: string, reads?: LiveWorkflowReads): Promise<WorkflowExport> {
  await requireWorkflowRole(deps.db, caller, id, "read");
  return { format: WORKFLOW_EXPORT_FORMAT, definition: await liveDefinition(deps.db, id, reads) };
}

/** What an import reports beside the workflow it created (importWorkflow only). */
export interface ImportReport {
  format: ImportFormat;
  problems: ImportProblem[];
}

/**
 * Imports our export, a bare definition or an n8n export (read by the domain's `readWorkflowImport`); what
 * could not be carried over exactly comes back in `importReport`.
 */
export async function importWorkflow(deps: ServerDeps, caller: Caller, rawInput: unknown): Promise<WorkflowView & { importReport: ImportReport }> {
  const parsed = ImportWorkflowInput.safeParse(rawInput);
  if (!parsed.success) throw fromZodError(parsed.error, ["input"]);
  await requireWorkspaceRole(deps.db, caller, parsed.data.workspaceId, "write");
  const result = readWorkflowImport(parsed.data.json);
  if (!result.ok) {
    const fields = result.fields.map((field) => ({ path: ["input", "json", ...field.path], message: field.message }));
    throw badInput(result.message ?? fields.map((field) => `${field.path.join(".")}: ${field.message}`).join("; "), fields);
  }
  const workflow = await insertWorkflow(deps.db, parsed.data.workspaceId, result.definition);
  return { ...workflow, importReport: { format: result.format, problems: result.problems } };
}

/** The workflow's webhook path (holds its secret): for editors and owners only, null for viewers. */
export async function webhookPath(deps: ServerDeps, caller: Caller, id: string): Promise<string | null> {
  const role = await requireWorkflowRole(deps.db, caller, id, "read");
  if (!canWrite(role)) return null;
  const row = await deps.db.workflow.findUnique({ where: { id }, select: { webhookSecret: true } });
  return row ? `/hooks/${id}/${row.webhookSecret}` : null;
}

/**
 * The full webhook URL: the deployment's PUBLIC_URL with webhookPath. Null for viewers, and when PUBLIC_URL is
 * not set (the server does not know its public address then; the studio uses the address it is opened at).
 */
export async function webhookUrl(deps: ServerDeps, caller: Caller, id: string): Promise<string | null> {
  const path = await webhookPath(deps, caller, id);
  return path && deps.env.PUBLIC_URL ? new URL(path, deps.env.PUBLIC_URL).href : null;
}
