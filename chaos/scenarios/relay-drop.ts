/**
 * 5. Relay messages dropped on purpose: both collab processes restarted with COLLAB_RELAY_DROP_RATE (the
 * relay's fault switch for this suite: that fraction of relay publishes is silently dropped), then four
 * clients on the two processes edit. Divergence is measured from the last edit.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { docMaps } from "@algorythmos/domain";
import { createWorkflow, emptyDefinition } from "../lib/api.js";
import { repoRoot } from "../lib/cluster.js";
import { connectEditor, measureConvergence, startEditing, waitSynced } from "../lib/collab.js";
import { DIVERGENCE_GOAL_MS } from "../lib/fault-window.js";
import { info, under, yes, zero } from "../lib/report.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

export const DROP_SWITCH = "COLLAB_RELAY_DROP_RATE";
const DROP_RATE = "0.3";

/** Whether the processes know the switch (it is read in collab/ or the platform's env). */
function switchExists(): boolean {
  for (const dir of ["collab", "packages/platform/src"]) {
    for (const file of readdirSync(path.join(repoRoot, dir))) {
      if (file.endsWith(".ts") && readFileSync(path.join(repoRoot, dir, file), "utf8").includes(DROP_SWITCH)) return true;
    }
  }
  return false;
}

export const relayDrop: Scenario = {
  name: "relay-drop",
  title: `relay publishes dropped (${DROP_SWITCH}=${DROP_RATE})`,
  // Four collab restarts; the short tier covers relay repair through redis-restart's lost publishes.
  inShortTier: false,
  async run(context) {
    const { cluster, owner } = context;
    if (!switchExists()) return [yes(`fault switch ${DROP_SWITCH} exists`, false)];
    const restart = async (value: string | null) => {
      for (const collab of cluster.collabs) {
        await collab.stop("SIGTERM");
        collab.setEnv({ [DROP_SWITCH]: value });
        await collab.start();
      }
    };
    await restart(DROP_RATE);
    const workflowId = await createWorkflow(cluster.servers[0]!.url, owner, emptyDefinition("chaos relay drop"));
    const editors = [0, 1, 2, 3].map((index) => connectEditor(`c${index}`, cluster.collabs[index % 2]!.url, workflowId, owner.token));
    const bound = context.tier.name === "full" ? 30_000 : 15_000;
    try {
      await waitSynced(editors);
      const editing = startEditing(editors, 150);
      // How far apart the clients drift while edits are being dropped (shows the switch is in effect).
      let widestGap = 0;
      const editUntil = Date.now() + (context.tier.name === "full" ? 8_000 : 3_000);
      while (Date.now() < editUntil) {
        const sizes = editors.map((editor) => docMaps(editor.doc).steps.size);
        widestGap = Math.max(widestGap, Math.max(...sizes) - Math.min(...sizes));
        await sleep(100);
      }
      await editing.stop();
      const lastEditAt = Date.now();
      const convergence = await measureConvergence({
        editors,
        collabUrls: cluster.collabs.map((collab) => collab.url),
        databaseUrl: cluster.postgres.url,
        workflowId,
        token: owner.token,
        acknowledged: editing.acknowledged,
        since: lastEditAt,
        timeoutMs: bound,
      });
      editing.detach();
      if (convergence.detail) context.notes.push(`relay-drop: not converged: ${convergence.detail}`);
      return [
        info("edits made / acknowledged", `${editing.made} / ${editing.acknowledged.size}`),
        info("widest gap between clients while editing (steps)", widestGap),
        zero("acknowledged edits lost", convergence.lostAcknowledged),
        zero("edits missing at the end", convergence.missingAny),
        under("divergence after the last edit", convergence.divergenceMs, DIVERGENCE_GOAL_MS, bound),
      ];
    } finally {
      for (const editor of editors) editor.provider.destroy();
      await restart(null);
    }
  },
};
