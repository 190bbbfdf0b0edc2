/**
 * What an import could not carry over exactly. Unlike a definition's Problems (recomputed on every edit),
 * these describe the source JSON and are reported once, by the import that created the workflow.
 */
export type ImportProblemCode =
  /** A node with no equivalent step type; it is not imported. */
  | "UNSUPPORTED_NODE"
  /** An expression kept as written (it needs a manual edit) because it has no exact translation. */
  | "EXPRESSION_NOT_TRANSLATED"
  /** A setting of the node with no equivalent here; the step behaves as described in the message. */
  | "PARAMETER_NOT_TRANSLATED"
  /** Credentials are never part of an export; the step needs one of ours chosen. */
  | "CREDENTIAL_NOT_IMPORTED"
  /** A connection whose end was not imported, or of a kind (AI sub-nodes, extra outputs) we do not have. */
  | "CONNECTION_NOT_IMPORTED";

export interface ImportProblem {
  code: ImportProblemCode;
  message: string;
  /** The source node (n8n: its name and type). */
  nodeName?: string;
  nodeType?: string;
  /** The step the node became, when it was imported. */
  stepId?: string;
  /** The source parameter the problem is about, e.g. "url" or "conditions.conditions[0].left". */
  parameter?: string;
}
