import { encodeCursor, isBackward, type Page, type PageArgsInput } from "../services/pagination.js";

/**
 * A service page as a Relay connection (https://relay.dev/graphql/connections.htm), paged forwards
 * (`first` / `after`) or backwards (`last` / `before`). `startCursor` / `endCursor` are the first and last
 * edge's cursors (null without edges). Paging one way, the page knows whether more lie ahead; the other way,
 * a cursor given (`after`, `before`) means items lie behind it.
 */
export function toConnection<T extends { id: string; createdAt: Date }>(page: Page<T>, args: PageArgsInput) {
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node), node }));
  const backward = isBackward(args);
  const moreAhead = page.nextCursor !== null;
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? Boolean(args.before) : moreAhead,
      hasPreviousPage: backward ? moreAhead : Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** The paging arguments of a connection field, as the services take them. */
export const pageArgs = (args: PageArgsInput): PageArgsInput => ({ first: args.first, after: args.after, last: args.last, before: args.before });
