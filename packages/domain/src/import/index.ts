import { z } from "zod";
import { WorkflowDefinition } from "../definition.js";
import { WORKFLOW_EXPORT_FORMAT } from "../api-inputs.js";
import { convertN8nWorkflow, looksLikeN8n, N8nWorkflow } from "./n8n.js";
import type { ImportProblem } from "./problems.js";

export * from "./problems.js";
export { N8N_WORKFLOW_DEFAULT_NAME } from "./n8n.js";

/**
 * Reading importWorkflow's JSON: which format it is, and the definition it becomes. Formats: our export
 * (`{ format, definition }`), a bare definition (`{ name, steps, edges }`) and an n8n workflow export
 * (`{ nodes, connections }`). I/O-free; the server's service stores the result.
 */
export const IMPORT_FORMATS = ["algorythmos", "n8n"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const EXPECTED_IMPORT_FORMATS =
  `expected an Algorythmos export ({ "format": "${WORKFLOW_EXPORT_FORMAT}", "definition": … }), ` +
  `a workflow definition ({ "name", "steps", "edges" }) or an n8n workflow export ({ "nodes", "connections" })`;

export interface ImportField {
  /** Path inside the imported JSON. */
  path: (string | number)[];
  message: string;
}

export type ImportResult =
  | { ok: true; format: ImportFormat; definition: WorkflowDefinition; problems: ImportProblem[] }
  /** `message` is absent when the fields say it all (the caller prints them with its own path prefix). */
  | { ok: false; message?: string; fields: ImportField[] };

const DEFINITION_KEYS = ["schemaVersion", "name", "description", "steps", "edges"];

const failed = (error: z.ZodError, prefix: (string | number)[] = []): ImportResult => {
  const fields = error.issues.map((issue) => ({ path: [...prefix, ...issue.path.filter((part): part is string | number => typeof part !== "symbol")], message: issue.message }));
  return { ok: false, fields };
};

/** Parses the JSON (a value, or a JSON string) of an import. */
export function readWorkflowImport(json: unknown): ImportResult {
  let raw = json;
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      return { ok: false, message: "json is not valid JSON", fields: [{ path: [], message: "Not valid JSON" }] };
    }
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, message: `Unknown workflow JSON: ${EXPECTED_IMPORT_FORMATS}`, fields: [{ path: [], message: "Not a workflow object" }] };
  }
  const object = raw as Record<string, unknown>;
  if ("format" in object) {
    if (object.format !== WORKFLOW_EXPORT_FORMAT) {
      return { ok: false, message: `Unknown export format ${JSON.stringify(object.format)}; expected "${WORKFLOW_EXPORT_FORMAT}"`, fields: [{ path: ["format"], message: "Unknown format" }] };
    }
    const definition = WorkflowDefinition.safeParse(object.definition);
    return definition.success ? { ok: true, format: "algorythmos", definition: definition.data, problems: [] } : failed(definition.error, ["definition"]);
  }
  if (looksLikeN8n(object)) {
    const workflow = N8nWorkflow.safeParse(object);
    if (!workflow.success) return failed(workflow.error);
    const { definition, problems } = convertN8nWorkflow(workflow.data);
    const parsed = WorkflowDefinition.safeParse(definition);
    return parsed.success ? { ok: true, format: "n8n", definition: parsed.data, problems } : failed(parsed.error);
  }
  // A definition has steps (or edges, a schema version), or nothing but definition fields: other JSON that
  // happens to have a "name" (a package.json, a Zapier export) is not mistaken for an empty workflow.
  const keys = Object.keys(object);
  if (["steps", "edges", "schemaVersion"].some((key) => key in object) || (keys.length > 0 && keys.every((key) => DEFINITION_KEYS.includes(key)))) {
    const definition = WorkflowDefinition.safeParse(object);
    return definition.success ? { ok: true, format: "algorythmos", definition: definition.data, problems: [] } : failed(definition.error);
  }
  return { ok: false, message: `Unknown workflow JSON: ${EXPECTED_IMPORT_FORMATS}`, fields: [{ path: [], message: "Not a workflow object" }] };
}
