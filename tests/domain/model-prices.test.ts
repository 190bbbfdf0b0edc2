/** The model price table (docs/run-engine.md R42): lookup by name and snapshot prefix, overrides, cost, MODEL_PRICES. */
import { costUsd, DEFAULT_MODEL_PRICES, mergePriceTables, priceOf } from "@algorythmos/domain";
import { EnvSchema } from "@algorythmos/platform";
import { describe, expect, it } from "vitest";

describe("model prices (R42)", () => {
  it("R42: a model is priced by its exact name, else by the longest entry it starts with followed by '-', else not at all", () => {
    expect(priceOf(DEFAULT_MODEL_PRICES, "gpt-4o")).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10 });
    // gpt-4o-mini-2024-07-18 starts with both gpt-4o- and gpt-4o-mini-: the longer wins.
    expect(priceOf(DEFAULT_MODEL_PRICES, "gpt-4o-mini-2024-07-18")).toEqual(DEFAULT_MODEL_PRICES["gpt-4o-mini"]);
    expect(priceOf(DEFAULT_MODEL_PRICES, "gpt-4omni")).toBeNull();
    expect(priceOf(DEFAULT_MODEL_PRICES, "llama-3")).toBeNull();
  });

  it("R42: cost is tokens × USD per 1M, null for an unpriced model", () => {
    expect(costUsd(DEFAULT_MODEL_PRICES, "gpt-4o", { promptTokens: 1_000_000, completionTokens: 100_000 })).toBe(3.5);
    expect(costUsd(DEFAULT_MODEL_PRICES, "gpt-4o-mini", { promptTokens: 100, completionTokens: 20 })).toBe(0.000027);
    expect(costUsd(DEFAULT_MODEL_PRICES, "mystery", { promptTokens: 100, completionTokens: 20 })).toBeNull();
  });

  it("R42: later tables win (built-in, MODEL_PRICES, the workspace's); an invalid override is ignored", () => {
    const merged = mergePriceTables(DEFAULT_MODEL_PRICES, { "gpt-4o": { inputPerMTok: 1, outputPerMTok: 2 }, local: { inputPerMTok: 0, outputPerMTok: 0 } }, { local: { inputPerMTok: 5, outputPerMTok: 6 } }, { broken: { inputPerMTok: -1 } }, null);
    expect(merged["gpt-4o"]).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect(merged.local).toEqual({ inputPerMTok: 5, outputPerMTok: 6 });
    expect(merged.broken).toBeUndefined();
    expect(merged["gpt-4o-mini"]).toEqual(DEFAULT_MODEL_PRICES["gpt-4o-mini"]);
  });

  it("R42: MODEL_PRICES is JSON validated at boot, with a message naming it", () => {
    const base = { DATABASE_URL: "postgres://x@127.0.0.1/x", REDIS_URL: "redis://127.0.0.1:6379", JWT_SECRET: "x".repeat(32), CREDENTIALS_KEY: Buffer.alloc(32).toString("base64") };
    expect(EnvSchema.parse(base).MODEL_PRICES).toEqual({});
    expect(EnvSchema.parse({ ...base, MODEL_PRICES: '{"house":{"inputPerMTok":1,"outputPerMTok":2}}' }).MODEL_PRICES).toEqual({ house: { inputPerMTok: 1, outputPerMTok: 2 } });
    const notJson = EnvSchema.safeParse({ ...base, MODEL_PRICES: "{house" });
    expect(notJson.success).toBe(false);
    expect(notJson.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`)).toEqual(["MODEL_PRICES: MODEL_PRICES must be JSON"]);
    const negative = EnvSchema.safeParse({ ...base, MODEL_PRICES: '{"house":{"inputPerMTok":-1,"outputPerMTok":2}}' });
    expect(negative.success).toBe(false);
    expect(negative.error!.issues[0]!.path).toEqual(["MODEL_PRICES", "house", "inputPerMTok"]);
  });
});
