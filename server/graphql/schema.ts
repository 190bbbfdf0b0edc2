import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./types/scalars.js";
import "./types/user.js";
import "./types/auth.js";
import "./types/workflow.js";
import "./types/step-type.js";
import "./types/run.js";
import "./types/approval.js";
import "./types/usage.js";
import "./types/version.js";
import "./types/publish.js";
import "./types/workspace.js";
import "./types/connector.js";
import "./types/operations.js";
import "./types/testing.js";
import "./types/template.js";
import "./types/notification.js";

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql for API consumers; CI fails when it is stale. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + "\n";
}
