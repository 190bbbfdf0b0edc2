/**
 * 4. A collab process SIGKILLed, then (separately) SIGTERMed, while six clients on the two processes edit;
 * the process is started again at once and its clients reconnect by themselves.
 */
import { createWorkflow, emptyDefinition } from "../lib/api.js";
import { connectEditor, measureConvergence, startEditing, waitSynced } from "../lib/collab.js";
import { DIVERGENCE_GOAL_MS, EDIT_AFTER_FAULT_MS } from "../lib/fault-window.js";
import { info, under, zero, type Figure } from "../lib/report.js";
import { sleep } from "../lib/util.js";
import type { Scenario } from "../suite.js";

export const collabKill: Scenario = {
  name: "collab-kill",
  title: "collab SIGKILL and SIGTERM while 6 clients on 2 processes edit",
  async run(context) {
    const { cluster, owner } = context;
    const figures: Figure[] = [];
    const rounds = context.tier.name === "full" ? 3 : 1;
    for (const signal of ["SIGKILL", "SIGTERM"] as const) {
      let made = 0;
      let acknowledged = 0;
      let lost = 0;
      let missing = 0;
      let worstMs: number | null = 0;
      const bound = context.tier.name === "full" ? 30_000 : 15_000;
      for (let round = 0; round < rounds; round++) {
        const workflowId = await createWorkflow(cluster.servers[0]!.url, owner, emptyDefinition(`chaos collab ${signal} ${round}`));
        const editors = [0, 1, 2, 3, 4, 5].map((index) => connectEditor(`c${index}`, cluster.collabs[index % 2]!.url, workflowId, owner.token));
        try {
          await waitSynced(editors);
          const editing = startEditing(editors, 150);
          await sleep(1_500 + context.random() * 1_000);
          const victim = cluster.collabs[round % 2]!;
          const stopped = await victim.stop(signal);
          if (signal === "SIGTERM") context.notes.push(`collab-kill: ${victim.name} exited ${stopped.exitCode ?? stopped.signal} ${stopped.ms} ms after SIGTERM`);
          await victim.start();
          await sleep(EDIT_AFTER_FAULT_MS);
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
          if (convergence.detail) context.notes.push(`collab-kill ${signal} round ${round}: not converged: ${convergence.detail}`);
          made += editing.made;
          acknowledged += editing.acknowledged.size;
          lost += convergence.lostAcknowledged;
          missing += convergence.missingAny;
          worstMs = worstMs === null || convergence.divergenceMs === null ? null : Math.max(worstMs, convergence.divergenceMs);
        } finally {
          for (const editor of editors) editor.provider.destroy();
        }
      }
      figures.push(
        info(`${signal}: edits made / acknowledged`, `${made} / ${acknowledged}`),
        zero(`${signal}: acknowledged edits lost`, lost),
        zero(`${signal}: edits missing at the end`, missing),
        under(`${signal}: divergence after the last edit (worst of ${rounds})`, worstMs, DIVERGENCE_GOAL_MS, bound),
      );
    }
    return figures;
  },
};
