import { encodeCursor, type Page } from "../services/pagination.js";

/** A service page as a Relay connection (forward pagination: `first`/`after`). */
export function toConnection<T extends { id: string; createdAt: Date }>(page: Page<T>) {
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.nextCursor !== null,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: page.nextCursor,
    },
  };
}
