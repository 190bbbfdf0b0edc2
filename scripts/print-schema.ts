/** Writes schema.graphql from the Pothos schema; `--check` fails when the committed file is stale. */
import { readFileSync, writeFileSync } from "node:fs";
import { printedSchema } from "../server/graphql/schema.js";
import { INTROSPECTION_FILE, renderIntrospection } from "../packages/sdk/scripts/introspection.js";

const target = new URL("../schema.graphql", import.meta.url);
const printed = printedSchema();
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // missing counts as stale
  }
  if (committed !== printed) {
    console.error("schema.graphql is stale: run `npm run schema` and commit the result");
    process.exit(1);
  }
  console.log("schema.graphql is up to date");
} else {
  writeFileSync(target, printed);
  // The typed documents (studio, SDK) follow the schema: their introspection is regenerated with it.
  writeFileSync(INTROSPECTION_FILE, renderIntrospection(printed));
  console.log("wrote schema.graphql and packages/sdk/src/graphql-env.d.ts");
}
