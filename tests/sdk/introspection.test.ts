/**
 * The SDK's and the studio's documents are typed from packages/sdk/src/graphql-env.d.ts; this fails when that
 * file is not what schema.graphql gives (run `npm run sdk:introspection`), so a schema change cannot leave
 * the types behind. The type-check (tests/static) then fails wherever a document no longer fits the schema.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INTROSPECTION_FILE, renderIntrospection } from "../../packages/sdk/scripts/introspection.js";

describe("typed documents", () => {
  it("graphql-env.d.ts is generated from the committed schema.graphql", () => {
    expect(readFileSync(INTROSPECTION_FILE, "utf8") === renderIntrospection(), "graphql-env.d.ts is stale: run `npm run sdk:introspection`").toBe(true);
  });

  it("a schema change shows: the rendering follows schema.graphql", () => {
    const schema = readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    const renamed = schema.replace(/^(\s*)importReport: ImportReport$/m, "$1importSummary: ImportReport");
    expect(renamed).not.toBe(schema);
    expect(renderIntrospection(renamed)).not.toBe(renderIntrospection(schema));
  });
});
