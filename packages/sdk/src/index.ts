/** @algorythmos/sdk: the typed GraphQL client of Algorythmos Studio (see docs/api.md, "SDK and CLI"). */
export * from "./client.js";
export * from "./errors.js";
export * as documents from "./documents.js";
export { graphql, readFragment, type FragmentOf, type ResultOf, type VariablesOf, type TadaDocumentNode } from "./graphql.js";
