/**
 * The GraphQL documents the studio sends, each typed with its data and variables by hand (schema.graphql is
 * the contract; there is no codegen step). One place, so a schema change is a one-file edit here.
 */
import type { RunStatus, StepStatus } from "@algorythmos/domain";

/** A GraphQL document carrying its result and variable types. */
export interface Operation<Data, Variables extends Record<string, unknown> = Record<string, never>> {
  query: string;
  /** Phantom field: never set, only carries the types. */
  readonly __types?: { data: Data; variables: Variables };
}

const op = <Data, Variables extends Record<string, unknown> = Record<string, never>>(query: string): Operation<Data, Variables> => ({ query });

export interface Workspace {
  id: string;
  name: string;
  role: "owner" | "editor" | "viewer";
}
export interface Me {
  id: string;
  email: string;
  name: string;
  workspaces: Workspace[];
}
export interface StepTypeInfo {
  type: string;
  label: string;
  category: string;
  description: string;
  configSchema: JsonSchema;
}
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
export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  updatedAt: string;
}
export interface RunSummary {
  id: string;
  status: RunStatus;
  steps: { stepId: string; status: StepStatus }[];
}
export interface RunEventData {
  seq: number;
  type: string;
  runId: string;
  stepId: string | null;
  status: string;
  at: string;
  error: string | null;
}

export const ME = op<{ me: Me }>(/* GraphQL */ `
  query Me {
    me { id email name workspaces { id name role } }
  }
`);

export const LOG_IN = op<{ logIn: { token: string } }, { input: { email: string; password: string } }>(/* GraphQL */ `
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { token }
  }
`);

export const SIGN_UP = op<{ signUp: { token: string } }, { input: { name: string; email: string; password: string } }>(/* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { token }
  }
`);

export const WORKFLOWS = op<
  { me: Me; workflows: { edges: { node: WorkflowSummary }[] } },
  { workspaceId: string; first: number }
>(/* GraphQL */ `
  query Workflows($workspaceId: ID!, $first: Int) {
    me { id email name workspaces { id name role } }
    workflows(workspaceId: $workspaceId, first: $first) { edges { node { id name description updatedAt } } }
  }
`);

export const CREATE_WORKFLOW = op<{ createWorkflow: { id: string } }, { input: { workspaceId: string; name: string } }>(/* GraphQL */ `
  mutation CreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) { id }
  }
`);

export const EDITOR = op<
  { me: Me; workflow: { id: string; name: string; workspaceId: string }; stepTypes: StepTypeInfo[] },
  { id: string }
>(/* GraphQL */ `
  query Editor($id: ID!) {
    me { id email name workspaces { id name role } }
    workflow(id: $id) { id name workspaceId }
    stepTypes { type label category description configSchema }
  }
`);

export const START_RUN = op<{ startRun: RunSummary }, { input: { workflowId: string; input: unknown } }>(/* GraphQL */ `
  mutation StartRun($input: StartRunInput!) {
    startRun(input: $input) { id status steps { stepId status } }
  }
`);

export const RUN_EVENTS = op<{ runEvents: RunEventData }, { runId: string }>(/* GraphQL */ `
  subscription RunEvents($runId: ID!) {
    runEvents(runId: $runId) { seq type runId stepId status at error }
  }
`);
