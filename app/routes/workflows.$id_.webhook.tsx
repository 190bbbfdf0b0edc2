import type { LoaderFunctionArgs } from "@remix-run/node";
import { execute } from "~/lib/graphql.server";
import { WORKFLOW_WEBHOOK } from "~/lib/operations";
import type { WebhookAddress } from "~/components/editor/TriggerInfo";

/** GET /workflows/:id/webhook — the webhook trigger's address for the trigger panel (editors only: it holds the secret). */
export async function loader({ context, request, params }: LoaderFunctionArgs): Promise<Response> {
  const result = await execute(context, request, WORKFLOW_WEBHOOK, { id: params.id ?? "" });
  const body: WebhookAddress = !result.ok
    ? { url: null, path: null, error: result.error.message }
    : !result.data.workflow.webhookPath
      ? { url: null, path: null, error: "Only editors and owners see the webhook URL: it holds the workflow's secret." }
      : {
          path: result.data.workflow.webhookPath,
          // The request as the browser sent it (https behind TLS, see server/studio.ts).
          url: result.data.workflow.webhookUrl ?? new URL(result.data.workflow.webhookPath, request.url).href,
          error: null,
        };
  return new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } });
}
