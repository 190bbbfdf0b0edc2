/**
 * The GraphQL documents the studio sends: the SDK's typed documents (packages/sdk/src/documents.ts, typed from
 * schema.graphql by gql.tada), printed once for the wire. Result and variable types come from the schema, so
 * a schema change breaks the type-check here and in every caller, never the studio in production.
 * The only hand-written types left narrow JSON scalars (a config schema, a captured definition).
 */
import * as documents from "@algorythmos/sdk/documents";
import { print, type ResultOf, type TadaDocumentNode, type VariablesOf } from "@algorythmos/sdk/documents";

/** A GraphQL document carrying its result and variable types. */
export interface Operation<Data, Variables extends Record<string, unknown> = Record<string, never>> {
  query: string;
  /** Phantom field: never set, only carries the types. */
  readonly __types?: { data: Data; variables: Variables };
}

type AnyDocument = TadaDocumentNode<any, any>;
type VariablesFor<D extends AnyDocument> = VariablesOf<D> extends Record<string, unknown> ? VariablesOf<D> : Record<string, never>;

/** The document as an Operation typed from the schema. */
const op = <D extends AnyDocument>(document: D): Operation<ResultOf<D>, VariablesFor<D>> => ({ query: print(document) });
/**
 * The same, with JSON scalars read as a narrower type. `Data` must extend the schema's type, so a narrowing
 * can only refine a JSON field, never add or rename one.
 */
const narrowed = <Data extends ResultOf<D>, D extends AnyDocument = AnyDocument>(document: D): Operation<Data, VariablesFor<D>> => ({ query: print(document) });

/** The part of JSON Schema (as zod prints it) the config forms understand. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
}
/** The part of a captured definition the trace reads (the JSON is the workflow definition schema). */
export interface CapturedDefinition {
  steps?: { id: string; name?: string; type: string; config?: Record<string, unknown> }[];
}

export type Me = ResultOf<typeof documents.ME>["me"];
export type Workspace = Me["workspaces"][number];
export type RoleName = Workspace["role"];
export type WorkflowSummary = ResultOf<typeof documents.WORKFLOW_SUMMARY>;
type EditorData = ResultOf<typeof documents.EDITOR>;
export type StepTypeInfo = Omit<EditorData["stepTypes"][number], "configSchema"> & { configSchema: JsonSchema };
export type RunSummary = ResultOf<typeof documents.START_RUN>["startRun"];
export type RunEventData = ResultOf<typeof documents.RUN_EVENTS>["runEvents"];
export type RunListItem = ResultOf<typeof documents.RUN_LIST_FIELDS>;
type RunDetailData = ResultOf<typeof documents.RUN_DETAIL>["run"];
export type RunStepAttempt = RunDetailData["steps"][number];
export type RunDetail = Omit<RunDetailData, "definition"> & {
  /** The workflow definition captured when the run started (later edits do not change it). */
  definition: CapturedDefinition;
};
/** A run event with its payload (output carries `{ delta }` on STEP_CHUNK). */
export type RunEventWithOutput = ResultOf<typeof documents.RUN_EVENT_FIELDS>;
export type VersionInfo = ResultOf<typeof documents.VERSIONS>["workflow"]["versions"][number];
type SettingsData = ResultOf<typeof documents.SETTINGS>;
export type MemberInfo = SettingsData["workspace"]["members"][number];
export type ApiTokenInfo = SettingsData["apiTokens"][number];
export type CredentialInfo = ResultOf<typeof documents.CREDENTIALS>["credentials"][number];

export const ME = op(documents.ME);
export const LOG_IN = op(documents.LOG_IN);
/** Ends the session of the cookie's access token on the server, so a copy of the cookie stops working too. */
export const END_SESSION = op(documents.END_SESSION);
export const SIGN_UP = op(documents.SIGN_UP);
export const WORKFLOWS = op(documents.WORKFLOWS);
export const CREATE_WORKFLOW = op(documents.CREATE_WORKFLOW);
export const EDITOR = narrowed<Omit<EditorData, "stepTypes"> & { stepTypes: StepTypeInfo[] }>(documents.EDITOR);
export const START_RUN = op(documents.START_RUN);
export const RUN_EVENTS = op(documents.RUN_EVENTS);

// ---------- runs and traces ----------
export const WORKFLOW_RUNS_PAGE = op(documents.WORKFLOW_RUNS_PAGE);
export const RUN_DETAIL = narrowed<{ run: RunDetail }>(documents.RUN_DETAIL);
export const RUN_WORKFLOW = op(documents.RUN_WORKFLOW);
export const CANCEL_RUN = op(documents.CANCEL_RUN);
export const RETRY_RUN = op(documents.RETRY_RUN);
export const RUN_EVENTS_LIVE = op(documents.RUN_EVENTS_LIVE);
export const WORKFLOW_RUN_EVENTS = op(documents.WORKFLOW_RUN_EVENTS);

// ---------- versions ----------
export const VERSIONS = op(documents.VERSIONS);
export const CREATE_VERSION = op(documents.CREATE_VERSION);
export const RESTORE_VERSION = op(documents.RESTORE_VERSION);

// ---------- workspace settings ----------
export const SETTINGS = op(documents.SETTINGS);
export const CREDENTIALS = op(documents.CREDENTIALS);
export const INVITE_MEMBER = op(documents.INVITE_MEMBER);
export const REMOVE_MEMBER = op(documents.REMOVE_MEMBER);
export const CREATE_CREDENTIAL = op(documents.CREATE_CREDENTIAL);
export const DELETE_CREDENTIAL = op(documents.DELETE_CREDENTIAL);
export const CREATE_API_TOKEN = op(documents.CREATE_API_TOKEN);
export const REVOKE_API_TOKEN = op(documents.REVOKE_API_TOKEN);

// ---------- workflow list actions ----------
export const DUPLICATE_WORKFLOW = op(documents.DUPLICATE_WORKFLOW);
export const DELETE_WORKFLOW = op(documents.DELETE_WORKFLOW);
export const IMPORT_WORKFLOW = op(documents.IMPORT_WORKFLOW);
export const EXPORT_WORKFLOW = op(documents.EXPORT_WORKFLOW);
