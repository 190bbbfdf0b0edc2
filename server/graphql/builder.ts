import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import type { Caller, ServerDeps } from "../context.js";

/** What every resolver receives. The builder holds no types: each lives in types/<name>.ts. */
export interface GraphQLContext {
  deps: ServerDeps;
  caller: Caller;
  hub: import("../realtime.js").ChannelHub;
  /** Set for query operations only (graphql/request-reads.ts): live documents read once per request. */
  liveReads?: import("../services/workflows.js").LiveWorkflowReads;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date | string };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // Our ids are already global (prefixed, unique across types): no Node interface re-encoding them.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
