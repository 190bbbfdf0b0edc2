import type { Page } from "../services/pagination.js";

/** A service page as a Relay connection (forward pagination: `first`/`after`). */
export function toConnection<T extends { id: string }>(page: Page<T>) {
  return {
    edges: page.items.map((node) => ({ cursor: node.id, node })),
    pageInfo: {
      hasNextPage: page.nextCursor !== null,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: page.nextCursor,
    },
  };
}
