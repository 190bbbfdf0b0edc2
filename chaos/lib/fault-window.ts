/**
 * A fault injected while runs execute and four clients on two collab processes co-edit (scenarios 2 and 3):
 * the fault, then run figures (stuck, lost, duplicates), collab figures (acknowledged edits lost, divergence
 * after the fault ended) and what the API answered meanwhile.
 */
import { call, createWorkflow, RETRYABLE_OUTAGE, effectDefinition, emptyDefinition } from "./api.js";
import { connectEditor, measureConvergence, startEditing, waitSynced } from "./collab.js";
import { info, tally, under, zero, type Figure } from "./report.js";
import { runFigures, startRuns, waitAllFinal } from "./runs.js";
import { sleep } from "./util.js";
import type { Context } from "../suite.js";

export const DIVERGENCE_GOAL_MS = 5_000;
/** Clients keep editing this long after a fault ends; divergence is measured from their last edit. */
export const EDIT_AFTER_FAULT_MS = 2_000;

export async function faultDuringRunsAndEdits(context: Context, label: string, inject: () => Promise<void>): Promise<Figure[]> {
  const { cluster, owner } = context;
  const api = cluster.servers[0]!.url;
  const runsWorkflow = await createWorkflow(api, owner, effectDefinition(`chaos ${label} runs`, context.counting.url, "&delayMs=200"));
  const editWorkflow = await createWorkflow(api, owner, emptyDefinition(`chaos ${label} edits`));
  const editors = [0, 1, 2, 3].map((index) => connectEditor(`c${index}`, cluster.collabs[index % 2]!.url, editWorkflow, owner.token));
  try {
    await waitSynced(editors);
    const editing = startEditing(editors, 200);
    const runs = context.scale(60, 10);
    const load = startRuns(context, runsWorkflow, runs, { everyMs: Math.max(50, Math.round((2 * 6_000) / runs)), concurrency: 2 });

    // Reads of the API on both servers throughout: what a user sees during the fault.
    const reads: string[] = [];
    /** The first few answers that were neither OK nor a retryable 503, with their messages, for the notes. */
    const odd: string[] = [];
    let reading = true;
    const reader = (async () => {
      for (let i = 0; reading && i < 2_000; i++) {
        const server = cluster.servers[i % 2]!.url;
        const result = await call(server, `query($id: ID!) { workflow(id: $id) { id name } }`, { id: runsWorkflow }, owner.token, 5_000);
        reads.push(result.outcome);
        if (result.outcome !== "OK" && result.outcome !== RETRYABLE_OUTAGE && odd.length < 3) odd.push(`${result.outcome}: ${result.message ?? ""}`.slice(0, 200));
        await sleep(100);
      }
    })();

    await sleep(1_500);
    const faultAt = Date.now();
    await inject();
    const healedAt = Date.now();
    // Edits go on after the fault: an update that depends on one the fault lost is where processes split.
    await sleep(EDIT_AFTER_FAULT_MS);
    await editing.stop();
    const lastEditAt = Date.now();
    const convergenceBound = context.tier.name === "full" ? 30_000 : 15_000;
    const convergence = await measureConvergence({
      editors,
      collabUrls: cluster.collabs.map((collab) => collab.url),
      databaseUrl: cluster.postgres.url,
      workflowId: editWorkflow,
      token: owner.token,
      acknowledged: editing.acknowledged,
      since: lastEditAt,
      timeoutMs: convergenceBound,
    });
    editing.detach();
    await load.done;
    const finalBound = context.tier.name === "full" ? 90_000 : 40_000;
    const allFinalMs = await waitAllFinal(context, load.runIds, healedAt, finalBound);
    reading = false;
    await reader;
    const failed = [...reads, ...load.outcomes].filter((outcome) => outcome !== "OK");
    if (odd.length) context.notes.push(`${label}: answers other than OK or 503: ${odd.join(" | ")}`);
    if (convergence.detail) context.notes.push(`${label}: not converged: ${convergence.detail}`);
    context.notes.push(`${label}: fault lasted ${((healedAt - faultAt) / 1000).toFixed(1)} s; ${editing.made} edits made, ${editing.acknowledged.size} acknowledged`);
    return [
      ...(await runFigures(context, load)),
      info("time to all-final after the fault", allFinalMs === null ? `> ${finalBound / 1000} s` : `${(allFinalMs / 1000).toFixed(1)} s`),
      info("edits made / acknowledged", `${editing.made} / ${editing.acknowledged.size}`),
      zero("acknowledged edits lost", convergence.lostAcknowledged),
      zero("edits missing at the end (any client's)", convergence.missingAny),
      under("collab divergence after the last edit", convergence.divergenceMs, DIVERGENCE_GOAL_MS, convergenceBound),
      info("failed API requests", tally(failed)),
      zero("failed API requests not answered 503 SERVICE_UNAVAILABLE + Retry-After", failed.filter((outcome) => outcome !== RETRYABLE_OUTAGE).length),
    ];
  } finally {
    for (const editor of editors) editor.provider.destroy();
  }
}
