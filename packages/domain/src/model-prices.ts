import { z } from "zod";

/**
 * LLM prices (R42): USD per 1 million input (prompt) and output (completion) tokens, per model. The built-in
 * table is a default; the deployment overrides or extends it (`MODEL_PRICES`, JSON in the worker's and the
 * server's environment) and each workspace may override that (`Workspace.modelPrices`). A model that is in
 * none of them costs 0 and is reported as unpriced, never guessed.
 */
export const ModelPrice = z.object({
  inputPerMTok: z.number().min(0).max(10_000),
  outputPerMTok: z.number().min(0).max(10_000),
});
export type ModelPrice = z.infer<typeof ModelPrice>;
export const ModelPriceTable = z.record(z.string().trim().min(1).max(200), ModelPrice);
export type ModelPriceTable = z.infer<typeof ModelPriceTable>;

/** OpenAI's list prices (standard tier) when this table was written; override them rather than edit them. */
export const DEFAULT_MODEL_PRICES: ModelPriceTable = {
  "gpt-4o": { inputPerMTok: 2.5, outputPerMTok: 10 },
  "gpt-4o-mini": { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  "gpt-4.1": { inputPerMTok: 2, outputPerMTok: 8 },
  "gpt-4.1-mini": { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  "gpt-4.1-nano": { inputPerMTok: 0.1, outputPerMTok: 0.4 },
  "o3": { inputPerMTok: 2, outputPerMTok: 8 },
  "o4-mini": { inputPerMTok: 1.1, outputPerMTok: 4.4 },
  "gpt-3.5-turbo": { inputPerMTok: 0.5, outputPerMTok: 1.5 },
};

/** Later tables win: the defaults, then the deployment's, then the workspace's. Invalid overrides are ignored. */
export function mergePriceTables(...tables: (unknown | undefined)[]): ModelPriceTable {
  const merged: ModelPriceTable = {};
  for (const table of tables) {
    const parsed = ModelPriceTable.safeParse(table ?? {});
    if (parsed.success) Object.assign(merged, parsed.data);
  }
  return merged;
}

/**
 * The price of a model: its exact name, else the longest table entry it starts with followed by "-"
 * (a dated snapshot such as `gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`), else null.
 */
export function priceOf(table: ModelPriceTable, model: string): ModelPrice | null {
  if (Object.hasOwn(table, model)) return table[model]!;
  let best: string | null = null;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (best === null || name.length > best.length)) best = name;
  }
  return best === null ? null : table[best]!;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Cost in USD of one call (rounded to 1e-9 USD so sums stay stable); null when the model has no price. */
export function costUsd(table: ModelPriceTable, model: string, usage: TokenUsage): number | null {
  const price = priceOf(table, model);
  if (!price) return null;
  const cost = (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / 1_000_000;
  return Math.round(cost * 1e9) / 1e9;
}
