-- ai.agent cost (R42): a workspace's own LLM prices, over the deployment's MODEL_PRICES and the built-in table.
-- JSON { "<model>": { "inputPerMTok": number, "outputPerMTok": number } } (USD per 1M tokens); NULL: none.
ALTER TABLE "Workspace" ADD COLUMN "modelPrices" JSONB;
