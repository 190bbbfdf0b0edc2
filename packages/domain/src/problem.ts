/**
 * The problem shape shared by validation and the static checks (its own module, so the checks that build
 * problems need not import the validation that calls them).
 */
/** A problem found in a definition. Problems never block editing; they block running. */
export type ProblemCode =
  | "DUPLICATE_STEP_ID"
  | "DUPLICATE_EDGE_ID"
  /** L12: two steps called by one key (or a key that is another step's id). */
  | "DUPLICATE_STEP_KEY"
  | "UNKNOWN_STEP_TYPE"
  | "INVALID_CONFIG"
  | "DANGLING_EDGE"
  | "CYCLE"
  | "MISSING_TRIGGER"
  | "TRIGGER_HAS_INCOMING_EDGE"
  | "UNLABELLED_CONDITION_EDGE"
  | "INVALID_EDGE_LABEL"
  | "ERROR_EDGE_WITHOUT_BRANCH"
  | "LOOP_WITHOUT_BODY"
  | "LOOP_BODY_ENTERED"
  | "INVALID_DEFINITION"
  /** R52: an http URL (template) the worker would refuse. */
  | "INVALID_URL"
  /** R52: a credentialId the workspace has no credential of the right type for (checked with a context only). */
  | "MISSING_CREDENTIAL"
  /** R53 (warning): a step no trigger reaches; runs never execute it. */
  | "UNREACHABLE_STEP"
  /** R53 (warning): a trigger with no step after it. */
  | "UNCONNECTED_TRIGGER";

export interface Problem {
  code: ProblemCode;
  message: string;
  stepId?: string;
  edgeId?: string;
  /** Config field path for INVALID_CONFIG, e.g. ["url"]. */
  path?: (string | number)[];
  /** "warning" (R53): shown while editing, never blocks running or publishing. Absent: it blocks them. */
  severity?: "warning";
}
