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
    // Connections page forwards (first/after) or backwards (last/before): server/graphql/connection.ts.
    pageInfoTypeOptions: { description: "Where a page of a connection lies in the whole list (Relay cursor connections)." },
    hasNextPageFieldOptions: { description: "More items follow the last edge (when paging backwards: a `before` cursor was given)." },
    hasPreviousPageFieldOptions: { description: "More items precede the first edge (when paging forwards: an `after` cursor was given)." },
    startCursorFieldOptions: { description: "The first edge's cursor; null when the page is empty." },
    endCursorFieldOptions: { description: "The last edge's cursor (pass it as `after` for the next page); null when the page is empty." },
    firstArgOptions: { description: "Page forwards: at most this many items (1–100, 20 by default) after `after`." },
    afterArgOptions: { description: "Page forwards from this cursor (an edge's `cursor` or `pageInfo.endCursor`)." },
    lastArgOptions: { description: "Page backwards: at most this many items (1–100) before `before`, in list order. Not with `first`." },
    beforeArgOptions: { description: "Page backwards from this cursor (an edge's `cursor` or `pageInfo.startCursor`)." },
    defaultConnectionTypeOptions: { description: "One page of a list, newest first." },
    defaultEdgeTypeOptions: { description: "One item of a page, with its cursor." },
    edgesFieldOptions: { description: "The page's items, in list order." },
    pageInfoFieldOptions: { description: "Where this page lies in the whole list." },
    cursorFieldOptions: { description: "An opaque position in the list: page from here with `after` or `before`." },
    nodeFieldOptions: { description: "The item." },
  },
});

builder.queryType({ description: "Reads. Everything is scoped by workspace membership (docs/api.md)." });
builder.mutationType({ description: "Writes. Each needs the role its workspace asks for it (viewers read, editors write, owners manage)." });
builder.subscriptionType({ description: "Live events, over WebSocket (graphql-ws) or SSE." });
