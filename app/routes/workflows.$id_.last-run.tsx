import type { LoaderFunctionArgs } from "@remix-run/node";
import { execute } from "~/lib/graphql.server";
import { RUN_DETAIL, WORKFLOW_RUNS_PAGE } from "~/lib/operations";

/** What the expression editor knows of the workflow's newest run: its input and each top-level step's output. */
export interface LastRunData {
  runId: string | null;
  status: string | null;
  input: unknown;
  /** Step id → output of its latest succeeded attempt (loop iterations and agent sub-steps left out). */
  outputs: Record<string, unknown>;
  error: string | null;
}

const json = (body: LastRunData) => new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } });

/** GET /workflows/:id/last-run — the newest run's real values, for autocomplete and the live preview (readers too). */
export async function loader({ context, request, params }: LoaderFunctionArgs): Promise<Response> {
  const none: LastRunData = { runId: null, status: null, input: null, outputs: {}, error: null };
  const page = await execute(context, request, WORKFLOW_RUNS_PAGE, { workflowId: params.id ?? "", first: 1 });
  if (!page.ok) return json({ ...none, error: page.error.message });
  const newest = page.data.runs.edges[0]?.node;
  if (!newest) return json(none);
  const detail = await execute(context, request, RUN_DETAIL, { id: newest.id });
  if (!detail.ok) return json({ ...none, error: detail.error.message });
  const outputs: Record<string, unknown> = {};
  // Attempts come oldest first: the latest succeeded one wins.
  for (const step of detail.data.run.steps) {
    if (step.status !== "succeeded") continue;
    if (step.stepId.includes("@") || step.stepId.includes("/")) continue;
    outputs[step.stepId] = step.output;
  }
  return json({ runId: newest.id, status: detail.data.run.status, input: detail.data.run.input, outputs, error: null });
}
