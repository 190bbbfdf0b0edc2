import {
  CreateWorkflowInput,
  docFromDefinition,
  emptyDefinition,
  encodeDocState,
  newId,
  validateDefinition,
  WorkflowDefinition,
  type Problem,
} from "@algorythmos/domain";
import { bytes, json, type Db } from "@algorythmos/platform";
import type { Caller, ServerDeps } from "../context.js";
import { fromZodError, notFound } from "../errors.js";
import { requireWorkflowRole, requireWorkspaceRole } from "./access.js";
import { PAGE_ORDER, pageRequest, toPage, type Page } from "./pagination.js";

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
const findWorkflowRow = (db: Db, id: string) => db.workflow.findUnique({ where: { id }, select: WORKFLOW_SELECT });

function toView(row: NonNullable<WorkflowRow>): WorkflowView {
  return { ...row, definition: row.definition as WorkflowDefinition, problems: row.problems as unknown as Problem[] };
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
  const row = await db.workflow.create({
    data: {
      id: newId("wf"),
      workspaceId,
      name: definition.name,
      description: definition.description,
      definition: json(definition),
      problems: json(validateDefinition(definition)),
      yjsState: bytes(encodeDocState(docFromDefinition(definition))),
    },
    select: WORKFLOW_SELECT,
  });
  return toView(row);
}

export async function getWorkflow(deps: ServerDeps, caller: Caller, id: string): Promise<WorkflowView> {
  await requireWorkflowRole(deps.db, caller, id, "read");
  const row = await findWorkflowRow(deps.db, id);
  if (!row) throw notFound("Workflow");
  return toView(row);
}

export async function listWorkflows(
  deps: ServerDeps,
  caller: Caller,
  args: { workspaceId: string; first?: number | null; after?: string | null },
): Promise<Page<WorkflowView>> {
  await requireWorkspaceRole(deps.db, caller, args.workspaceId, "read");
  const request = pageRequest(args);
  const rows = await deps.db.workflow.findMany({
    where: { workspaceId: args.workspaceId, ...request.where },
    orderBy: PAGE_ORDER,
    take: request.take,
    select: WORKFLOW_SELECT,
  });
  const page = toPage(rows, request);
  return { items: page.items.map(toView), nextCursor: page.nextCursor };
}
