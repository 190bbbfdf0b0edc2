/**
 * Schema quality (issue #13): graphql-schema-linter's description rules over the schema the server serves (the
 * one `npm run schema` commits as schema.graphql): every type, field, argument, input value and enum value has
 * a capitalised description, deprecations give a reason, and connections follow the Relay connection spec.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { printedSchema } from "../../server/graphql/schema.js";

const RULES = [
  "types-have-descriptions",
  "fields-have-descriptions",
  "arguments-have-descriptions",
  "input-object-values-have-descriptions",
  "enum-values-have-descriptions",
  "descriptions-are-capitalized",
  "deprecations-have-a-reason",
  "relay-connection-types-spec",
  "relay-connection-arguments-spec",
  "relay-page-info-spec",
];

interface LintReport {
  errors: { message: string; location: { line: number }; rule: string }[];
}

async function lint(sdl: string): Promise<LintReport> {
  const cli = path.resolve("node_modules/graphql-schema-linter/lib/cli.js");
  const run = promisify(execFile)(process.execPath, [cli, "--stdin", "--format", "json", "--rules", RULES.join(",")], { timeout: 30_000 });
  run.child.stdin!.end(sdl);
  // The linter exits 1 when it finds something: its report is on stdout either way.
  const { stdout } = await run.catch((failure: { stdout?: string }) => ({ stdout: failure.stdout ?? "" }));
  return JSON.parse(stdout) as LintReport;
}

it("graphql-schema-linter finds an undescribed field in a schema made to have one (the check can fail)", async () => {
  const report = await lint(`"""Reads."""\ntype Query {\n  """Described."""\n  a: Int\n  b: Int\n}\n`);
  expect(report.errors.filter((error) => error.rule === "fields-have-descriptions").map((error) => error.message)).toEqual([
    "The field `Query.b` is missing a description.",
  ]);
});

it("the served schema passes graphql-schema-linter's description, deprecation and Relay rules", async () => {
  const report = await lint(printedSchema());
  expect(report.errors.map((error) => `${error.rule}: ${error.message}`)).toEqual([]);
});
