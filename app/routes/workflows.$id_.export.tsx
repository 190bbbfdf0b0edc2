import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireData } from "~/lib/graphql.server";
import { EXPORT_WORKFLOW } from "~/lib/operations";

/** GET /workflows/:id/export — the workflow's importable JSON (Workflow.export), as a file download. */
export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const { workflow } = await requireData(context, request, EXPORT_WORKFLOW, { id: params.id ?? "" });
  const slug = workflow.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "workflow";
  return new Response(JSON.stringify(workflow.export, null, 2) + "\n", {
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="${slug}.json"`,
      "Cache-Control": "no-store",
    },
  });
}
