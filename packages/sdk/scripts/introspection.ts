/**
 * packages/sdk/src/graphql-env.d.ts from schema.graphql: the introspection gql.tada types every document
 * with. `--check` fails when the file is not what schema.graphql gives (tests/sdk runs it), so a schema
 * change without a regeneration breaks the build instead of the studio or an SDK user.
 */
import { outputIntrospectionFile } from "@gql.tada/internal";
import { buildSchema, introspectionFromSchema } from "graphql";
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../../../", import.meta.url);
export const INTROSPECTION_FILE = new URL("packages/sdk/src/graphql-env.d.ts", root);

export function renderIntrospection(sdl = readFileSync(new URL("schema.graphql", root), "utf8")): string {
  const introspection = introspectionFromSchema(buildSchema(sdl), { descriptions: false });
  return outputIntrospectionFile(introspection, { fileType: ".d.ts", shouldPreprocess: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rendered = renderIntrospection();
  if (process.argv.includes("--check")) {
    const current = readFileSync(INTROSPECTION_FILE, "utf8");
    if (current !== rendered) {
      console.error("packages/sdk/src/graphql-env.d.ts is stale: run `npm run sdk:introspection`");
      process.exit(1);
    }
    console.log("graphql-env.d.ts is up to date");
  } else {
    writeFileSync(INTROSPECTION_FILE, rendered);
    console.log("wrote packages/sdk/src/graphql-env.d.ts");
  }
}
