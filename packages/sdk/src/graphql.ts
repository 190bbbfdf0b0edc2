/**
 * The `graphql()` every document of the SDK and the studio is written with: gql.tada types each document's
 * result and variables from packages/sdk/src/graphql-env.d.ts, generated from schema.graphql
 * (`npm run sdk:introspection`; tests/sdk fails when it is stale). See docs/decisions/0006-typed-documents-gql-tada.md.
 */
import { initGraphQLTada } from "gql.tada";
import type { introspection } from "./graphql-env.js";

export const graphql = initGraphQLTada<{
  introspection: introspection;
  /** Fragments are shared field lists here, not component data boundaries: their fields are read directly. */
  disableMasking: true;
  scalars: {
    /** ISO 8601 strings on the wire. */
    DateTime: string;
    JSON: unknown;
  };
}>();

export type { FragmentOf, ResultOf, VariablesOf, TadaDocumentNode } from "gql.tada";
export { readFragment } from "gql.tada";
