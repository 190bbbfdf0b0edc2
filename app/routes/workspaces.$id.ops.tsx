import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { CollabPanel, QueuesPanel, TroubledRunsPanel, type BulkOutcome } from "~/components/ops/OpsPanels";
import { CANCEL_RUNS, OPERATIONS_PAGE, RETRY_RUNS } from "~/components/ops/operations";
import { TopBar } from "~/components/TopBar";
import { execute, requireData } from "~/lib/graphql.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.workspace.name ?? "Workspace"} operations · Algorythmos Studio` }];

/** Owners only: the API answers FORBIDDEN to editors and viewers, which the error boundary shows as 403. */
export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const { me, workspace, operations } = await requireData(context, request, OPERATIONS_PAGE, { workspaceId: params.id ?? "" });
  return { me, workspace, operations, at: new Date().toISOString() };
}

export async function action({ context, request, params }: ActionFunctionArgs): Promise<BulkOutcome> {
  const form = await request.formData();
  const input = { workspaceId: params.id ?? "", runIds: form.getAll("runId").map(String) };
  const intent = form.get("intent");
  if (intent !== "retry" && intent !== "cancel") throw new Response("Unknown action", { status: 400 });
  if (!input.runIds.length) return { ok: false, message: "Select at least one run" };
  const result = intent === "retry" ? await execute(context, request, RETRY_RUNS, { input }) : await execute(context, request, CANCEL_RUNS, { input });
  if (!result.ok) return { ok: false, message: result.error.message };
  const outcome = "retryRuns" in result.data ? result.data.retryRuns : result.data.cancelRuns;
  const done = outcome.runs.length;
  return {
    ok: true,
    message: intent === "retry" ? `Retried ${done} run${done === 1 ? "" : "s"}` : `Canceled ${done} run${done === 1 ? "" : "s"}`,
    failures: outcome.failures.map((failure) => ({ runId: failure.runId, message: `${failure.runId}: ${failure.message}` })),
  };
}

/** The figures are a snapshot: read again every 5 s while the page is open. */
const REFRESH_MS = 5_000;

export default function WorkspaceOperations() {
  const { me, workspace, operations, at } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  useEffect(() => {
    const timer = setInterval(() => {
      if (revalidator.state === "idle" && document.visibilityState === "visible") revalidator.revalidate();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [revalidator]);
  return (
    <>
      <TopBar name={me.name} workspaceId={workspace.id} />
      <main className="page wide">
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to={`/workflows?workspace=${workspace.id}`}>Workflows</Link> / Operations
        </nav>
        <h1>{workspace.name} operations</h1>
        <p className="muted small">As of {new Date(at).toLocaleTimeString("en-GB", { timeZone: "UTC" })} UTC · refreshed every 5 s</p>
        <QueuesPanel queues={operations.queues} />
        <TroubledRunsPanel runs={operations.troubledRuns} />
        <CollabPanel processes={operations.collab.processes} rooms={operations.collab.rooms} />
      </main>
    </>
  );
}
