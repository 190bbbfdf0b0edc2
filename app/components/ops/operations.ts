/** The operations page's GraphQL documents (schema.graphql: Query.operations, Mutation.retryRuns / cancelRuns). */
import type { RunStatus } from "@algorythmos/domain";
import type { Operation } from "~/lib/operations";

const op = <Data, Variables extends Record<string, unknown>>(query: string): Operation<Data, Variables> => ({ query });

export interface QueueFigures {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  workers: number;
}
export interface TroubledRun {
  trouble: "failed" | "canceled" | "stuck";
  workflowName: string;
  run: { id: string; workflowId: string; status: RunStatus; error: string | null; createdAt: string; finishedAt: string | null };
}
export interface CollabRoom {
  workflowId: string;
  workflowName: string;
  connections: number;
}
export interface BulkRunOutcome {
  runs: { id: string; status: RunStatus }[];
  failures: { runId: string; code: string; message: string }[];
}

export const OPERATIONS_PAGE = op<
  {
    me: { id: string; name: string };
    workspace: { id: string; name: string; role: string };
    operations: { queues: QueueFigures[]; troubledRuns: TroubledRun[]; collab: { processes: number; rooms: CollabRoom[] } };
  },
  { workspaceId: string }
>(/* GraphQL */ `
  query OperationsPage($workspaceId: ID!) {
    me { id name }
    workspace(id: $workspaceId) { id name role }
    operations(workspaceId: $workspaceId) {
      queues { name waiting active delayed failed workers }
      troubledRuns { trouble workflowName run { id workflowId status error createdAt finishedAt } }
      collab { processes rooms { workflowId workflowName connections } }
    }
  }
`);

export const RETRY_RUNS = op<{ retryRuns: BulkRunOutcome }, { input: { workspaceId: string; runIds: string[] } }>(/* GraphQL */ `
  mutation RetryRuns($input: BulkRunInput!) { retryRuns(input: $input) { runs { id status } failures { runId code message } } }
`);

export const CANCEL_RUNS = op<{ cancelRuns: BulkRunOutcome }, { input: { workspaceId: string; runIds: string[] } }>(/* GraphQL */ `
  mutation CancelRuns($input: BulkRunInput!) { cancelRuns(input: $input) { runs { id status } failures { runId code message } } }
`);
