/** Run.usage (R42): the LLM tokens and cost of a run — every ai.agent model call and every openai.chat step. */
import { costUsd, DEFAULT_MODEL_PRICES, mergePriceTables } from "@algorythmos/domain";
import { Prisma, query, type Db, type Env } from "@algorythmos/platform";
import { builder } from "../builder.js";
import { RunRef } from "./run.js";

export interface RunUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** LLM calls counted, and how many of them had no price (their cost counts as 0). */
  calls: number;
  unpricedCalls: number;
}

interface UsageRow {
  type: string;
  model: string | null;
  usage: Record<string, unknown> | null;
  prices: unknown;
}

/**
 * Sums the succeeded LLM calls of a run from its ledger: an agent's model sub-steps (`…/model-<n>`) carry
 * their tokens and cost; an openai.chat step carries its tokens and model, priced here with the same tables
 * (built-in, MODEL_PRICES, the run's workspace).
 */
export async function runUsage(deps: { db: Db; env: Env }, runId: string): Promise<RunUsage> {
  const rows = await query<UsageRow>(
    deps.db,
    Prisma.sql`SELECT s."type", s."output"->>'model' AS "model", s."output"->'usage' AS "usage", w."modelPrices" AS "prices"
      FROM "Run" r JOIN "Workspace" w ON w."id" = r."workspaceId"
      JOIN "RunStep" s ON s."runId" = r."id" AND s."status" = 'succeeded'::"StepStatus"
      WHERE r."id" = ${runId} AND ((s."type" = 'ai.agent' AND s."stepId" ~ '/model-[0-9]+$') OR s."type" = 'openai.chat')`,
    "algo_run_usage",
  );
  const total: RunUsage = { promptTokens: 0, completionTokens: 0, costUsd: 0, calls: 0, unpricedCalls: 0 };
  if (!rows.length) return total;
  const prices = mergePriceTables(DEFAULT_MODEL_PRICES, deps.env.MODEL_PRICES, rows[0]!.prices);
  const count = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
  for (const row of rows) {
    const usage = row.usage ?? {};
    total.calls++;
    if (row.type === "ai.agent") {
      total.promptTokens += count(usage.promptTokens);
      total.completionTokens += count(usage.completionTokens);
      if (typeof usage.costUsd === "number") total.costUsd += usage.costUsd;
      else total.unpricedCalls++;
      continue;
    }
    const tokens = { promptTokens: count(usage.prompt_tokens), completionTokens: count(usage.completion_tokens) };
    total.promptTokens += tokens.promptTokens;
    total.completionTokens += tokens.completionTokens;
    const cost = row.model ? costUsd(prices, row.model, tokens) : null;
    if (cost === null) total.unpricedCalls++;
    else total.costUsd += cost;
  }
  total.costUsd = Math.round(total.costUsd * 1e9) / 1e9;
  return total;
}

const RunUsageRef = builder.objectRef<RunUsage>("RunUsage").implement({
  description: "LLM tokens and cost of a run: its ai.agent model calls and openai.chat steps that succeeded.",
  fields: (t) => ({
    promptTokens: t.exposeInt("promptTokens", { description: "Input (prompt) tokens, summed." }),
    completionTokens: t.exposeInt("completionTokens", { description: "Output (completion) tokens, summed." }),
    costUsd: t.exposeFloat("costUsd", { description: "Cost in USD from the model price table (built-in, MODEL_PRICES, the workspace's own); unpriced models count 0." }),
    calls: t.exposeInt("calls", { description: "How many LLM calls were counted." }),
    unpricedCalls: t.exposeInt("unpricedCalls", { description: "How many of them used a model with no price." }),
  }),
});

builder.objectField(RunRef, "usage", (t) =>
  t.field({
    type: RunUsageRef,
    description: "LLM tokens and cost of the run so far (R42).",
    resolve: (run, _args, ctx) => runUsage(ctx.deps, run.id),
  }),
);
