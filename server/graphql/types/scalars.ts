import { GraphQLError, Kind, valueFromASTUntyped } from "graphql";
import { builder } from "../builder.js";

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables ?? undefined),
});

/** A bad DateTime value is the caller's to fix (a `runs` filter, say): BAD_USER_INPUT like every other bad input. */
const badDateTime = () => new GraphQLError("DateTime must be an ISO-8601 string, e.g. 2026-12-01T00:00:00Z", { extensions: { code: "BAD_USER_INPUT" } });

builder.scalarType("DateTime", {
  description: "An ISO-8601 timestamp in UTC.",
  serialize: (value) => (value instanceof Date ? value.toISOString() : value),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw badDateTime();
    return date;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badDateTime();
    return new Date(ast.value);
  },
});
